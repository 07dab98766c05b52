#include "exporter/metrics/exposition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exporter/metrics/family_builder.h"

namespace aiq::metrics {
namespace {

using ::testing::HasSubstr;

TEST(ExpositionTest, RendersHistogramCumulatively) {
  constexpr MetricDef kX{"aiq_x_seconds", prometheus::MetricType::Histogram,
                         "X.", "model"};
  FamilyBuilder f(kX);
  f.Histogram({{"model", "m"}}, {0.1, 1}, {1, 2, 3}, 7.5);
  std::string text = RenderText({std::move(f).Build()});
  EXPECT_THAT(text, HasSubstr("# TYPE aiq_x_seconds histogram\n"));
  EXPECT_THAT(text,
              HasSubstr("aiq_x_seconds_bucket{model=\"m\",le=\"0.1\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("aiq_x_seconds_bucket{model=\"m\",le=\"1\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("aiq_x_seconds_bucket{model=\"m\",le=\"+Inf\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("aiq_x_seconds_count{model=\"m\"} 6\n"));
  EXPECT_THAT(text, HasSubstr("aiq_x_seconds_sum{model=\"m\"} 7.5\n"));
}

TEST(ExpositionTest, AcceptEncoding) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, gzip;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("identity"));
  EXPECT_FALSE(AcceptsGzip(""));
}

}  // namespace
}  // namespace aiq::metrics
