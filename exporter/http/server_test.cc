#include "exporter/http/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "exporter/http/test_client.h"

namespace aiq::http {
namespace {

using ::testing::HasSubstr;

std::unique_ptr<HttpServer> StartEcho(int64_t max_body = 1024) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.threads = 4;
  o.max_body_bytes = max_body;
  auto s = HttpServer::Start(o, [](const HttpRequest& r) {
    HttpResponse resp;
    if (r.body_too_large) {
      resp.status = 413;
      resp.body = "too large";
      return resp;
    }
    resp.content_type = "text/plain";
    resp.body = r.method + " " + r.path + "?" + r.query + " [" +
                std::string(r.header("X-Test")) + "] " + r.body;
    resp.headers.emplace_back("X-Reply", "yes");
    return resp;
  });
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

TEST(HttpServerTest, RoutesEverythingToTheHandler) {
  auto server = StartEcho();
  ASSERT_NE(server, nullptr);
  ASSERT_GT(server->port(), 0);
  TestResponse r =
      HttpFetch(server->port(), "POST", "/a/b?x=1", "hello", {{"X-Test", "t"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "POST /a/b?x=1 [t] hello");
  EXPECT_EQ(r.headers["x-reply"], "yes");
  EXPECT_EQ(r.headers["content-type"], "text/plain");
}

TEST(HttpServerTest, HeadGetsHeadersWithoutBody) {
  auto server = StartEcho();
  ASSERT_NE(server, nullptr);
  TestResponse r = HttpFetch(server->port(), "HEAD", "/x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.headers["content-length"], "12");  // "HEAD /x? [] "
}

TEST(HttpServerTest, OversizedBodyIs413WithoutReachingMemory) {
  auto server = StartEcho(/*max_body=*/100);
  ASSERT_NE(server, nullptr);
  TestResponse r =
      HttpFetch(server->port(), "POST", "/x", std::string(5000, 'a'));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body, "too large");
  // The server keeps serving.
  EXPECT_EQ(HttpFetch(server->port(), "GET", "/ok").status, 200);
}

TEST(HttpServerTest, ConcurrentClients) {
  auto server = StartEcho();
  ASSERT_NE(server, nullptr);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        if (HttpFetch(server->port(), "GET", "/").status == 200) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
}

TEST(HttpServerTest, PortInUseIsAClearError) {
  auto first = StartEcho();
  ASSERT_NE(first, nullptr);
  ServerOptions o;
  o.listen = "127.0.0.1:" + std::to_string(first->port());
  auto second =
      HttpServer::Start(o, [](const HttpRequest&) { return HttpResponse{}; });
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("cannot listen on 127.0.0.1:"));
}

}  // namespace
}  // namespace aiq::http
