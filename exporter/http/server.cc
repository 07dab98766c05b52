#include "exporter/http/server.h"

#include <civetweb.h>

#include <atomic>
#include <cstring>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace aiq::http {

struct HttpServer::Impl {
  ServerOptions options;
  Handler handler;
  // Bytes of the bodies reserved by the requests being handled.
  std::atomic<int64_t> inflight_bytes{0};
  mg_context* ctx = nullptr;
  int port = 0;
};

namespace {

// Whether the client lets the connection stay open after this request:
// what it asked for in "Connection", else its HTTP version's default (as
// civetweb decides; RFC 9112, section 9.3).
bool ClientKeepsAlive(mg_connection* conn) {
  if (const char* c = mg_get_header(conn, "Connection"); c != nullptr) {
    return absl::AsciiStrToLower(c).find("keep-alive") != std::string::npos;
  }
  const char* version = mg_get_request_info(conn)->http_version;
  return version != nullptr && std::string_view(version) == "1.1";
}

// The whole response goes out in one write: status line, headers and body
// written separately meant several small segments per response, and with
// the client's delayed ACK a keep-alive request could wait ~40 ms. HEAD gets
// the headers of the GET response (Content-Length included) and no body.
void Send(mg_connection* conn, const HttpResponse& r, bool head) {
  const char* reason = mg_get_response_code_text(conn, r.status);
  std::string out =
      absl::StrCat("HTTP/1.1 ", r.status, " ", reason != nullptr ? reason : "",
                   "\r\n", "Content-Type: ", r.content_type, "\r\n",
                   "Content-Length: ", r.body.size(), "\r\n");
  bool close = !ClientKeepsAlive(conn);
  for (const auto& [name, value] : r.headers) {
    if (name == "Connection") {
      close |= value == "close";
      continue;
    }
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  // What the header says, civetweb does.
  if (close) mg_disable_connection_keep_alive(conn);
  absl::StrAppend(&out, "Connection: ", close ? "close" : "keep-alive", "\r\n");
  absl::StrAppend(&out, "\r\n");
  if (!head) out += r.body;
  mg_write(conn, out.data(), out.size());
}

// Reads the whole body, or returns false when it exceeds `limit`.
bool ReadBody(mg_connection* conn, int64_t limit, std::string& body) {
  char buf[64 * 1024];
  for (;;) {
    const int n = mg_read(conn, buf, sizeof(buf));
    if (n <= 0) return true;
    if (static_cast<int64_t>(body.size()) + n > limit) return false;
    body.append(buf, static_cast<size_t>(n));
  }
}

// Why the request's framing is ambiguous ("" when it is not): with two
// Content-Length headers, or Content-Length and Transfer-Encoding, two
// parsers (a proxy and this server) can disagree on where the body ends,
// and the rest is read as another request (request smuggling; RFC 9112,
// section 6.3).
std::string AmbiguousFraming(const mg_request_info& info) {
  int lengths = 0;
  bool transfer_encoding = false;
  for (int i = 0; i < info.num_headers; ++i) {
    const char* name = info.http_headers[i].name;
    if (name == nullptr) continue;
    lengths += absl::EqualsIgnoreCase(name, "Content-Length") ? 1 : 0;
    transfer_encoding |= absl::EqualsIgnoreCase(name, "Transfer-Encoding");
  }
  if (lengths > 1) return "more than one Content-Length header";
  if (lengths == 1 && transfer_encoding) {
    return "both Content-Length and Transfer-Encoding";
  }
  return "";
}

// Whether the client waits for "100 Continue" before sending its body.
bool ExpectsContinue(mg_connection* conn) {
  const char* expect = mg_get_header(conn, "Expect");
  return expect != nullptr && absl::EqualsIgnoreCase(expect, "100-continue");
}

int HandleRequest(mg_connection* conn, void* data) {
  auto* impl = static_cast<HttpServer::Impl*>(data);
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest req;
  req.method = info->request_method != nullptr ? info->request_method : "";
  req.path = info->local_uri != nullptr ? info->local_uri : "/";
  req.query = info->query_string != nullptr ? info->query_string : "";
  req.header = [conn](const char* name) -> std::string_view {
    const char* v = mg_get_header(conn, name);
    return v != nullptr ? std::string_view(v) : std::string_view();
  };
  if (const std::string why = AmbiguousFraming(*info); !why.empty()) {
    // Refused before the handler, and the connection closed, so nothing
    // after these headers is read as a request.
    HttpResponse r;
    r.status = 400;
    r.content_type = "application/json";
    r.body = absl::StrCat(R"({"error":"request framing: )", why, R"("})");
    r.headers.emplace_back("Connection", "close");
    Send(conn, r, /*head=*/false);
    return r.status;
  }
  const int64_t limit = impl->options.max_body_bytes;
  // Backpressure: a body is read only while the bodies in flight fit in
  // the bound; otherwise the handler answers at once (429) and the
  // connection closes with the body unread.
  const bool too_large = info->content_length > limit;
  int64_t reserve = 0;  // an oversized body is never read: nothing
  if (!too_large && info->content_length > 0) {
    reserve = info->content_length;
  } else if (info->content_length < 0 &&
             mg_get_header(conn, "Transfer-Encoding") != nullptr) {
    reserve = limit;  // chunked: as much as it may turn out to be
  }
  struct Reservation {
    std::atomic<int64_t>& inflight;
    int64_t bytes = 0;
    ~Reservation() { inflight.fetch_sub(bytes); }
  } reservation{impl->inflight_bytes};
  if (reserve > 0) {
    if (impl->inflight_bytes.fetch_add(reserve) + reserve >
        impl->options.max_inflight_bytes) {
      impl->inflight_bytes.fetch_sub(reserve);
      req.overloaded = true;
    } else {
      reservation.bytes = reserve;
    }
  }
  // Oversized bodies are refused before (or while) reading them; the
  // handler still sees the request so it can answer 413 and count it.
  if (too_large) {
    req.body_too_large = true;
  } else if (!req.overloaded) {
    if (ExpectsContinue(conn)) {
      // curl and libcurl ask for this before large bodies, and wait 1 s
      // for it before sending anyway (RFC 9110, section 10.1.1).
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      mg_write(conn, kContinue, sizeof(kContinue) - 1);
    }
    if (info->content_length > 0) {
      req.body.reserve(static_cast<size_t>(info->content_length));
    }
    req.body_too_large = !ReadBody(conn, limit, req.body);
  }
  if (req.body_too_large) req.body.clear();
  HttpResponse r = impl->handler(req);
  if (req.body_too_large || req.overloaded) {
    // The rest of the body is still on the wire: don't reuse the connection.
    r.headers.emplace_back("Connection", "close");
  }
  Send(conn, r, req.method == "HEAD");
  return r.status;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    const ServerOptions& options, Handler handler) {
  static std::once_flag init;
  std::call_once(init, [] { mg_init_library(0); });

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->handler = std::move(handler);
  const std::string threads = std::to_string(options.threads);
  const std::string request_timeout =
      std::to_string(options.request_timeout_ms);
  const std::string keep_alive_timeout =
      std::to_string(options.keep_alive_timeout_ms);
  const char* mg_options[] = {"listening_ports",
                              options.listen.c_str(),
                              "num_threads",
                              threads.c_str(),
                              "enable_keep_alive",
                              "yes",
                              "tcp_nodelay",
                              "1",
                              "keep_alive_timeout_ms",
                              keep_alive_timeout.c_str(),
                              "request_timeout_ms",
                              request_timeout.c_str(),
                              nullptr};
  // No callbacks: civetweb logs its own errors (e.g. a busy port) to stderr.
  mg_callbacks callbacks;
  std::memset(&callbacks, 0, sizeof(callbacks));
  impl->ctx = mg_start(&callbacks, impl.get(), mg_options);
  if (impl->ctx == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (address in use, not local, or not HOST:PORT)"));
  }
  mg_set_request_handler(impl->ctx, "/", HandleRequest, impl.get());
  mg_server_port ports[4];
  std::memset(ports, 0, sizeof(ports));
  if (mg_get_server_ports(impl->ctx, 4, ports) > 0) impl->port = ports[0].port;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->port; }

void HttpServer::Stop() {
  if (impl_->ctx != nullptr) {
    mg_stop(impl_->ctx);
    impl_->ctx = nullptr;
  }
}

}  // namespace aiq::http
