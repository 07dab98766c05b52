// Starts the real ai_quality_exporter binary on a free loopback port, drives
// it over HTTP with every body shape and with bad input, checks exact metric
// values, lints the exposition with promtool, and shuts it down with SIGTERM.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "exporter/http/test_client.h"

namespace aiq {
namespace {

using http::HttpFetch;
using http::TestResponse;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kConfig[] = R"(
server:
  listen: "127.0.0.1:0"
  threads: 4
limits:
  max_body_bytes: 65536
  max_error_reasons: 2
models:
  - name: churn
    versions: [v1, v2]
    classes: [churn, stay]
    features:
      - {name: age, type: numeric}
      - {name: plan, type: categorical}
  - name: assistant
    task: generation
    cost_per_1k_prompt_tokens: 0.5
    cost_per_1k_completion_tokens: 1.5
    budget: {cost_per_day: 20, tokens_per_day: 1000000}
    safety_categories: [pii, toxicity]
)";

class ServerProcess {
 public:
  ServerProcess() {
    dir_ = std::filesystem::temp_directory_path() /
           ("aiq_it_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    config_ = (dir_ / "aiq.yaml").string();
    std::ofstream(config_) << kConfig;
    log_ = (dir_ / "server.log").string();
    pid_ = fork();
    if (pid_ == 0) {
      const int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      const std::string bin =
          std::string(AIQ_BINARY_DIR) + "/ai_quality_exporter";
      execl(bin.c_str(), bin.c_str(), "serve", "--config", config_.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    // The binary prints "... (port N) ..." once listening.
    const std::regex port_re("\\(port ([0-9]+)\\)");
    for (int i = 0; i < 100 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::smatch m;
      const std::string log = Log();
      if (std::regex_search(log, m, port_re)) port_ = std::stoi(m[1]);
    }
  }

  ~ServerProcess() {
    if (pid_ > 0 && !stopped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  // SIGTERM, then the exit status (or -1 if it did not exit within 10 s).
  int Stop() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        stopped_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }

  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }
  int port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::string config_, log_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool stopped_ = false;
};

// The value of the exposition line `series` (labels in exposition order).
std::optional<double> Value(const std::string& text,
                            const std::string& series) {
  const std::string needle = "\n" + series + " ";
  const size_t pos = text.find(needle);
  if (pos == std::string::npos) return std::nullopt;
  return std::stod(text.substr(pos + needle.size()));
}

TEST(ServerIntegrationTest, IngestScrapeLintShutdown) {
  ServerProcess server;
  ASSERT_GT(server.port(), 0) << server.Log();
  const int port = server.port();
  auto post = [&](const std::string& path, const std::string& body,
                  const std::string& type = "application/json") {
    return HttpFetch(port, "POST", path, body, {{"Content-Type", type}});
  };

  // A single object.
  TestResponse r =
      post("/api/v1/predictions",
           R"({"model":"churn","version":"v2","id":"p1",)"
           R"("features":{"age":41,"plan":"pro"},"prediction":"stay",)"
           R"("probabilities":{"churn":0.3,"stay":0.7},"latency_ms":120})");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"accepted":1,"errors":[],"rejected":0})");

  // An array with one bad event: the good ones still apply.
  r = post("/api/v1/predictions",
           R"([{"model":"assistant","id":"a1","latency_ms":2500,)"
           R"("tokens":{"prompt":3000,"completion":1000},"safety":["pii"]},)"
           R"({"model":"assistant","latency_ms":-5},)"
           R"({"model":"assistant","error":"timeout"}])");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body,
            R"({"accepted":2,"errors":[{"error":"latency_ms: must be >= 0",)"
            R"("index":1,"reason":"out_of_range"}],"rejected":1})");

  // NDJSON labels and feedback.
  r = post("/api/v1/labels",
           "{\"model\":\"churn\",\"id\":\"p1\",\"label\":\"churn\"}\n"
           "{\"model\":\"churn\",\"id\":\"unknown-id\",\"label\":\"stay\"}\n"
           "{\"model\":\"churn\",\"id\":\"p2\",\"label\":\"maybe\"}\n",
           "application/x-ndjson");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr(R"("accepted":2)"));
  EXPECT_THAT(r.body, HasSubstr(R"(label: unknown class \"maybe\")"));
  r = post("/api/v1/feedback",
           "{\"model\":\"assistant\",\"id\":\"a1\",\"score\":2,\"value\":12.5}",
           "application/x-ndjson");
  EXPECT_EQ(r.status, 200);

