// ExporterApp with state.dir: what a restart restores, checked against the
// /metrics the first process served (exact text, so exact values).
#include "exporter/app/durable_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "exporter/app/exporter_app.h"
#include "exporter/config/config_loader.h"
#include "exporter/state/atomic_file.h"
#include "exporter/state/checkpoint_file.h"
#include "exporter/testing/failing_io.h"
#include "exporter/util/absl_compat.h"

namespace aiq::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

#define ASSERT_OK(expr)              \
  do {                               \
    const absl::Status st_ = (expr); \
    ASSERT_TRUE(st_.ok()) << st_;    \
  } while (0)
#define EXPECT_OK(expr)              \
  do {                               \
    const absl::Status st_ = (expr); \
    EXPECT_TRUE(st_.ok()) << st_;    \
  } while (0)
using ::testing::HasSubstr;

class DurableStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        (fs::temp_directory_path() /
         absl::StrCat(
             "aiq_durable_", ::getpid(), "_",
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
            .string();
    fs::remove_all(dir_);
  }
  void TearDown() override {
    app_.reset();
    fs::remove_all(dir_);
  }

  config::Config Config() {
    absl::StatusOr<config::Config> c = config::LoadDefaultConfig();
    EXPECT_TRUE(c.ok());
    c->review.path = "";
    c->state.dir = dir_;
    c->state.min_free_bytes = 0;
    c->state.checkpoint_interval = absl::Hours(1);  // only when asked
    return *std::move(c);
  }

  absl::Status Start(config::Config c) {
    app_.reset();
    app_ = std::make_unique<ExporterApp>(std::move(c), &clock_);
    return app_->Init();
  }
  absl::Status Start() { return Start(Config()); }

  http::HttpResponse Request(std::string method, std::string path,
                             std::string body = "",
                             std::map<std::string, std::string> headers = {}) {
    http::HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.body = std::move(body);
    if (!headers.contains("Content-Type")) {
      headers["Content-Type"] = "application/x-ndjson";
    }
    r.header = [headers](const char* name) -> std::string_view {
      auto it = headers.find(name);
      return it == headers.end() ? std::string_view() : it->second;
    };
    return app_->Handle(r);
  }

  // The model families of a scrape: everything a restart must restore.
  std::string ModelMetrics() {
    std::istringstream in(Request("GET", "/metrics").body);
    std::string out, line;
    while (std::getline(in, line)) {
      if (line.rfind("aiq_", 0) != 0) continue;
      if (line.rfind("aiq_exporter_", 0) == 0) continue;
      if (line.rfind("aiq_state_", 0) == 0) continue;
      out += line + "\n";
    }
    return out;
  }

  // A batch of churn predictions with ids, features, probabilities and
  // segments, LLM calls, and labels and feedback for earlier ids.
  void Traffic(int round, int n) {
    std::mt19937_64 rng(static_cast<uint64_t>(round));
    std::uniform_real_distribution<double> u(0, 1);
    const char* plans[] = {"basic", "plus", "pro", "enterprise"};
    const char* regions[] = {"eu", "us", "apac", "latam"};
    std::string preds, llm, labels, feedback, evaluations;
    for (int i = 0; i < n; ++i) {
      const std::string id = absl::StrCat("r", round, "-", i);
      const double p = u(rng);
      absl::StrAppend(
          &preds, R"({"model":"churn-classifier","version":")",
          i % 3 == 0 ? "v2" : "v1", R"(","id":")", id,
          R"(","features":{"income":)", 20000 + 90000 * u(rng), R"(,"age":)",
          18 + 60 * u(rng), R"(,"score":)", u(rng) * 4 - 2, R"(,"rooms":)",
          1 + static_cast<int>(u(rng) * 5), R"(,"plan":")", plans[rng() % 4],
          R"(","channel":"app"},"prediction":")", p > 0.5 ? "churn" : "stay",
          R"(","probabilities":{"churn":)", p, R"(,"stay":)", 1 - p,
          R"(},"confidence":)", std::max(p, 1 - p), R"(,"latency_ms":)",
          5 + 100 * u(rng), R"(,"segment":{"region":")", regions[rng() % 4],
          "\"}}\n");
      absl::StrAppend(&llm, R"({"model":"support-assistant","id":"c)", id,
                      R"(","latency_ms":)", 400 + rng() % 600, R"(,"ttft_ms":)",
                      rng() % 400, R"(,"tokens":{"prompt":)", rng() % 500,
                      R"(,"completion":)", rng() % 300, "}",
                      i % 7 == 0 ? R"(,"safety":["pii"])" : "",
                      i % 11 == 0 ? R"(,"error":"timeout")" : "", "}\n");
      // Judges of the LLM calls: joined (their version) or not, scores
      // and labels.
      absl::StrAppend(&evaluations,
                      R"({"model":"support-assistant","evaluator":")",
                      i % 3 == 0 ? "relevance" : "toxicity", R"(","id":"c)",
                      i % 4 == 0 ? id : "unknown", R"(","score":)", u(rng),
                      i % 5 == 0 ? R"(,"label":"flagged"})" : "}", "\n");
      if (round > 0 && i % 2 == 0) {
        const std::string old = absl::StrCat("r", round - 1, "-", i);
        absl::StrAppend(&labels, R"({"model":"churn-classifier","id":")", old,
                        R"(","label":")", u(rng) > 0.4 ? "churn" : "stay",
                        "\"}\n");
        absl::StrAppend(&feedback, R"({"model":"churn-classifier","id":")", old,
                        R"(","score":)", 1 + rng() % 5, "}\n");
      }
    }
    ASSERT_EQ(Request("POST", "/api/v1/predictions", preds).status, 200);
    ASSERT_EQ(Request("POST", "/api/v1/predictions", llm).status, 200);
    ASSERT_EQ(Request("POST", "/api/v1/evaluations", evaluations).status, 200);
    if (!labels.empty()) {
      ASSERT_EQ(Request("POST", "/api/v1/labels", labels).status, 200);
      ASSERT_EQ(Request("POST", "/api/v1/feedback", feedback).status, 200);
    }
  }

  void Rounds(int from, int to) {
    for (int round = from; round < to; ++round) {
      Traffic(round, 150);
      clock_.Advance(absl::Seconds(45));  // windows roll over buckets
    }
  }

  // Traffic with two checkpoints in it and more after the second: the
  // newest checkpoint can be damaged and the older one plus the log must
  // give the same state. Returns the checkpoints' sequence numbers, newest
  // first.
  std::vector<uint64_t> TrafficWithTwoCheckpoints() {
    EXPECT_OK(Start());
    Rounds(0, 3);
    EXPECT_OK(app_->durable()->CheckpointNow());
    Rounds(3, 6);
    EXPECT_OK(app_->durable()->CheckpointNow());
    Rounds(6, 7);
    return state::ListCheckpoints(CheckpointDir());
  }
  std::string CheckpointDir() const {
    return (fs::path(dir_) / "checkpoints").string();
  }

  std::string dir_;
  util::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<ExporterApp> app_;
};

