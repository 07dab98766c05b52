#include "exporter/model/sliding_window.h"

#include <gtest/gtest.h>

namespace aiq::model {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);  // bucket-aligned

int64_t Sum(const SlidingWindow<int64_t>& w, absl::Time now) {
  int64_t n = 0;
  w.ForEachLive(now, [&](int64_t v) { n += v; });
  return n;
}

TEST(SlidingWindowTest, ExpiresOneBucketAtATime) {
  // 1h in 4 buckets of 15 minutes.
  SlidingWindow<int64_t> w(absl::Hours(1), 4, [] { return int64_t{0}; });
  for (int i = 0; i < 4; ++i) w.Current(kT0 + absl::Minutes(15 * i)) += 10 + i;
  EXPECT_EQ(Sum(w, kT0 + absl::Minutes(59)), 10 + 11 + 12 + 13);
  // At 60 min the first bucket [0,15) leaves the window.
  EXPECT_EQ(Sum(w, kT0 + absl::Minutes(60)), 11 + 12 + 13);
  EXPECT_EQ(Sum(w, kT0 + absl::Minutes(104)), 13);  // buckets 3..6
  EXPECT_EQ(Sum(w, kT0 + absl::Minutes(105)), 0);   // bucket 3 aged out
  // Writing recycles the slot: old contents are gone.
  w.Current(kT0 + absl::Minutes(120)) += 1;
  EXPECT_EQ(Sum(w, kT0 + absl::Minutes(120)), 1);
}

TEST(SlidingWindowTest, GenerationChangesOnRecycle) {
  SlidingWindow<int64_t> w(absl::Minutes(10), 2, [] { return int64_t{0}; });
  w.Current(kT0);
  const uint64_t g = w.generation();
  w.Current(kT0 + absl::Minutes(1));
  EXPECT_EQ(w.generation(), g);
  w.Current(kT0 + absl::Minutes(5));
  EXPECT_EQ(w.generation(), g + 1);
}

}  // namespace
}  // namespace aiq::model
