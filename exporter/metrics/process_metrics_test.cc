#include "exporter/metrics/process_metrics.h"

#include <gtest/gtest.h>

namespace aiq::metrics::detail {
namespace {

TEST(ProcessMetricsTest, ParsesProcStat) {
  // A command name with spaces and parentheses must not shift the fields.
  const std::string stat =
      "1234 (ai (quality) x) S 1 1234 1234 0 -1 4194560 500 0 0 0 "
      "250 50 0 0 20 0 9 0 1000 104857600 2560 18446744073709551615";
  std::optional<ProcessStats> s = ParseProcStat(stat, 1'700'000'000, 100, 4096);
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.0);
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1'700'000'010.0);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 104857600.0);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 2560.0 * 4096);
  EXPECT_FALSE(ParseProcStat("garbage", 0, 100, 4096).has_value());
}

TEST(ProcessMetricsTest, ParsesBootTimeAndLimits) {
  EXPECT_EQ(ParseBootTime("cpu  1 2 3\nbtime 1700000000\nprocesses 5\n"),
            1'700'000'000.0);
  EXPECT_EQ(ParseMaxOpenFiles("Limit Soft Hard Units\n"
                              "Max open files            1024  4096  files\n"),
            1024.0);
}

TEST(ProcessMetricsTest, ReadsThisProcess) {
  std::vector<prometheus::MetricFamily> f = ProcessFamilies();
  ASSERT_GE(f.size(), 5u);
  EXPECT_EQ(f[0].name, "process_cpu_seconds_total");
  EXPECT_GT(f[1].metric[0].gauge.value, 0);  // resident memory
}

}  // namespace
}  // namespace aiq::metrics::detail