TEST_F(DurableStateTest, RestartReplaysTheLogToTheSameMetrics) {
  ASSERT_OK(Start());
  Rounds(0, 8);
  const std::string before = ModelMetrics();
  ASSERT_THAT(before, HasSubstr("aiq_labels_total{"));
  ASSERT_THAT(before, HasSubstr("aiq_drift_score{"));
  ASSERT_THAT(before, HasSubstr("aiq_evaluation_score_bucket{"));
  ASSERT_THAT(before, HasSubstr("aiq_evaluations_total{"));
  ASSERT_THAT(before, HasSubstr("aiq_time_per_output_token_seconds_bucket{"));
  ASSERT_OK(Start());  // no checkpoint: everything from the log
  EXPECT_EQ(ModelMetrics(), before);
  const DurableStateStats st = app_->durable()->Stats();
  EXPECT_EQ(st.recovery.checkpoint_seq, 0u);
  EXPECT_EQ(st.recovery.records_replayed, 8 * 3 + 7 * 2);
  EXPECT_EQ(st.recovery.records_corrupt, 0);
}

TEST_F(DurableStateTest, RestartFromCheckpointPlusLogReachesTheSameMetrics) {
  ASSERT_OK(Start());
  Rounds(0, 5);
  ASSERT_OK(app_->durable()->CheckpointNow());
  Rounds(5, 8);
  const std::string before = ModelMetrics();
  ASSERT_OK(Start());
  EXPECT_EQ(ModelMetrics(), before);
  const DurableStateStats st = app_->durable()->Stats();
  EXPECT_EQ(st.recovery.checkpoint_seq, 5u * 3 + 4 * 2);
  EXPECT_EQ(st.recovery.records_replayed, 3 * 5);
  // And serving continues identically: same traffic on both sides of a
  // second restart, this time from a checkpoint alone.
  ASSERT_OK(app_->durable()->CheckpointNow());
  ASSERT_OK(Start());
  EXPECT_EQ(app_->durable()->Stats().recovery.records_replayed, 0);
  EXPECT_EQ(ModelMetrics(), before);
}

