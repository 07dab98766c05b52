#include "exporter/http/server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "exporter/http/test_client.h"

namespace aiq::http {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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

// A socket connected to 127.0.0.1:`port`, for requests written by hand.
int ConnectLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  return fd;
}

// A client that sends the headers with "Expect: 100-continue" and then
// waits, as curl does: what the server says within `wait`.
std::string AfterHeaders(int port, const std::string& headers,
                         absl::Duration wait) {
  const int fd = ConnectLoopback(port);
  EXPECT_EQ(::send(fd, headers.data(), headers.size(), 0),
            static_cast<ssize_t>(headers.size()));
  std::string got;
  const absl::Time deadline = absl::Now() + wait;
  while (absl::Now() < deadline && got.find("\r\n\r\n") == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  if (got.rfind("HTTP/1.1 100", 0) == 0) {
    // Send the body and read the final answer too.
    const std::string body = "hello";
    EXPECT_EQ(::send(fd, body.data(), body.size(), 0), 5);
    const absl::Time end = absl::Now() + absl::Seconds(5);
    while (absl::Now() < end &&
           got.find("hello", got.find("200")) == std::string::npos) {
      char buf[4096];
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return got;
}

TEST(HttpServerTest, ExpectContinueIsAnsweredBeforeTheBody) {
  auto server = StartEcho(/*max_body=*/100);
  ASSERT_NE(server, nullptr);
  std::string got = AfterHeaders(server->port(),
                                 "POST /x HTTP/1.1\r\nHost: t\r\n"
                                 "Content-Length: 5\r\n"
                                 "Expect: 100-Continue\r\n\r\n",
                                 absl::Milliseconds(500));
  EXPECT_EQ(got.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0),
            0u)
      << got;
  EXPECT_THAT(got, HasSubstr("POST /x? [] hello"));
  // Too large: the final status at once, no 100, the body never read.
  got = AfterHeaders(server->port(),
                     "POST /x HTTP/1.1\r\nHost: t\r\n"
                     "Content-Length: 5000\r\n"
                     "Expect: 100-continue\r\n\r\n",
                     absl::Milliseconds(500));
  EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << got;
}

// Sends `request` as it is and reads until the server closes the
// connection or `wait` has passed; `closed` says which.
std::string Exchange(int port, const std::string& request, absl::Duration wait,
                     bool* closed) {
  const int fd = ConnectLoopback(port);
  EXPECT_EQ(::send(fd, request.data(), request.size(), 0),
            static_cast<ssize_t>(request.size()));
  std::string got;
  *closed = false;
  const absl::Time deadline = absl::Now() + wait;
  while (absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

TEST(HttpServerTest, AmbiguousFramingIs400AndNothingAfterItIsARequest) {
  auto server = StartEcho();
  ASSERT_NE(server, nullptr);
  const std::string smuggled = "GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n";
  struct {
    std::string headers;
    std::string why;
  } cases[] = {
      {"Content-Length: 5\r\nContent-Length: 43\r\n\r\nhello",
       "more than one Content-Length header"},
      {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       "both Content-Length and Transfer-Encoding"},
  };
  for (const auto& c : cases) {
    bool closed = false;
    const std::string got =
        Exchange(server->port(),
                 "POST /x HTTP/1.1\r\nHost: t\r\n" + c.headers + smuggled,
                 absl::Seconds(5), &closed);
    EXPECT_EQ(got.rfind("HTTP/1.1 400 ", 0), 0u) << got;
    EXPECT_THAT(got, HasSubstr("request framing: " + c.why));
    EXPECT_THAT(got, HasSubstr("Connection: close\r\n"));
    EXPECT_THAT(got, Not(HasSubstr("smuggled")));
    EXPECT_TRUE(closed);
  }
}

TEST(HttpServerTest, ConnectionHeaderSaysWhatHappens) {
  auto server = StartEcho();
  ASSERT_NE(server, nullptr);
  struct {
    std::string request;
    bool keep_alive;
  } cases[] = {
      {"GET /x HTTP/1.0\r\n\r\n", false},
      {"GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET /x HTTP/1.1\r\nHost: t\r\n\r\n", true},
      {"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", false},
  };
  for (const auto& c : cases) {
    bool closed = false;
    const std::string got =
        Exchange(server->port(), c.request, absl::Milliseconds(300), &closed);
    EXPECT_EQ(got.rfind("HTTP/1.1 200 ", 0), 0u) << got;
    EXPECT_THAT(got, HasSubstr(c.keep_alive ? "Connection: keep-alive\r\n"
                                            : "Connection: close\r\n"))
        << c.request;
    EXPECT_EQ(closed, !c.keep_alive) << c.request;
  }
}

TEST(HttpServerTest, BodiesPastTheInflightBoundAreNotRead) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.threads = 4;
  o.max_body_bytes = 100;
  o.max_inflight_bytes = 120;
  absl::Notification held, release;
  auto s = HttpServer::Start(o, [&](const HttpRequest& r) {
    HttpResponse resp;
    if (r.overloaded) {
      resp.status = 429;
      resp.body = absl::StrCat("overloaded, body read: ", r.body.size());
      return resp;
    }
    if (r.path == "/hold") {
      held.Notify();
      release.WaitForNotification();
    }
    resp.body = absl::StrCat(r.path, " ", r.body.size());
    return resp;
  });
  ASSERT_TRUE(s.ok()) << s.status();
  const int port = (*s)->port();
  std::thread holder([&] {
    EXPECT_EQ(HttpFetch(port, "POST", "/hold", std::string(80, 'a')).body,
              "/hold 80");
  });
  held.WaitForNotification();
  // 80 + 50 > 120: refused at once, the body unread.
  TestResponse r = HttpFetch(port, "POST", "/x", std::string(50, 'b'));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.body, "overloaded, body read: 0");
  EXPECT_EQ(r.headers["connection"], "close");
  // What fits still goes through, and so does everything without a body.
  EXPECT_EQ(HttpFetch(port, "POST", "/x", std::string(40, 'c')).body, "/x 40");
  EXPECT_EQ(HttpFetch(port, "GET", "/metrics").body, "/metrics 0");
  release.Notify();
  holder.join();
  // Released: the same request is read now.
  EXPECT_EQ(HttpFetch(port, "POST", "/x", std::string(50, 'b')).body, "/x 50");
}

TEST(HttpServerTest, IdleAndSlowConnectionsAreDroppedAfterTheTimeout) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.threads = 2;
  o.request_timeout_ms = 300;
  auto s = HttpServer::Start(o, [](const HttpRequest&) {
    return HttpResponse{200, "text/plain", "ok", {}};
  });
  ASSERT_TRUE(s.ok()) << s.status();
  const int port = (*s)->port();
  // Two silent connections and one that sends half a request hold both
  // workers; each is dropped after the timeout, and a request waiting
  // behind them is answered then.
  const int silent[] = {ConnectLoopback(port), ConnectLoopback(port)};
  const int slow = ConnectLoopback(port);
  ASSERT_EQ(::send(slow, "GET / HTTP/1.1\r\n", 16, 0), 16);
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Time start = absl::Now();
  EXPECT_EQ(HttpFetch(port, "GET", "/-/healthy").body, "ok");
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  for (int fd : {silent[0], silent[1], slow}) {
    // Closed by the server (perhaps after an error status): EOF within 3 s.
    bool eof = false;
    for (int reads = 0; reads < 100 && !eof; ++reads) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 3000) != 1) break;
      char buf[512];
      eof = ::recv(fd, buf, sizeof(buf), 0) <= 0;
    }
    EXPECT_TRUE(eof);
    ::close(fd);
  }
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

