#include "exporter/model/sliding_window.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

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

std::string Encoded(const SlidingWindow<int64_t>& w) {
  util::BinaryWriter out;
  w.EncodeTo(out, [](util::BinaryWriter& o, int64_t v) { o.Signed(v); });
  return out.Release();
}

absl::Status Decode(std::string_view bytes, SlidingWindow<int64_t>& w) {
  util::BinaryReader r(bytes);
  absl::Status s = w.DecodeFrom(r, [](util::BinaryReader& in, int64_t& v) {
    v = in.Signed("value");
    return in.status();
  });
  return s.ok() ? r.Finish() : s;
}

TEST(SlidingWindowCodecTest, RoundTripKeepsLiveAndExpiredBuckets) {
  auto make = [] { return int64_t{100}; };
  SlidingWindow<int64_t> w(absl::Hours(1), 4, make);
  for (int i = 0; i < 7; ++i) w.Current(kT0 + absl::Minutes(15 * i)) += i;
  SlidingWindow<int64_t> restored(absl::Hours(1), 4, make);
  restored.Current(kT0) += 5;
  ASSERT_TRUE(Decode(Encoded(w), restored).ok());
  EXPECT_EQ(Encoded(restored), Encoded(w));
  for (int m : {89, 90, 105, 120, 150, 200}) {
    EXPECT_EQ(Sum(restored, kT0 + absl::Minutes(m)),
              Sum(w, kT0 + absl::Minutes(m)))
        << m;
  }
  EXPECT_EQ(Sum(restored, kT0 + absl::Minutes(90)), 103 + 104 + 105 + 106);
  // Writes recycle the same slots in both.
  for (int m : {100, 130, 131, 200}) {
    w.Current(kT0 + absl::Minutes(m)) += 1;
    restored.Current(kT0 + absl::Minutes(m)) += 1;
  }
  EXPECT_EQ(Encoded(restored), Encoded(w));
}

TEST(SlidingWindowCodecTest, TruncatedOrMalformedIsDataLossAndChangesNothing) {
  auto make = [] { return int64_t{0}; };
  SlidingWindow<int64_t> w(absl::Hours(1), 4, make);
  for (int i = 0; i < 3; ++i) w.Current(kT0 + absl::Minutes(15 * i)) += 7;
  SlidingWindow<int64_t> target(absl::Hours(1), 4, make);
  target.Current(kT0) += 1;
  const std::string before = Encoded(target);
  const std::string full = Encoded(w);
  for (size_t n = 0; n < full.size(); ++n) {
    const absl::Status s = Decode(std::string_view(full).substr(0, n), target);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << n << ": " << s;
    EXPECT_EQ(Encoded(target), before) << n;
  }
  // Two buckets in one slot (numbers 4 apart in a 4-bucket window).
  BucketClock clock(absl::Hours(1), 4);
  util::BinaryWriter clash;
  clock.EncodeShape(clash);
  clash.Varint(2);
  clash.Signed(8);
  clash.Signed(1);
  clash.Signed(12);
  clash.Signed(1);
  const absl::Status s = Decode(clash.data(), target);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("slot is taken"), std::string::npos) << s;
  EXPECT_EQ(Encoded(target), before);
}

TEST(SlidingWindowCodecTest, OtherShapeIsFailedPrecondition) {
  auto make = [] { return int64_t{0}; };
  SlidingWindow<int64_t> w(absl::Hours(1), 4, make);
  w.Current(kT0) += 1;
  SlidingWindow<int64_t> more_buckets(absl::Hours(1), 6, make);
  absl::Status s = Decode(Encoded(w), more_buckets);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "sliding window: the checkpoint has 4 buckets of 15m, this "
            "window 6 of 10m");
  SlidingWindow<int64_t> longer(absl::Hours(2), 4, make);
  EXPECT_EQ(Decode(Encoded(w), longer).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Sum(longer, kT0), 0);
}

}  // namespace
}  // namespace aiq::model