TEST_F(DurableStateTest, ConcurrentCheckpointsAreSerialized) {
  ASSERT_OK(Start());
  Rounds(0, 2);
  // The periodic checkpoint and the one at shutdown may meet, at the same
  // seq (the same file name): both must succeed and leave a good file.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        if (!app_->durable()->CheckpointNow().ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  const std::string before = ModelMetrics();
  ASSERT_OK(Start());
  EXPECT_EQ(app_->durable()->Stats().recovery.records_replayed, 0);
  EXPECT_TRUE(app_->durable()->Stats().recovery.skipped_checkpoints.empty());
  EXPECT_EQ(ModelMetrics(), before);
}

TEST_F(DurableStateTest, PendingPredictionsJoinAndIdsStayUniqueAfterRestart) {
  ASSERT_OK(Start());
  Traffic(0, 10);
  ASSERT_OK(Start());
  http::HttpResponse r =
      Request("POST", "/api/v1/labels",
              R"({"model":"churn-classifier","id":"r0-3","label":"churn"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(ModelMetrics(), HasSubstr("aiq_labels_unmatched_total{model="
                                        "\"churn-classifier\"} 0"));
  r = Request(
      "POST", "/api/v1/predictions",
      R"({"model":"churn-classifier","id":"r0-3","prediction":"stay"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("duplicate_id"));
  // The join tables' memory is exposed, and within its budget.
  const std::string metrics = Request("GET", "/metrics").body;
  const std::string name = "\naiq_state_join_memory_bytes ";
  const size_t at = metrics.find(name);
  ASSERT_NE(at, std::string::npos) << metrics;
  const double memory = std::stod(metrics.substr(at + name.size()));
  EXPECT_GT(memory, 0);  // the pending entries' memtable at least
  EXPECT_LE(memory,
            static_cast<double>(config::StateConfig().join_memory_bytes));
  EXPECT_THAT(metrics, HasSubstr("\naiq_state_join_disk_bytes "));
}

// The review sampler's random draws are keyed by the log record and the
// event, seeded by the state directory: after a restart the stream goes on
// from the same position, so two runs restarted from copies of one state
// directory sample exactly the same events (per-process draws would agree
// on about half of them).
TEST_F(DurableStateTest, ReviewSamplingContinuesTheSameStreamAfterRestart) {
  const std::string review = dir_ + ".review.jsonl";
  const std::string copy = dir_ + ".copy";
  auto config = [&] {
    config::Config c = Config();
    c.review.path = review;
    c.review.sample_fraction = 0.5;
    return c;
  };
  auto post = [&](std::string_view prefix) {
    std::string body;
    for (int i = 0; i < 200; ++i) {
      absl::StrAppend(&body, R"({"model":"churn-classifier","id":")",
                      util::ToAbsl(prefix), i,
                      R"(","prediction":"stay","confidence":0.99})", "\n");
    }
    ASSERT_EQ(Request("POST", "/api/v1/predictions", body).status, 200);
  };
  auto sampled = [&] {  // the ids in the review log, all "random"
    std::vector<std::string> ids;
    std::ifstream in(review);
    for (std::string line; std::getline(in, line);) {
      const json j = json::parse(line);
      EXPECT_EQ(j["reasons"], json::array({"random"}));
      ids.push_back(j["event"]["id"]);
    }
    return ids;
  };
  ASSERT_OK(Start(config()));
  post("a-");
  app_.reset();
  fs::remove_all(copy);
  fs::copy(dir_, copy, fs::copy_options::recursive);
  fs::remove(review);

  ASSERT_OK(Start(config()));
  post("b-");
  app_.reset();
  const std::vector<std::string> first = sampled();
  fs::remove_all(dir_);
  fs::rename(copy, dir_);
  fs::remove(review);

  ASSERT_OK(Start(config()));
  post("b-");
  app_.reset();
  EXPECT_EQ(sampled(), first);
  // A fair half of 200 (within 5 standard deviations of 100).
  EXPECT_GT(first.size(), 64u);
  EXPECT_LT(first.size(), 136u);
  fs::remove(review);
}

