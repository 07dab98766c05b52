// An HTTP/1.1 server on one port (civetweb underneath, kept out of this
// header) that hands every request, body read and size-checked, to one
// handler. Bodies larger than `max_body_bytes` get 413 without reaching
// the handler, and without being read into memory.
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
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "exporter/http/http_types.h"

namespace aiq::http {

struct ServerOptions {
  std::string listen = "0.0.0.0:9477";  // HOST:PORT; port 0 = any free port
  int threads = 8;
  int64_t max_body_bytes = 16 << 20;
  // Reading a request's headers, or waiting for more of its body; and a
  // keep-alive connection's idle time between requests.
  int request_timeout_ms = 5000;
  int keep_alive_timeout_ms = 2000;
  // Bytes of request bodies being read, decoded and applied at once; a
  // request whose body would go past it is not read (HttpRequest::
  // overloaded). A body of unknown length (chunked) counts as
  // max_body_bytes.
  int64_t max_inflight_bytes = 64 << 20;
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
  // Stops accepting, finishes in-flight requests, joins the workers.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aiq::http

#endif  // AIQ_EXPORTER_HTTP_SERVER_H_
