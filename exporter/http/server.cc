#include "exporter/http/server.h"

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <iostream>
#include <limits>
#include <optional>
#include <thread>
#include <type_traits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "exporter/http/tls_context.h"
#include "exporter/util/absl_compat.h"

namespace aiq::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace detail {

// What the server keeps of a connection, so Stop can close it.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  virtual ~Connection() = default;
  // Closes the connection once the request being handled (if any) is
  // answered. Runs on the connection's strand.
  virtual void Shutdown() = 0;
  virtual asio::any_io_executor executor() = 0;
};

}  // namespace detail

struct HttpServer::Impl {
  ServerOptions options;
  Handler handler;
  int max_connections = 0;
  int port = 0;

  // What a connection's destructor updates. Declared before the I/O
  // context, whose destruction may destroy the last connections (held by
  // handlers still queued when Stop gave up on them).
  // Bytes of the bodies reserved by the requests being handled.
  std::atomic<int64_t> inflight_bytes{0};
  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  absl::Mutex connections_mu;
  // Every open connection; each removes itself when it ends.
  absl::flat_hash_set<detail::Connection*> open ABSL_GUARDED_BY(connections_mu);

  // Declared before the I/O context, so it outlives every TLS stream.
  std::unique_ptr<asio::ssl::context> tls;
  asio::io_context ioc;
  tcp::acceptor acceptor{asio::make_strand(ioc)};
  asio::steady_timer accept_retry{acceptor.get_executor()};
  // Destroyed before the I/O context: handlers still queued hold
  // connections, whose sockets belong to it.
  std::unique_ptr<asio::thread_pool> body_workers;
  std::unique_ptr<asio::thread_pool> query_workers;
  std::vector<std::thread> io_threads;

  void Accept();
  void OnAccept(const boost::system::error_code& ec, tcp::socket socket);
};