// Whether the server answered `fd` (anything, or EOF) within `wait`.
std::string ReadSome(int fd, absl::Duration wait) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(wait))) != 1) {
    return "";
  }
  char buf[4096];
  const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "<eof>";
}

TEST(HttpServerTest, IdleAndSlowConnectionsHoldNoWorker) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.threads = 1;
  o.query_threads = 1;
  o.io_threads = 1;
  auto s = HttpServer::Start(o, [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain", r.path, {}};
  });
  ASSERT_TRUE(s.ok()) << s.status();
  const int port = (*s)->port();
  // With one worker per lane, 300 silent connections and 50 half-sent
  // requests would block a thread-per-connection server entirely.
  std::vector<int> fds;
  for (int i = 0; i < 350; ++i) fds.push_back(ConnectLoopback(port));
  for (int i = 300; i < 350; ++i) {
    ASSERT_EQ(::send(fds[i], "GET / HTTP/1.1\r\n", 16, 0), 16);
  }
  for (int i = 0; i < 100 && (*s)->connections() < 350; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ((*s)->connections(), 350);
  for (int i = 0; i < 20; ++i) {
    const absl::Time start = absl::Now();
    EXPECT_EQ(HttpFetch(port, "GET", "/-/healthy").body, "/-/healthy");
    EXPECT_EQ(HttpFetch(port, "POST", "/ingest", "x").body, "/ingest");
    EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  }
  for (int fd : fds) ::close(fd);
}

