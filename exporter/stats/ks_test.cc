#include "exporter/stats/ks.h"

#include <gtest/gtest.h>

namespace aiq::stats {
namespace {

TEST(KsTest, EmptySampleIsAnError) {
  std::vector<double> a = {1.0};
  EXPECT_FALSE(KsTwoSample(a, {}).ok());
}

}  // namespace
}  // namespace aiq::stats
