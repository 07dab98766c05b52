#include "exporter/metrics/review_metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace aiq::metrics {
using review::ReviewCounts;
namespace {

std::map<std::string, std::string> LabelMap(const prometheus::ClientMetric& m) {
  std::map<std::string, std::string> out;
  for (const auto& l : m.label) out[l.name] = l.value;
  return out;
}

TEST(ReviewMetricsTest, SamplesPerModelAndReasonAndWriteErrors) {
  ReviewCounts counts;
  counts.models.resize(2);
  counts.models[0].model = "a";
  counts.models[0].samples = {5, 1, 0, 2};  // random, safety, ..., low_conf
  counts.models[1].model = "b";
  counts.write_errors = 3;

  std::vector<prometheus::MetricFamily> families;
  AppendReviewFamilies(counts, families);
  ASSERT_EQ(families.size(), 2u);

  const prometheus::MetricFamily& samples = families[0];
  EXPECT_EQ(samples.name, "aiq_review_samples_total");
  EXPECT_EQ(samples.type, prometheus::MetricType::Counter);
  ASSERT_EQ(samples.metric.size(), 8u);  // zeros included
  std::map<std::pair<std::string, std::string>, double> values;
  for (const prometheus::ClientMetric& m : samples.metric) {
    auto labels = LabelMap(m);
    ASSERT_EQ(labels.size(), 2u);
    values[{labels["model"], labels["reason"]}] = m.counter.value;
  }
  EXPECT_EQ((values[{"a", "random"}]), 5);
  EXPECT_EQ((values[{"a", "safety"}]), 1);
  EXPECT_EQ((values[{"a", "low_feedback"}]), 0);
  EXPECT_EQ((values[{"a", "low_confidence"}]), 2);
  EXPECT_EQ((values[{"b", "low_confidence"}]), 0);
  EXPECT_EQ(values.size(), 8u);

  const prometheus::MetricFamily& errors = families[1];
  EXPECT_EQ(errors.name, "aiq_review_write_errors_total");
  ASSERT_EQ(errors.metric.size(), 1u);
  EXPECT_TRUE(errors.metric[0].label.empty());
  EXPECT_EQ(errors.metric[0].counter.value, 3);
}

TEST(ReviewMetricsTest, NoModelsStillReportsWriteErrors) {
  std::vector<prometheus::MetricFamily> families;
  AppendReviewFamilies(ReviewCounts{}, families);
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(families[0].name, "aiq_review_write_errors_total");
}

}  // namespace
}  // namespace aiq::metrics