TEST(HttpServerTest, ConnectionsPastTheCapAreAnswered503) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.max_connections = 3;
  auto s = HttpServer::Start(o, [](const HttpRequest&) {
    return HttpResponse{200, "text/plain", "ok", {}};
  });
  ASSERT_TRUE(s.ok()) << s.status();
  const int port = (*s)->port();
  const int held[] = {ConnectLoopback(port), ConnectLoopback(port),
                      ConnectLoopback(port)};
  for (int i = 0; i < 100 && (*s)->connections() < 3; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ((*s)->connections(), 3);
  // The fourth is answered at once, not queued.
  const int extra = ConnectLoopback(port);
  const std::string got = ReadSome(extra, absl::Seconds(2));
  EXPECT_EQ(got.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << got;
  EXPECT_THAT(got, HasSubstr("Retry-After: 1\r\n"));
  EXPECT_THAT(got, HasSubstr("too many open connections"));
  ::close(extra);
  // One closed: there is room again.
  ::close(held[0]);
  for (int i = 0; i < 100 && (*s)->connections() > 2; ++i) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(HttpFetch(port, "GET", "/x").body, "ok");
  ::close(held[1]);
  ::close(held[2]);
}

TEST(HttpServerTest, ScrapesAreAnsweredWhileEveryIngestWorkerIsBusy) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  o.threads = 1;
  absl::Notification held, release;
  auto s = HttpServer::Start(o, [&](const HttpRequest& r) {
    if (r.path == "/hold") {
      held.Notify();
      release.WaitForNotification();
    }
    return HttpResponse{200, "text/plain", r.path, {}};
  });
  ASSERT_TRUE(s.ok()) << s.status();
  const int port = (*s)->port();
  std::thread holder([&] { HttpFetch(port, "POST", "/hold", "body"); });
  held.WaitForNotification();
  // The only ingest worker is taken; requests without a body have theirs.
  EXPECT_EQ(HttpFetch(port, "GET", "/metrics").body, "/metrics");
  release.Notify();
  holder.join();
}

TEST(HttpServerTest, ScreenRefusesBeforeTheBodyIsRead) {
  ServerOptions o;
  o.listen = "127.0.0.1:0";
  std::atomic<int> handled{0};
  o.screen = [](const HttpRequest& r) -> std::optional<HttpResponse> {
    if (r.header("Authorization") == "Bearer ok") return std::nullopt;
    return HttpResponse{401, "application/json", "no", {}};
  };
  auto s = HttpServer::Start(o, [&](const HttpRequest& r) {
    ++handled;
    return HttpResponse{200, "text/plain", r.body, {}};
  });
  ASSERT_TRUE(s.ok()) << s.status();
  // Refused on the headers: no 100 Continue, the handler never runs.
  std::string got = AfterHeaders((*s)->port(),
                                 "POST /x HTTP/1.1\r\nHost: t\r\n"
                                 "Content-Length: 5\r\n"
                                 "Expect: 100-continue\r\n\r\n",
                                 absl::Milliseconds(500));
  EXPECT_EQ(got.rfind("HTTP/1.1 401", 0), 0u) << got;
  EXPECT_THAT(got, HasSubstr("Connection: close"));
  EXPECT_EQ(handled.load(), 0);
  // Accepted on the headers: 100, then the body, then the handler.
  got = AfterHeaders((*s)->port(),
                     "POST /x HTTP/1.1\r\nHost: t\r\n"
                     "Authorization: Bearer ok\r\nContent-Length: 5\r\n"
                     "Expect: 100-continue\r\n\r\n",
                     absl::Milliseconds(500));
  EXPECT_EQ(got.rfind("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0),
            0u)
      << got;
  EXPECT_EQ(handled.load(), 1);
}

TEST(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  auto server = StartEcho();
  ASSERT_NE(server, nullptr);
  bool closed = false;
  const std::string got =
      Exchange(server->port(),
               "GET /one HTTP/1.1\r\nHost: t\r\n\r\n"
               "POST /two HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc"
               "GET /three HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
               absl::Seconds(3), &closed);
  const size_t one = got.find("GET /one?"), two = got.find("POST /two? [] abc"),
               three = got.find("GET /three?");
  ASSERT_NE(one, std::string::npos) << got;
  ASSERT_NE(two, std::string::npos) << got;
  ASSERT_NE(three, std::string::npos) << got;
  EXPECT_LT(one, two);
  EXPECT_LT(two, three);
  EXPECT_TRUE(closed);
}

TEST(HttpServerTest, StopClosesIdleConnectionsPromptly) {
  auto server = StartEcho();
  ASSERT_NE(server, nullptr);
  const int idle = ConnectLoopback(server->port());
  EXPECT_EQ(HttpFetch(server->port(), "GET", "/x").status, 200);
  const absl::Time start = absl::Now();
  server->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(ReadSome(idle, absl::Seconds(1)), "<eof>");
  ::close(idle);
}

TEST(HttpServerTest, PercentEscapesInThePathAreDecoded) {
  auto server = StartEcho();
  ASSERT_NE(server, nullptr);
  TestResponse r = HttpFetch(server->port(), "GET", "/api/v1/models/a%2Fb%20c");
  EXPECT_EQ(r.body, "GET /api/v1/models/a/b c? [] ");
}

}  // namespace
}  // namespace aiq::http
