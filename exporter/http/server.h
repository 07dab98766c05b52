// An HTTP/1.1 server on one port that hands every request, body read and
// size-checked, to one handler. Event-driven (Boost.Beast over Asio, kept
// out of this header): a few I/O threads hold every connection, so idle or
// slow clients cost a socket and a few KiB, never a thread. Handlers run on
// two worker pools: requests with a body (ingest) on one, the rest
// (scrapes, health checks, queries) on the other, so a flood of ingest
// never delays /metrics. Bodies larger than `max_body_bytes` get 413
// without reaching the handler's memory; past `max_inflight_bytes` of
// bodies in flight a request is refused unread (HttpRequest::overloaded).
// Optional TLS (with client certificates) follows the Prometheus
// exporter-toolkit's settings.
//
// Example:
//   absl::StatusOr<std::unique_ptr<HttpServer>> s = HttpServer::Start(
//       {.listen = "127.0.0.1:0", .threads = 4, .max_body_bytes = 1 << 20},
//       [](const HttpRequest& r) {
//         return HttpResponse{.status = 200, .content_type = "text/plain",
//                             .body = "hello " + r.path, .headers = {}};
//       });
//   int port = (*s)->port();
//   (*s)->Stop();   // also done by the destructor
#ifndef AIQ_EXPORTER_HTTP_SERVER_H_
#define AIQ_EXPORTER_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/http/http_types.h"

namespace aiq::http {

// Go's tls.ClientAuthType (the exporter-toolkit's client_auth_type).
enum class ClientAuthType {
  kNoClientCert,
  kRequestClientCert,     // asked for, not required, not verified
  kRequireAnyClientCert,  // required, not verified
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};
// Whether a presented client certificate must chain to a trusted CA
// (VerifyClientCertIfGiven, RequireAndVerifyClientCert). The other types
// request or require a certificate but accept any.
inline bool VerifiesClientCert(ClientAuthType type) {
  return type == ClientAuthType::kVerifyClientCertIfGiven ||
         type == ClientAuthType::kRequireAndVerifyClientCert;
}
// Whether the handshake fails without a client certificate.
inline bool RequiresClientCert(ClientAuthType type) {
  return type == ClientAuthType::kRequireAnyClientCert ||
         type == ClientAuthType::kRequireAndVerifyClientCert;
}

// In increasing order, so versions compare with < and >.
enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

// TLS as the exporter-toolkit's tls_server_config describes it, in
// OpenSSL's terms (web_config.h reads the file and converts it; see
// docs/web_config.md).
struct TlsOptions {
  // Each from a PEM file, or inline PEM text when the file is empty.
  std::string cert_file, cert_pem;  // the leaf, then its chain
  std::string key_file, key_pem;
  // CA bundle that client certificates are verified against; with neither,
  // a verifying client_auth uses the system's trusted CAs.
  std::string client_ca_file, client_ca_pem;
  ClientAuthType client_auth = ClientAuthType::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // OpenSSL names: suites for TLS 1.2 and older (SSL_CTX_set_cipher_list)
  // and for TLS 1.3 (SSL_CTX_set_ciphersuites), groups
  // (SSL_CTX_set1_groups_list); empty = OpenSSL's defaults.
  std::vector<std::string> cipher_list;
  std::vector<std::string> tls13_suites;
  std::vector<std::string> groups;
  bool prefer_server_cipher_suites = true;
};

struct ServerOptions {
  std::string listen = "0.0.0.0:9477";  // HOST:PORT; port 0 = any free port
  // Workers for requests with a body (ingest: decoding, applying, waiting
  // for the state log's sync).
  int threads = 8;
  // Workers for requests without one (scrapes, health, queries).
  int query_threads = 2;
  // Threads that run the event loop (accept, TLS, read, write).
  int io_threads = 2;
  int64_t max_body_bytes = 16 << 20;
  // A request's headers must arrive within request_timeout_ms of its first
  // byte, and its body may pause no longer than that; a connection waits
  // keep_alive_timeout_ms between requests (request_timeout_ms for the
  // first one, and for a TLS handshake).
  int request_timeout_ms = 5000;
  int keep_alive_timeout_ms = 2000;
  // Bytes of request bodies being read, decoded and applied at once; a
  // request whose body would go past it is not read (HttpRequest::
  // overloaded). A body of unknown length (chunked) counts as
  // max_body_bytes.
  int64_t max_inflight_bytes = 64 << 20;
  // Open connections beyond this are answered 503 with Retry-After and
  // closed at once. Lowered to what the process's file limit allows.
  int max_connections = 10000;
  // Headers added to every response (http_server_config.headers).
  std::vector<std::pair<std::string, std::string>> response_headers;
  std::optional<TlsOptions> tls;
  // Called, on a worker, with the headers of a request whose body is not
  // read yet when the client waits for "100 Continue" or the body is
  // large (over 64 KiB, or chunked): a response returned is sent instead
  // of reading the body (and the connection closes), so a request that
  // would be refused anyway (401, 404, 415) costs no body.
  std::function<std::optional<HttpResponse>(const HttpRequest&)> screen;
};

class HttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const ServerOptions& options, Handler handler);
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (useful with port 0).
  int port() const;
  // Connections open now.
  int connections() const;
  // Stops accepting, finishes the requests being handled, closes every
  // connection and joins the threads.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aiq::http

#endif  // AIQ_EXPORTER_HTTP_SERVER_H_
