// A minimal blocking HTTP/1.1 client for tests: one request per connection,
// loopback only. Not for production use.
//
// Example, given `int port` and `const std::string& body`:
//   #include <gtest/gtest.h>
//   TestResponse r = HttpFetch(port, "POST", "/api/v1/labels", body,
//                              {{"Content-Type", "application/x-ndjson"}});
//   EXPECT_EQ(r.status, 200);
#ifndef AIQ_EXPORTER_HTTP_TEST_CLIENT_H_
#define AIQ_EXPORTER_HTTP_TEST_CLIENT_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace aiq::http {

struct TestResponse {
  int status = 0;                              // 0: connection failed
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

TestResponse HttpFetch(
    int port, const std::string& method, const std::string& target,
    const std::string& body = "",
    const std::vector<std::pair<std::string, std::string>>& headers = {});

}  // namespace aiq::http

#endif  // AIQ_EXPORTER_HTTP_TEST_CLIENT_H_