TEST_F(DurableStateTest, IdempotencyKeyAnswersOnceEvenAcrossRestarts) {
  ASSERT_OK(Start());
  const std::string body =
      R"({"model":"support-assistant","tokens":{"prompt":10,"completion":5}})"
      "\n"
      R"({"model":"nope"})"
      "\n";
  const std::map<std::string, std::string> key = {{"Idempotency-Key", "k-1"}};
  http::HttpResponse first = Request("POST", "/api/v1/predictions", body, key);
  ASSERT_EQ(first.status, 200);
  http::HttpResponse again = Request("POST", "/api/v1/predictions", body, key);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_THAT(again.headers,
              ::testing::Contains(std::pair<std::string, std::string>(
                  "Idempotent-Replayed", "true")));
  const std::string once = ModelMetrics();
  EXPECT_THAT(once, HasSubstr("aiq_tokens_total{model=\"support-assistant\","
                              "version=\"gpt-small-2026-10\",type=\"prompt\"}"
                              " 10"));
  ASSERT_OK(Start());
  again = Request("POST", "/api/v1/predictions", body, key);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(ModelMetrics(), once);
  // The same key on another endpoint is another request.
  EXPECT_EQ(Request("POST", "/api/v1/feedback",
                    R"({"model":"support-assistant","id":"x","score":4})", key)
                .status,
            200);
  // A malformed key is refused before anything is applied.
  EXPECT_EQ(Request("POST", "/api/v1/predictions", body,
                    {{"Idempotency-Key", "has space"}})
                .status,
            400);
}