namespace {

constexpr size_t kHeaderLimit = 16 * 1024;
// Bodies above this are screened (ServerOptions::screen) before they are
// read even without "Expect: 100-continue".
constexpr uint64_t kScreenBodiesOver = 64 * 1024;
// A connection refused at the cap gets this and is closed.
constexpr std::string_view kTooManyConnections =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    "Content-Length: 38\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
    R"({"error":"too many open connections"})"
    "\n";

std::string_view ToStd(beast::string_view s) { return {s.data(), s.size()}; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The request target's path with %XX escapes decoded (a malformed escape
// is kept as it is); '+' stays '+' (it means space only in queries).
std::string DecodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%' && i + 2 < path.size()) {
      const int hi = HexDigit(path[i + 1]), lo = HexDigit(path[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(path[i]);
  }
  return out;
}

// Why the request's framing is ambiguous ("" when it is not): with two
// Content-Length headers, or Content-Length and Transfer-Encoding, two
// parsers (a proxy and this server) can disagree on where the body ends,
// and the rest is read as another request (request smuggling; RFC 9112,
// section 6.3). Beast refuses conflicting values itself; this also
// refuses repeated equal ones.
std::string AmbiguousFraming(size_t content_lengths, bool transfer_encoding) {
  if (content_lengths > 1) return "more than one Content-Length header";
  if (content_lengths == 1 && transfer_encoding) {
    return "both Content-Length and Transfer-Encoding";
  }
  return "";
}

std::string AmbiguousFraming(const bhttp::fields& fields) {
  return AmbiguousFraming(fields.count(bhttp::field::content_length),
                          fields.count(bhttp::field::transfer_encoding) > 0);
}

// The same for headers Beast refused: `rest` is what it left unparsed,
// starting at the field it refused; `chunked` whether it had already seen
// "Transfer-Encoding: chunked".
std::string AmbiguousFraming(const boost::system::error_code& ec,
                             std::string_view rest, bool chunked) {
  if (ec == bhttp::error::bad_transfer_encoding) {
    return chunked ? "Transfer-Encoding repeated"
                   : "both Content-Length and Transfer-Encoding";
  }
  if (ec != bhttp::error::bad_content_length) return "";
  if (chunked) return "both Content-Length and Transfer-Encoding";
  // A well-formed value refused: it disagrees with an earlier one.
  const absl::string_view line =
      util::ToAbsl(rest.substr(0, rest.find("\r\n")));
  constexpr absl::string_view kName = "content-length:";
  if (absl::StartsWithIgnoreCase(line, kName)) {
    const absl::string_view value =
        absl::StripAsciiWhitespace(line.substr(kName.size()));
    if (!value.empty() &&
        std::all_of(value.begin(), value.end(), absl::ascii_isdigit)) {
      return "more than one Content-Length header";
    }
  }
  return "invalid Content-Length";
}

HttpResponse ErrorResponse(int status, absl::string_view message) {
  HttpResponse r;
  r.status = status;
  r.body = absl::StrCat(R"({"error":")", message, R"("})", "\n");
  r.headers.emplace_back("Connection", "close");
  return r;
}

// The whole response goes out in one write: status line, headers and body
// written separately meant several small segments per response, and with
// the client's delayed ACK a keep-alive request could wait ~40 ms. HEAD gets
// the headers of the GET response (Content-Length included) and no body.
std::string Serialize(const HttpResponse& r, bool head, bool keep_alive,
                      const ServerOptions& options) {
  const beast::string_view reason =
      bhttp::obsolete_reason(static_cast<bhttp::status>(r.status));
  std::string out =
      absl::StrCat("HTTP/1.1 ", r.status, " ", util::ToAbsl(ToStd(reason)),
                   "\r\n", "Content-Type: ", r.content_type, "\r\n",
                   "Content-Length: ", r.body.size(), "\r\n");
  for (const auto& [name, value] : r.headers) {
    if (name != "Connection") absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  for (const auto& [name, value] : options.response_headers) {
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&out, "Connection: ", keep_alive ? "keep-alive" : "close",
                  "\r\n\r\n");
  if (!head) out += r.body;
  return out;
}

bool AsksToClose(const HttpResponse& r) {
  for (const auto& [name, value] : r.headers) {
    if (name == "Connection" && value == "close") return true;
  }
  return false;
}

// One connection: reads requests one after another (pipelined ones in
// order), hands each to a worker and writes its answer. Every step runs on
// the connection's strand; the handler runs on a worker pool.
template <class Stream>
class Session final : public detail::Connection {
 public:
  Session(HttpServer::Impl& server, Stream stream)
      : server_(server), stream_(std::move(stream)) {}

  ~Session() override {
    {
      absl::MutexLock lock(&server_.connections_mu);
      server_.open.erase(this);
    }
    server_.connections.fetch_sub(1);
    Release();
  }

  void Start() {
    {
      absl::MutexLock lock(&server_.connections_mu);
      server_.open.insert(this);
    }
    asio::dispatch(stream_.get_executor(), [self = Self()] { self->Begin(); });
  }

  void Shutdown() override {
    closing_ = true;
    // Waiting for a request: stop waiting. Otherwise the answer being
    // made is still written, with "Connection: close".
    if (state_ == State::kWaiting) Lowest().cancel();
  }

  asio::any_io_executor executor() override { return stream_.get_executor(); }

 private:
  enum class State { kWaiting, kBusy };

  std::shared_ptr<Session> Self() {
    return std::static_pointer_cast<Session>(shared_from_this());
  }
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }
  std::chrono::milliseconds RequestTimeout() const {
    return std::chrono::milliseconds(server_.options.request_timeout_ms);
  }
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void Begin() {
    if constexpr (kTls) {
      Lowest().expires_after(RequestTimeout());
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          [self = Self()](const boost::system::error_code& ec) {
            if (!ec) self->WaitForRequest();
          });
    } else {
      WaitForRequest();
    }
  }

  // Waits (up to the keep-alive timeout, or the request timeout before
  // the first request) for a request's first bytes; the headers then have
  // the request timeout to arrive.
  void WaitForRequest() {
    state_ = State::kWaiting;
    if (closing_ || server_.stopping.load()) return Close();
    if (buffer_.size() > 0) return ReadHeader();  // pipelined
    // A large body grew the buffer; an idle connection keeps little.
    if (buffer_.capacity() > kHeaderLimit) buffer_.shrink_to_fit();
    Lowest().expires_after(
        first_request_
            ? RequestTimeout()
            : std::chrono::milliseconds(server_.options.keep_alive_timeout_ms));
    stream_.async_read_some(
        buffer_.prepare(4096),
        [self = Self()](const boost::system::error_code& ec, size_t n) {
          if (ec) return;  // closed, idle too long, or stopped
          self->buffer_.commit(n);
          self->ReadHeader();
        });
  }

  void ReadHeader() {
    request_ = HttpRequest();
    has_body_ = false;
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    // Checked when the body is read: a declared length over the limit is
    // answered by the handler (413), not refused as a parse error.
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    Lowest().expires_after(RequestTimeout());
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = Self()](const boost::system::error_code& ec, size_t) {
          self->OnHeader(ec);
        });
  }

  void OnHeader(const boost::system::error_code& ec) {
    state_ = State::kBusy;
    if (ec) {
      const bool refused_by_parser =
          ec.category() ==
              bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
          ec != bhttp::error::end_of_stream &&
          ec != bhttp::error::partial_message;
      if (!refused_by_parser) return;  // went away, or took too long
      if (ec == bhttp::error::header_limit) {
        return Respond(ErrorResponse(431, "request headers too large"));
      }
      const std::string why = AmbiguousFraming(
          ec,
          std::string_view(static_cast<const char*>(buffer_.data().data()),
                           buffer_.size()),
          parser_->chunked());
      return Respond(ErrorResponse(
          400, why.empty() ? absl::StrCat("malformed request: ", ec.message())
                           : absl::StrCat("request framing: ", why)));
    }
    const auto& message = parser_->get();
    if (const std::string why = AmbiguousFraming(message.base());
        !why.empty()) {
      // Refused before the handler, and the connection closed, so nothing
      // after these headers is read as a request.
      return Respond(
          ErrorResponse(400, absl::StrCat("request framing: ", why)));
    }
    request_.method = std::string(ToStd(message.method_string()));
    const std::string_view target = ToStd(message.target());
    const size_t q = target.find('?');
    request_.path = DecodePath(target.substr(0, q));
    if (q != std::string_view::npos) request_.query = target.substr(q + 1);
    request_.header = [this](const char* name) -> std::string_view {
      const auto& fields = parser_->get();
      const auto it = fields.find(name);
      return it == fields.end() ? std::string_view() : ToStd(it->value());
    };
    has_body_ = !parser_->is_done();
    if (!has_body_) return Dispatch();

    // Backpressure: a body is read only while the bodies in flight fit in
    // the bound; otherwise the handler answers at once (429) and the
    // connection closes with the body unread.
    const int64_t limit = server_.options.max_body_bytes;
    const boost::optional<uint64_t> length = parser_->content_length();
    if (length && *length > static_cast<uint64_t>(limit)) {
      request_.body_too_large = true;  // never read: reserves nothing
      return Dispatch();
    }
    const int64_t reserve = length ? static_cast<int64_t>(*length) : limit;
    if (server_.inflight_bytes.fetch_add(reserve) + reserve >
        server_.options.max_inflight_bytes) {
      server_.inflight_bytes.fetch_sub(reserve);
      request_.overloaded = true;
      return Dispatch();
    }
    reserved_ = reserve;
    const bool expects_continue = absl::EqualsIgnoreCase(
        util::ToAbsl(ToStd(message[bhttp::field::expect])), "100-continue");
    if (server_.options.screen &&
        (expects_continue || !length || *length > kScreenBodiesOver)) {
      return Screen(expects_continue);
    }
    ReadBody(expects_continue);
  }

  // Asks ServerOptions::screen, on a worker, whether the body is wanted.
  void Screen(bool expects_continue) {
    asio::post(Workers(), [self = Self(), expects_continue] {
      std::optional<HttpResponse> refusal =
          self->server_.options.screen(self->request_);
      asio::post(self->stream_.get_executor(),
                 [self, expects_continue, refusal = std::move(refusal)] {
                   if (refusal) return self->Respond(*refusal, true);
                   self->ReadBody(expects_continue);
                 });
    });
  }

  void ReadBody(bool expects_continue) {
    parser_->body_limit(static_cast<uint64_t>(server_.options.max_body_bytes));
    if (expects_continue) {
      // curl and libcurl ask for this before large bodies, and wait 1 s
      // for it before sending anyway (RFC 9110, section 10.1.1).
      static constexpr std::string_view kContinue =
          "HTTP/1.1 100 Continue\r\n\r\n";
      Lowest().expires_after(RequestTimeout());
      asio::async_write(
          stream_, asio::buffer(kContinue),
          [self = Self()](const boost::system::error_code& ec, size_t) {
            if (!ec) self->ReadSomeBody();
          });
      return;
    }
    ReadSomeBody();
  }

  // The body arrives in pieces; each may take up to the request timeout.
  void ReadSomeBody() {
    Lowest().expires_after(RequestTimeout());
    bhttp::async_read_some(
        stream_, buffer_, *parser_,
        [self = Self()](const boost::system::error_code& ec, size_t) {
          if (ec == bhttp::error::body_limit) {
            self->request_.body_too_large = true;  // chunked, past the limit
            return self->Dispatch();
          }
          if (ec) return;
          if (!self->parser_->is_done()) return self->ReadSomeBody();
          self->request_.body = std::move(self->parser_->get().body());
          self->Dispatch();
        });
  }

  // Requests with a body go to one pool, the rest to the other, so
  // scrapes and health checks never queue behind ingest.
  asio::thread_pool& Workers() {
    return has_body_ ? *server_.body_workers : *server_.query_workers;
  }

  void Dispatch() {
    asio::post(Workers(), [self = Self()] {
      HttpResponse r = self->server_.handler(self->request_);
      self->Release();
      asio::post(
          self->stream_.get_executor(),
          [self, r = std::move(r)]() mutable { self->Respond(std::move(r)); });
    });
  }

  void Release() {
    if (reserved_ > 0) server_.inflight_bytes.fetch_sub(reserved_);
    reserved_ = 0;
  }

  // Writes the answer; the connection stays open when both sides want it
  // and the request was read whole.
  void Respond(HttpResponse r, bool body_unread = false) {
    Release();
    const bool unread = body_unread || request_.body_too_large ||
                        request_.overloaded || !parser_ ||
                        !parser_->is_header_done() ||
                        (has_body_ && !parser_->is_done());
    keep_alive_ = !unread && parser_->get().keep_alive() && !AsksToClose(r) &&
                  !closing_ && !server_.stopping.load();
    out_ =
        Serialize(r, request_.method == "HEAD", keep_alive_, server_.options);
    Lowest().expires_after(RequestTimeout());
    asio::async_write(
        stream_, asio::buffer(out_),
        [self = Self()](const boost::system::error_code& ec, size_t) {
          if (ec) return;
          self->out_.clear();
          if (!self->keep_alive_) return self->Close();
          self->first_request_ = false;
          self->parser_.reset();
          self->WaitForRequest();
        });
  }

  // Ends the connection. What the client sent and we did not read (a
  // refused body) is drained for a moment first: closing a socket with
  // unread data sends a reset, which can destroy the answer before the
  // client reads it.
  void Close() {
    if constexpr (kTls) {
      Lowest().expires_after(std::chrono::seconds(1));
      stream_.async_shutdown([self = Self()](const boost::system::error_code&) {
        self->Lowest().close();
      });
    } else {
      boost::system::error_code ignored;
      Lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      Lowest().expires_after(std::chrono::seconds(2));
      Drain();
    }
  }

  void Drain() {
    Lowest().async_read_some(
        asio::buffer(drain_),
        [self = Self()](const boost::system::error_code& ec, size_t) {
          if (ec) return self->Lowest().close();  // EOF, timeout or error
          self->Drain();
        });
  }

  HttpServer::Impl& server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  HttpRequest request_;
  std::string out_;
  std::array<char, 4096> drain_;
  int64_t reserved_ = 0;  // bytes of inflight_bytes this request holds
  State state_ = State::kWaiting;
  bool has_body_ = false;
  bool keep_alive_ = false;
  bool first_request_ = true;
  bool closing_ = false;
};