  // Bad requests change nothing.
  EXPECT_EQ(post("/api/v1/predictions", "{not json").status, 400);
  EXPECT_EQ(post("/api/v1/predictions", R"({"model":"nope"})").status, 400);
  EXPECT_EQ(post("/api/v1/feedback", R"({"model":"churn","id":"p1","score":9})")
                .status,
            400);
  EXPECT_EQ(post("/api/v1/predictions", "{}", "text/plain").status, 415);
  EXPECT_EQ(post("/api/v1/predictions", std::string(70000, ' ')).status, 413);
  EXPECT_EQ(HttpFetch(port, "GET", "/api/v1/predictions").status, 405);
  EXPECT_EQ(HttpFetch(port, "GET", "/no/such/path").status, 404);
  EXPECT_EQ(HttpFetch(port, "GET", "/-/healthy").status, 200);
  // serve marks the last start-up condition (listening) before it prints
  // the port: ready from the first request.
  TestResponse ready = HttpFetch(port, "GET", "/-/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "Ready\n");

  TestResponse scrape = HttpFetch(port, "GET", "/metrics");
  ASSERT_EQ(scrape.status, 200);
  EXPECT_EQ(scrape.headers["content-type"],
            "text/plain; version=0.0.4; charset=utf-8");
  const std::string& t = scrape.body;
  const std::string churn2 = R"(model="churn",version="v2")";
  const std::string llm = R"(model="assistant",version="default")";
  EXPECT_EQ(Value(t, "aiq_predictions_total{" + churn2 + "}"), 1);
  EXPECT_EQ(Value(t, R"(aiq_predictions_total{model="churn",version="v1"})"),
            0);
  EXPECT_EQ(Value(t, "aiq_predictions_total{" + llm + "}"), 2);
  EXPECT_EQ(
      Value(t, "aiq_prediction_errors_total{" + llm + R"(,reason="timeout"})"),
      1);
  EXPECT_EQ(Value(t, "aiq_prediction_latency_seconds_sum{" + churn2 + "}"),
            0.12);
  EXPECT_EQ(Value(t, "aiq_prediction_latency_seconds_bucket{" + llm +
                         R"(,le="2.5"})"),
            1);
  EXPECT_EQ(
      Value(t, "aiq_prediction_latency_seconds_bucket{" + llm + R"(,le="1"})"),
      0);
  EXPECT_EQ(Value(t, "aiq_tokens_total{" + llm + R"(,type="prompt"})"), 3000);
  EXPECT_EQ(Value(t, "aiq_tokens_total{" + llm + R"(,type="completion"})"),
            1000);
  EXPECT_EQ(Value(t, "aiq_cost_total{" + llm + "}"), 3.0);
  EXPECT_EQ(Value(t, R"(aiq_cost_budget{model="assistant"})"), 20);
  EXPECT_EQ(Value(t, R"(aiq_token_budget{model="assistant"})"), 1e6);
  EXPECT_EQ(
      Value(t, "aiq_safety_violations_total{" + llm + R"(,category="pii"})"),
      1);
  EXPECT_EQ(Value(t, "aiq_safety_violations_total{" + llm +
                         R"(,category="toxicity"})"),
            0);
  EXPECT_EQ(Value(t, "aiq_feedback_score_bucket{" + llm + R"(,le="2"})"), 1);
  EXPECT_EQ(Value(t, "aiq_feedback_score_count{" + llm + "}"), 1);
  EXPECT_EQ(Value(t, "aiq_outcome_value_total{" + llm + "}"), 12.5);
  EXPECT_EQ(Value(t, "aiq_labels_total{" + churn2 + "}"), 1);
  EXPECT_EQ(Value(t, R"(aiq_labels_unmatched_total{model="churn"})"), 1);
  EXPECT_EQ(Value(t, R"(aiq_join_pending{model="churn"})"), 0);
  EXPECT_EQ(Value(t, R"(aiq_join_entries{model="churn"})"), 1);
  EXPECT_EQ(
      Value(
          t,
          R"(aiq_exporter_events_rejected_total{kind="prediction",reason="unknown_model"})"),
      1);
  EXPECT_EQ(
      Value(
          t,
          R"(aiq_exporter_events_rejected_total{kind="prediction",reason="invalid_json"})"),
      1);
  EXPECT_EQ(
      Value(
          t,
          R"(aiq_exporter_events_rejected_total{kind="feedback",reason="out_of_range"})"),
      1);
  EXPECT_EQ(
      Value(
          t,
          R"(aiq_exporter_events_rejected_total{kind="label",reason="unknown_class"})"),
      1);
  EXPECT_EQ(
      Value(
          t,
          R"(aiq_exporter_http_requests_total{code="413",handler="/api/v1/predictions"})"),
      1);
  EXPECT_EQ(
      Value(
          t,
          R"(aiq_exporter_http_requests_total{code="415",handler="/api/v1/predictions"})"),
      1);
  EXPECT_EQ(Value(t, "aiq_exporter_models"), 2);
  EXPECT_TRUE(Value(t, "process_resident_memory_bytes").has_value());
  EXPECT_TRUE(Value(t, "process_start_time_seconds").has_value());
  EXPECT_THAT(t, Not(HasSubstr("nope")));

  // promtool lints the exposition (naming, units, HELP, histogram rules).
  const std::string metrics_file = (server.dir() / "metrics.txt").string();
  std::ofstream(metrics_file) << t;
  const std::string cmd = "promtool check metrics < " + metrics_file + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string lint;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof(buf), p)) > 0;) lint.append(buf, n);
  EXPECT_EQ(pclose(p), 0) << lint;
  EXPECT_EQ(lint, "");

  EXPECT_EQ(server.Stop(), 0);
  EXPECT_THAT(server.Log(), HasSubstr("received SIGTERM, shutting down"));
  EXPECT_THAT(server.Log(), HasSubstr("stopped"));
}

}  // namespace
}  // namespace aiq
