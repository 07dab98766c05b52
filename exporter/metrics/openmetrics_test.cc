#include "exporter/metrics/openmetrics.h"

#include <gtest/gtest.h>

namespace aiq::metrics {
namespace {

constexpr std::string_view kScrape =
    R"(# HELP aiq_predictions_total Predictions.
# TYPE aiq_predictions_total counter
aiq_predictions_total{model="m",version="v1"} 5
# TYPE aiq_window_samples gauge
aiq_window_samples{model="m",note="a \"quoted\", {braced} value"} 0.25
# TYPE aiq_odd counter
aiq_odd 3
# TYPE aiq_latency_seconds histogram
aiq_latency_seconds_bucket{model="m",le="0.1"} 1
aiq_latency_seconds_bucket{model="m",le="+Inf"} 2
aiq_latency_seconds_sum{model="m"} 1.5
aiq_latency_seconds_count{model="m"} 2
# TYPE something untyped
something{job="own"} 7
)";

TEST(OpenMetricsHistoryTest, AddsTargetLabelsAndTimestampsAndNamesFamilies) {
  OpenMetricsHistory h({{"job", "aiq"}, {"instance", "host:9477"}});
  std::string out;
  h.AppendScrape(kScrape, absl::FromUnixSeconds(1'700'000'060), out);
  h.AppendSample("up", 1, absl::FromUnixMillis(1'700'000'060'250), out);
  h.AppendSample("process_start_time_seconds", 1'700'000'000.5,
                 absl::FromUnixSeconds(1'700'000'060), out);
  EXPECT_EQ(out, R"(# TYPE aiq_predictions counter
aiq_predictions_total{job="aiq",instance="host:9477",model="m",version="v1"} 5 1700000060
# TYPE aiq_window_samples gauge
aiq_window_samples{job="aiq",instance="host:9477",model="m",note="a \"quoted\", {braced} value"} 0.25 1700000060
# TYPE aiq_odd unknown
aiq_odd{job="aiq",instance="host:9477"} 3 1700000060
# TYPE aiq_latency_seconds histogram
aiq_latency_seconds_bucket{job="aiq",instance="host:9477",model="m",le="0.1"} 1 1700000060
aiq_latency_seconds_bucket{job="aiq",instance="host:9477",model="m",le="+Inf"} 2 1700000060
aiq_latency_seconds_sum{job="aiq",instance="host:9477",model="m"} 1.5 1700000060
aiq_latency_seconds_count{job="aiq",instance="host:9477",model="m"} 2 1700000060
# TYPE something unknown
something{instance="host:9477",job="own"} 7 1700000060
up{job="aiq",instance="host:9477"} 1 1700000060.250
process_start_time_seconds{job="aiq",instance="host:9477"} 1700000000.5 1700000060
)");
}

// promtool (Debian's prometheus package) loads what it writes, with the
// same family repeated once per scrape.
TEST(OpenMetricsHistoryTest, PromtoolBackfillsIt) {
  OpenMetricsHistory h({{"job", "aiq"}, {"instance", "host:9477"}});
  std::string out;
  for (int step = 0; step < 3; ++step) {
    h.AppendScrape(kScrape, absl::FromUnixSeconds(1'700'000'000 + 60 * step),
                   out);
  }
  out += OpenMetricsHistory::kEof;
  const std::string dir = ::testing::TempDir() + "/openmetrics_test";
  ASSERT_EQ(std::system(("rm -rf " + dir + " && mkdir -p " + dir).c_str()), 0);
  const std::string file = dir + "/history.om";
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(out.data(), 1, out.size(), f), out.size());
  std::fclose(f);
  const std::string cmd = "promtool tsdb create-blocks-from openmetrics " +
                          file + " " + dir + "/data > " + dir + "/log 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  // 8 series x 3 samples.
  // (dump reads the WAL too, which backfilling does not write.)
  const std::string dump = "mkdir -p " + dir +
                           "/data/wal && promtool tsdb dump " + dir +
                           "/data | wc -l > " + dir + "/count";
  ASSERT_EQ(std::system(dump.c_str()), 0);
  FILE* c = std::fopen((dir + "/count").c_str(), "r");
  ASSERT_NE(c, nullptr);
  int lines = 0;
  ASSERT_EQ(std::fscanf(c, "%d", &lines), 1);
  std::fclose(c);
  EXPECT_EQ(lines, 24);
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace aiq::metrics
