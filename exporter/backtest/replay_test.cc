#include "exporter/backtest/replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "exporter/backtest/event_log.h"
#include "exporter/backtest/event_stream.h"
#include "exporter/config/config_loader.h"

namespace aiq::backtest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kT0 = 1'700'000'040;  // a multiple of 60

class ReplayTest : public ::testing::Test {
 protected:
  ReplayTest() {
    std::vector<config::ConfigError> errors;
    config_ = *config::ParseConfig(R"(
models:
  - name: m
    classes: [a, b]
    window: {duration: 10m, buckets: 2, min_samples: 1, max_lateness: 5m}
)",
                                   "t", errors);
  }

  // Reads `ndjson` (predictions) and `labels` into memory (or streams
  // them: files in time order only), replays, returns the history.
  std::string Run(std::string_view predictions, std::string_view labels,
                  ReplayOptions options = {}, bool stream = false) {
    const std::string p = Write("p.ndjson", predictions);
    const std::string l = Write("l.ndjson", labels);
    EventLog log(config_);
    EventStream streamed(config_);
    EventSource* events = &log;
    if (stream) {
      EXPECT_TRUE(streamed.Add(p, ingest::EventKind::kPrediction).ok());
      EXPECT_TRUE(streamed.Add(l, ingest::EventKind::kLabel).ok());
      events = &streamed;
    } else {
      EXPECT_TRUE(log.Read(p, ingest::EventKind::kPrediction).ok());
      EXPECT_TRUE(log.Read(l, ingest::EventKind::kLabel).ok());
      log.SortByTime();
    }
    Replay replay(config_);
    EXPECT_TRUE(replay.LoadReferences().ok());
    std::ostringstream history;
    absl::StatusOr<ReplaySummary> s = replay.Run(*events, options, history);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) summary_ = *s;
    bad_lines_ = events->bad_lines();
    return history.str();
  }
  static std::string Write(std::string_view name, std::string_view data) {
    // Per test: ctest runs the tests of this binary concurrently.
    const ::testing::TestInfo* test =
        ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string path =
        absl::StrCat(::testing::TempDir(), "/", test->test_suite_name(), ".",
                     test->name(), ".", std::string(name));
    FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
    return path;
  }
  static std::string Ts(int64_t offset) {
    return absl::StrCat(" ", kT0 + offset);
  }
  static std::string Target() {
    return R"(job="ai-quality-exporter",instance="exporter:9477")";
  }

  config::Config config_;
  ReplaySummary summary_;
  std::vector<BadLine> bad_lines_;
};

TEST_F(ReplayTest, ScrapesEveryStepOnTheEventsClock) {
  const std::string h =
      Run(absl::StrCat(R"({"model":"m","id":"p2","timestamp":)", kT0 + 70,
                       R"(,"prediction":"b","latency_ms":200})", "\n",
                       R"({"model":"m","id":"p1","timestamp":)", kT0 + 10,
                       R"(,"prediction":"a","latency_ms":100})", "\n"),
          absl::StrCat(R"({"model":"m","id":"p1","timestamp":)", kT0 + 100,
                       R"(,"label":"a"})", "\n",
                       R"({"model":"m","id":"p1","timestamp":)", kT0 + 110,
                       R"(,"label":"a"})", "\n"));
  EXPECT_EQ(summary_.start, absl::FromUnixSeconds(kT0));
  EXPECT_EQ(summary_.end, absl::FromUnixSeconds(kT0 + 120));
  EXPECT_EQ(summary_.steps, 3);
  EXPECT_EQ(summary_.applied, 3);
  EXPECT_EQ(summary_.rejected, 1);  // the second label of p1
  ASSERT_EQ(bad_lines_.size(), 1u);
  EXPECT_THAT(bad_lines_[0].ToString(), HasSubstr("l.ndjson:2: id:"));
  EXPECT_EQ(summary_.history_bytes, static_cast<int64_t>(h.size()));
  EXPECT_TRUE(absl::EndsWith(h, "\n# EOF\n"));
  for (int64_t at : {0, 60, 120}) {
    EXPECT_THAT(h, HasSubstr("up{" + Target() + "} 1" + Ts(at) + "\n"));
    EXPECT_THAT(h, HasSubstr("process_start_time_seconds{" + Target() + "} " +
                             std::to_string(kT0) + Ts(at) + "\n"));
  }
  // Counters as a scrape at each step would have seen them.
  const std::string predictions =
      "aiq_predictions_total{" + Target() + R"(,model="m",version="default"} )";
  EXPECT_THAT(h, HasSubstr(predictions + "1" + Ts(60) + "\n"));
  EXPECT_THAT(h, HasSubstr(predictions + "2" + Ts(120) + "\n"));
  EXPECT_THAT(h, HasSubstr("aiq_labels_total{" + Target() +
                           R"(,model="m",version="default"} 1)" + Ts(120)));
  EXPECT_THAT(h,
              HasSubstr("aiq_exporter_events_rejected_total{" + Target() +
                        R"(,kind="label",reason="duplicate_id"} 1)" + Ts(120)));
  EXPECT_THAT(h, HasSubstr("aiq_late_events_total{" + Target() +
                           R"(,model="m",kind="prediction"} 0)" + Ts(120)));
  // The window's accuracy from the one label, at the step after it.
  EXPECT_THAT(h, HasSubstr(R"(,model="m",version="default"} 1)" + Ts(120)));
  EXPECT_THAT(h, Not(HasSubstr("process_cpu_seconds_total")));
}

