#include "exporter/backtest/replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
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

  // Reads `ndjson` (predictions) and `labels`, replays, returns the history.
  std::string Run(std::string_view predictions, std::string_view labels,
                  ReplayOptions options = {}) {
    EventLog log(config_);
    Read(log, "p.ndjson", predictions, ingest::EventKind::kPrediction);
    Read(log, "l.ndjson", labels, ingest::EventKind::kLabel);
    log.SortByTime();
    Replay replay(config_);
    EXPECT_TRUE(replay.LoadReferences().ok());
    std::ostringstream history;
    absl::StatusOr<ReplaySummary> s = replay.Run(log, options, history);
    EXPECT_TRUE(s.ok()) << s.status();
    if (s.ok()) summary_ = *s;
    bad_lines_ = log.bad_lines();
    return history.str();
  }
  void Read(EventLog& log, std::string_view name, std::string_view data,
            ingest::EventKind kind) {
    const std::string path = ::testing::TempDir() + "/" + std::string(name);
    FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(data.data(), 1, data.size(), f);
    std::fclose(f);
    ASSERT_TRUE(log.Read(path, kind).ok());
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
}

}  // namespace
}  // namespace aiq::backtest