// Raises the soft limit on open files to the hard one (as Go's runtime
// does), and returns how many connections it leaves room for: the state
// store, the log segments and the listener need some too.
int ConnectionsTheFileLimitAllows() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1 << 20;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur == RLIM_INFINITY) return 1 << 20;
  const auto room = static_cast<int64_t>(limit.rlim_cur) - 256;
  return static_cast<int>(std::clamp<int64_t>(room, 16, 1 << 20));
}

// Splits HOST:PORT ("[v6]:PORT" too).
bool SplitHostPort(const std::string& listen, std::string& host,
                   unsigned short& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  const std::string p = listen.substr(colon + 1);
  if (p.empty() || p.size() > 5 || !std::all_of(p.begin(), p.end(), [](char c) {
        return c >= '0' && c <= '9';
      })) {
    return false;
  }
  const int value = std::stoi(p);
  if (value > 65535) return false;
  port = static_cast<unsigned short>(value);
  return true;
}

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(
      asio::make_strand(ioc),
      [this](const boost::system::error_code& ec, tcp::socket socket) {
        OnAccept(ec, std::move(socket));
      });
}

void HttpServer::Impl::OnAccept(const boost::system::error_code& ec,
                                tcp::socket socket) {
  if (ec == asio::error::operation_aborted || stopping.load()) return;
  if (ec) {
    // Out of file descriptors (or another transient failure): try again
    // shortly rather than spinning.
    std::cerr << "http: accept: " << ec.message() << "\n";
    accept_retry.expires_after(std::chrono::milliseconds(50));
    accept_retry.async_wait([this](const boost::system::error_code& wait_ec) {
      if (!wait_ec) Accept();
    });
    return;
  }
  if (connections.fetch_add(1) >= max_connections) {
    // Answered, not queued: the client learns at once to come back later.
    connections.fetch_sub(1);
    boost::system::error_code ignored;
    socket.non_blocking(true, ignored);
    socket.write_some(asio::buffer(kTooManyConnections), ignored);
    socket.shutdown(tcp::socket::shutdown_send, ignored);
    socket.close(ignored);
  } else {
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    beast::tcp_stream stream(std::move(socket));
    if (tls != nullptr) {
      using TlsStream = beast::ssl_stream<beast::tcp_stream>;
      std::make_shared<Session<TlsStream>>(*this,
                                           TlsStream(std::move(stream), *tls))
          ->Start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(*this, std::move(stream))
          ->Start();
    }
  }
  Accept();
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const ServerOptions& options, Handler handler) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  impl->max_connections =
      std::min(options.max_connections, ConnectionsTheFileLimitAllows());
  if (options.tls) {
    absl::StatusOr<std::unique_ptr<asio::ssl::context>> ctx =
        detail::MakeTlsContext(*options.tls);
    if (!ctx.ok()) return ctx.status();
    impl->tls = *std::move(ctx);
  }
  std::string host;
  unsigned short port = 0;
  boost::system::error_code ec;
  const auto cannot_listen = [&](absl::string_view why) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, ": ", why));
  };
  if (!SplitHostPort(options.listen, host, port)) {
    return cannot_listen("not HOST:PORT");
  }
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    return cannot_listen(absl::StrCat("\"", host, "\" is not an IP address"));
  }
  const tcp::endpoint endpoint(address, port);
  tcp::acceptor& acceptor = impl->acceptor;
  if (acceptor.open(endpoint.protocol(), ec) ||
      acceptor.set_option(asio::socket_base::reuse_address(true), ec) ||
      acceptor.bind(endpoint, ec) ||
      acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
    return cannot_listen(ec.message());
  }
  impl->port = acceptor.local_endpoint(ec).port();
  impl->body_workers =
      std::make_unique<asio::thread_pool>(std::max(1, options.threads));
  impl->query_workers =
      std::make_unique<asio::thread_pool>(std::max(1, options.query_threads));
  impl->Accept();
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    impl->io_threads.emplace_back([ioc = &impl->ioc] { ioc->run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->port; }

int HttpServer::connections() const { return impl_->connections.load(); }

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (s.stopping.exchange(true)) return;
  asio::dispatch(s.acceptor.get_executor(), [&s] {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_retry.cancel();
  });
  // Collected under the lock, released after it: the last reference to a
  // connection ends it, and its destructor takes the lock.
  std::vector<std::shared_ptr<detail::Connection>> open;
  {
    absl::MutexLock lock(&s.connections_mu);
    for (detail::Connection* c : s.open) {
      if (auto alive = c->weak_from_this().lock()) open.push_back(alive);
    }
  }
  for (auto& c : open) asio::post(c->executor(), [c] { c->Shutdown(); });
  open.clear();
  // The requests being handled finish and are answered; then every
  // connection has closed (or is given up after a few seconds).
  s.body_workers->join();
  s.query_workers->join();
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (s.connections.load() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  s.ioc.stop();
  for (std::thread& t : s.io_threads) t.join();
  s.io_threads.clear();
}

}  // namespace aiq::http