TEST_F(ReplayTest, TheSameEventsInAnyOrderGiveTheSameHistory) {
  std::string sorted, shuffled;
  for (int i = 0; i < 300; ++i) {
    absl::StrAppend(&sorted, R"({"model":"m","id":"p)", i, R"(","timestamp":)",
                    kT0 + 7 * i, R"(,"prediction":")", i % 3 ? "a" : "b",
                    R"(","confidence":0.)", 5 + i % 5, "}\n");
  }
  std::vector<std::string> lines = absl::StrSplit(sorted, '\n');
  std::string reversed;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    absl::StrAppend(&reversed, *it, "\n");
  }
  const std::string a = Run(sorted, "");
  const std::string b = Run(reversed, "");
  EXPECT_EQ(summary_.steps, 36);
  EXPECT_EQ(a, b);
  // The window (10 min in 2 buckets) forgets: the last step has only the
  // events of its last 5-10 minutes.
  EXPECT_THAT(a, HasSubstr("aiq_predictions_total{" + Target() +
                           R"(,model="m",version="default"} 300)" + Ts(2100)));
}

TEST_F(ReplayTest, AStreamedLogGivesTheSameHistoryAsOneSortedInMemory) {
  std::string predictions, labels;
  for (int i = 0; i < 300; ++i) {
    absl::StrAppend(&predictions, R"({"model":"m","id":"p)", i,
                    R"(","timestamp":)", kT0 + 7 * i, R"(,"prediction":")",
                    i % 3 ? "a" : "b", R"(","latency_ms":)", i % 50, "}\n");
    if (i % 2 == 0) {
      absl::StrAppend(&labels, R"({"model":"m","id":"p)", i,
                      R"(","timestamp":)", kT0 + 7 * i + 30, R"(,"label":")",
                      i % 5 ? "a" : "b", "\"}\n");
    }
  }
  // A duplicate label: refused by the model, a bad line either way.
  absl::StrAppend(&labels, R"({"model":"m","id":"p298","timestamp":)",
                  kT0 + 7 * 300 + 30, R"(,"label":"a"})", "\n");
  const std::string in_memory = Run(predictions, labels);
  const ReplaySummary sorted = summary_;
  const std::vector<BadLine> sorted_bad = bad_lines_;
  const std::string streamed = Run(predictions, labels, {}, /*stream=*/true);
  EXPECT_TRUE(streamed == in_memory);  // (not printed: 700 kB)
  EXPECT_EQ(summary_.steps, sorted.steps);
  EXPECT_EQ(summary_.applied, 450);
  EXPECT_EQ(sorted.applied, 450);
  EXPECT_EQ(summary_.end, sorted.end);
  ASSERT_EQ(bad_lines_.size(), 1u);
  ASSERT_EQ(sorted_bad.size(), 1u);
  EXPECT_EQ(bad_lines_[0].ToString(), sorted_bad[0].ToString());
  EXPECT_THAT(bad_lines_[0].ToString(), HasSubstr("l.ndjson:151: id:"));
}

TEST_F(ReplayTest, StartAndEndBoundTheScrapes) {
  ReplayOptions options;
  options.start = absl::FromUnixSeconds(kT0 + 60);
  options.end = absl::FromUnixSeconds(kT0 + 60);
  const std::string h =
      Run(absl::StrCat(R"({"model":"m","timestamp":)", kT0 + 10,
                       R"(,"prediction":"a"})", "\n",
                       R"({"model":"m","timestamp":)", kT0 + 200,
                       R"(,"prediction":"a"})", "\n"),
          "", options);
  EXPECT_EQ(summary_.steps, 1);
  EXPECT_EQ(summary_.applied, 1);  // before start: replayed, not scraped
  EXPECT_EQ(summary_.after_end, 1);
  EXPECT_THAT(h, HasSubstr("aiq_predictions_total{" + Target() +
                           R"(,model="m",version="default"} 1)" + Ts(60)));
  EXPECT_THAT(h, Not(HasSubstr(Ts(0) + "\n")));
  // The same streamed: the event after --end is counted, not replayed.
  const std::string streamed =
      Run(absl::StrCat(R"({"model":"m","timestamp":)", kT0 + 10,
                       R"(,"prediction":"a"})", "\n",
                       R"({"model":"m","timestamp":)", kT0 + 200,
                       R"(,"prediction":"a"})", "\n"),
          "", options, /*stream=*/true);
  EXPECT_EQ(streamed, h);
  EXPECT_EQ(summary_.applied, 1);
  EXPECT_EQ(summary_.after_end, 1);
}

}  // namespace
}  // namespace aiq::backtest
