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

TEST(SlidingWindowTest, SameBucketAccumulatesNewBucketStartsFromMake) {
  // 10 min in 2 buckets of 5 minutes; make() gives 100, not 0, so a
  // recycled slot is told apart from a kept one.
  SlidingWindow<int64_t> w(absl::Minutes(10), 2, [] { return int64_t{100}; });
  w.Current(kT0) += 1;
  w.Current(kT0 + absl::Minutes(4)) += 1;  // same bucket [0, 5)
  EXPECT_EQ(Sum(w, kT0 + absl::Minutes(4)), 102);
  w.Current(kT0 + absl::Minutes(5)) += 1;  // second slot
  EXPECT_EQ(Sum(w, kT0 + absl::Minutes(5)), 102 + 101);
  // Bucket [10, 15) reuses the first slot: starts again from make().
  w.Current(kT0 + absl::Minutes(10)) += 1;
  EXPECT_EQ(Sum(w, kT0 + absl::Minutes(10)), 101 + 101);
}

TEST(SlidingWindowTest, TimesBeforeTheEpochBucketByFloor) {
  // Buckets of 1 s: -0.5 s is in bucket -1, not bucket 0 with +0.5 s.
  BucketClock clock(absl::Seconds(2), 2);
  EXPECT_EQ(clock.BucketOf(absl::UnixEpoch() + absl::Milliseconds(500)), 0);
  EXPECT_EQ(clock.BucketOf(absl::UnixEpoch() - absl::Milliseconds(500)), -1);
  EXPECT_EQ(clock.BucketOf(absl::UnixEpoch() - absl::Seconds(1)), -1);
  EXPECT_EQ(clock.BucketOf(absl::UnixEpoch() - absl::Milliseconds(1001)), -2);
  EXPECT_TRUE(clock.IsLive(-1, 0));
  EXPECT_FALSE(clock.IsLive(-2, 0));
  EXPECT_FALSE(clock.IsLive(1, 0));
}

}  // namespace
}  // namespace aiq::model