TEST_F(DurableStateTest, ReplacedReferenceSurvivesRestart) {
  ASSERT_OK(Start());
  std::string csv =
      "income,age,score,rooms,plan,channel,target,prediction,confidence\n";
  for (int i = 0; i < 200; ++i) {
    absl::StrAppend(&csv, 1000 + i, ",", 30 + i % 20, ",", i % 7 - 3, ",",
                    1 + i % 4, ",", i % 2 ? "pro" : "basic", ",app,",
                    i % 3 ? "stay" : "churn", ",", i % 4 ? "stay" : "churn",
                    ",", 0.5 + 0.002 * i, "\n");
  }
  http::HttpResponse r =
      Request("PUT", "/api/v1/models/churn-classifier/reference", csv,
              {{"Content-Type", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  Rounds(0, 3);
  const std::string before = ModelMetrics();
  ASSERT_THAT(before, HasSubstr("aiq_reference_rows{model=\"churn-classifier\""
                                "} 200"));
  ASSERT_OK(Start());  // from the log
  EXPECT_EQ(ModelMetrics(), before);
  ASSERT_OK(app_->durable()->CheckpointNow());
  ASSERT_OK(Start());  // from the checkpoint, which carries the CSV
  EXPECT_EQ(ModelMetrics(), before);
}

TEST_F(DurableStateTest, DamagedCheckpointFallsBackToThePreviousOne) {
  const std::vector<uint64_t> seqs = TrafficWithTwoCheckpoints();
  ASSERT_EQ(seqs.size(), 2u);
  const std::string before = ModelMetrics();
  const std::string ckpt_dir = CheckpointDir();
  std::vector<std::string> skipped;
  auto latest = state::LoadLatestCheckpoint(ckpt_dir, skipped);
  ASSERT_TRUE(latest.ok() && latest->has_value());
  std::string bytes = *state::ReadWholeFile((*latest)->path);
  bytes[bytes.size() / 2] ^= 0x40;
  ASSERT_TRUE(state::WriteFileAtomically((*latest)->path, bytes).ok());
  ASSERT_OK(Start());
  EXPECT_EQ(ModelMetrics(), before);
  const DurableStateStats st = app_->durable()->Stats();
  EXPECT_EQ(st.recovery.checkpoint_seq, seqs[1]);
  ASSERT_EQ(st.recovery.skipped_checkpoints.size(), 1u);
  EXPECT_THAT(st.recovery.skipped_checkpoints[0], HasSubstr("CRC mismatch"));
  EXPECT_THAT(Request("GET", "/metrics").body,
              HasSubstr("aiq_state_corrupt_records 1"));
}

// A checkpoint is usable only with its copy of the join tables: without
// it, the previous checkpoint and a longer replay give the same state.
TEST_F(DurableStateTest, MissingJoinTableCopyFallsBackToThePreviousOne) {
  const std::vector<uint64_t> seqs = TrafficWithTwoCheckpoints();
  ASSERT_EQ(seqs.size(), 2u);
  const std::string before = ModelMetrics();
  ASSERT_THAT(before, HasSubstr("aiq_join_pending{"));
  const std::string ckpt_dir = CheckpointDir();
  const std::string copy = state::JoinCheckpointPath(ckpt_dir, seqs[0]);
  ASSERT_TRUE(fs::exists(copy));
  ASSERT_TRUE(fs::exists(state::JoinCheckpointPath(ckpt_dir, seqs[1])));
  fs::remove_all(copy);
  ASSERT_OK(Start());
  EXPECT_EQ(ModelMetrics(), before);
  const DurableStateStats st = app_->durable()->Stats();
  EXPECT_EQ(st.recovery.checkpoint_seq, seqs[1]);
  ASSERT_EQ(st.recovery.skipped_checkpoints.size(), 1u);
  EXPECT_THAT(st.recovery.skipped_checkpoints[0], HasSubstr(copy));
}

TEST_F(DurableStateTest, IncompatibleFormatIsAnErrorNamingTheFile) {
  ASSERT_OK(Start());
  Traffic(0, 5);
  app_.reset();
  ASSERT_TRUE(state::WriteFileAtomically(
                  (fs::path(dir_) / "FORMAT").string(),
                  "ai-quality-exporter state directory\nformat 99\n")
                  .ok());
  absl::Status st = Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(),
              HasSubstr(dir_ + "/FORMAT: state format version "
                               "99, this build reads versions 3 to 4"));
}

TEST_F(DurableStateTest, LowDiskAnswers503AndAppliesNothing) {
  config::Config c = Config();
  c.state.min_free_bytes = int64_t{1} << 60;
  ASSERT_OK(Start(std::move(c)));
  http::HttpResponse r =
      Request("POST", "/api/v1/predictions",
              R"({"model":"support-assistant","tokens":{"prompt":10}})");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("below state.min_free_bytes"));
  EXPECT_THAT(r.headers,
              ::testing::Contains(
                  std::pair<std::string, std::string>("Retry-After", "5")));
  EXPECT_THAT(ModelMetrics(),
              HasSubstr("aiq_predictions_total{model=\"support-assistant\","
                        "version=\"gpt-small-2026-10\"} 0"));
  // Space back (the threshold lowered): the next request goes through.
  ASSERT_OK(Start());
  EXPECT_EQ(Request("POST", "/api/v1/predictions",
                    R"({"model":"support-assistant","tokens":{"prompt":10}})")
                .status,
            200);
}

TEST_F(DurableStateTest, AFailedFdatasyncIsNotAcknowledgedUntilACheckpoint) {
  ASSERT_OK(Start());  // checkpoints only when asked (Config())
  Rounds(0, 2);
  const std::string llm =
      R"({"model":"support-assistant","tokens":{"prompt":10}})";
  const std::map<std::string, std::string> key = {
      {"Content-Type", "application/x-ndjson"}, {"Idempotency-Key", "k-1"}};
  {
    aiq::testing::FailingSyscall eio(aiq::testing::Syscall::kFdatasync, EIO);
    const http::HttpResponse r =
        Request("POST", "/api/v1/predictions", llm, key);
    EXPECT_EQ(r.status, 503);
    EXPECT_THAT(r.body, HasSubstr("fdatasync"));
    EXPECT_THAT(r.body, HasSubstr("Input/output error"));
  }
  // The disk works again, but a sync now could succeed without the pages
  // the failed one lost: no answer is given, nothing new is taken.
  http::HttpResponse r = Request("POST", "/api/v1/predictions", llm, key);
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("applied but is not durable yet"));
  r = Request("POST", "/api/v1/predictions", llm);
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body,
              HasSubstr("ingest resumes once a checkpoint has saved the "
                        "state"));
  // The checkpoint saves the state, the failed request's event with it
  // (applied, never acknowledged: allowed to count, and counted once).
  ASSERT_OK(app_->durable()->CheckpointNow());
  r = Request("POST", "/api/v1/predictions", llm, key);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.headers,
              ::testing::Contains(std::pair<std::string, std::string>(
                  "Idempotent-Replayed", "true")));
  ASSERT_EQ(Request("POST", "/api/v1/predictions", llm).status, 200);
  EXPECT_THAT(ModelMetrics(),
              HasSubstr("aiq_predictions_total{model=\"support-assistant\","
                        "version=\"gpt-small-2026-10\"} 302\n"));
  EXPECT_EQ(app_->durable()->Stats().store.sync_errors, 1u);
  // A crash now, with the pages the failed sync lost really lost: the old
  // segment ends inside the failed record. The request acknowledged after
  // the checkpoint is in a segment of its own, so nothing is missing.
  const fs::path log_dir = fs::path(dir_) / "log";
  std::vector<fs::path> segments;
  for (const auto& e : fs::directory_iterator(log_dir)) {
    segments.push_back(e.path());
  }
  std::sort(segments.begin(), segments.end());
  ASSERT_EQ(segments.size(), 2u);
  fs::resize_file(segments[0], fs::file_size(segments[0]) - 10);
  const std::string before = ModelMetrics();
  ASSERT_OK(Start());
  EXPECT_EQ(ModelMetrics(), before);
  const DurableStateStats st = app_->durable()->Stats();
  EXPECT_EQ(st.recovery.records_replayed, 1);
  EXPECT_TRUE(st.recovery.log_repairs.empty());
  r = Request("POST", "/api/v1/predictions", llm, key);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(ModelMetrics(), before);
}

