#include "exporter/stats/sort.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <vector>

namespace aiq::stats {
namespace {

TEST(SortFiniteTest, EqualsStdSort) {
  std::mt19937_64 rng(3);
  for (size_t n : {0u, 1u, 7u, 511u, 512u, 10000u, 100000u}) {
    std::vector<double> v(n);
    std::normal_distribution<double> normal(0, 1e3);
    for (size_t i = 0; i < n; ++i) {
      v[i] = i % 7 == 0 ? std::round(normal(rng)) : normal(rng);  // ties
    }
    if (n > 10) {
      v[1] = std::numeric_limits<double>::infinity();
      v[2] = -std::numeric_limits<double>::infinity();
      v[3] = -0.0;
      v[4] = 0.0;
      v[5] = std::numeric_limits<double>::denorm_min();
      v[6] = -std::numeric_limits<double>::max();
    }
    std::vector<double> expected = v;
    std::sort(expected.begin(), expected.end());
    SortFinite(v);
    ASSERT_EQ(v.size(), expected.size());
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(v[i], expected[i]) << "n=" << n << " i=" << i;
    }
  }
}

TEST(SortFiniteTest, AllEqual) {
  std::vector<double> v(5000, 2.5);
  SortFinite(v);
  EXPECT_TRUE(
      std::all_of(v.begin(), v.end(), [](double x) { return x == 2.5; }));
}

}  // namespace
}  // namespace aiq::stats
