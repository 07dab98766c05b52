// Plain request/response values exchanged between the HTTP server and the
// application, so handlers never see the server's (Boost.Beast) types.
#ifndef AIQ_EXPORTER_HTTP_HTTP_TYPES_H_
#define AIQ_EXPORTER_HTTP_HTTP_TYPES_H_

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aiq::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded path without the query string
  std::string query;   // raw query string, without '?'
  std::string body;
  // The body exceeded the server's limit and was not read; answer 413.
  bool body_too_large = false;
  // The body was not read: with it, the bodies in flight would exceed the
  // server's bound (ServerOptions::max_inflight_bytes); answer 429.
  bool overloaded = false;
  // Looks a request header up by name (case-insensitive); "" when absent.
  std::function<std::string_view(const char*)> header;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace aiq::http

#endif  // AIQ_EXPORTER_HTTP_HTTP_TYPES_H_