TEST_F(DurableStateTest, AfterAFailedFdatasyncIngestResumesByItself) {
  config::Config c = Config();
  c.state.tick_interval = absl::Milliseconds(20);
  ASSERT_OK(Start(std::move(c)));
  const std::string llm =
      R"({"model":"support-assistant","tokens":{"prompt":10}})";
  {
    aiq::testing::FailingSyscall eio(aiq::testing::Syscall::kFdatasync, EIO);
    EXPECT_EQ(Request("POST", "/api/v1/predictions", llm).status, 503);
  }
  // The background thread writes the checkpoint the failure waits for.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  http::HttpResponse r;
  do {
    absl::SleepFor(absl::Milliseconds(5));
    r = Request("POST", "/api/v1/predictions", llm);
  } while (r.status == 503 && absl::Now() < deadline);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_GE(app_->durable()->Stats().checkpoints, 1u);
}

TEST_F(DurableStateTest, AReadOnlyDiskAnswers503AndAppliesNothing) {
  ASSERT_OK(Start());
  const std::string llm =
      R"({"model":"support-assistant","tokens":{"prompt":10}})";
  ASSERT_EQ(Request("POST", "/api/v1/predictions", llm).status, 200);
  const std::string before = ModelMetrics();
  {
    aiq::testing::FailingSyscall read_only(aiq::testing::Syscall::kWritev,
                                           EROFS);
    const http::HttpResponse r = Request("POST", "/api/v1/predictions", llm);
    EXPECT_EQ(r.status, 503);
    EXPECT_THAT(r.body, HasSubstr("Read-only file system"));
    EXPECT_THAT(r.headers,
                ::testing::Contains(
                    std::pair<std::string, std::string>("Retry-After", "5")));
  }
  EXPECT_EQ(ModelMetrics(), before);
  // Writable again: the next request goes through, no restart.
  ASSERT_EQ(Request("POST", "/api/v1/predictions", llm).status, 200);
  EXPECT_THAT(ModelMetrics(),
              HasSubstr("aiq_predictions_total{model=\"support-assistant\","
                        "version=\"gpt-small-2026-10\"} 2\n"));
  EXPECT_EQ(app_->durable()->Stats().store.append_errors, 1u);
}

TEST_F(DurableStateTest, RemovedModelIsDroppedTheRestKept) {
  ASSERT_OK(Start());
  Rounds(0, 2);
  ASSERT_OK(app_->durable()->CheckpointNow());
  const std::string before = ModelMetrics();
  config::Config c = Config();
  c.models.pop_back();  // support-assistant removed
  ASSERT_OK(Start(std::move(c)));
  const DurableStateStats st = app_->durable()->Stats();
  ASSERT_EQ(st.recovery.dropped.size(), 1u);
  EXPECT_EQ(st.recovery.dropped[0],
            "model \"support-assistant\": no longer configured");
  std::string churn_only;
  std::istringstream in(before);
  for (std::string line; std::getline(in, line);) {
    if (line.find("support-assistant") == std::string::npos) {
      churn_only += line + "\n";
    }
  }
  EXPECT_EQ(ModelMetrics(), churn_only);
}

}  // namespace
}  // namespace aiq::app
