#include "exporter/model/histogram.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/testing/codec_test_util.h"

namespace aiq::model {
namespace {

std::shared_ptr<const std::vector<double>> Bounds(std::vector<double> b) {
  return std::make_shared<const std::vector<double>>(std::move(b));
}

using aiq::testing::Encoded;

TEST(HistogramTest, ObserveCountsEachRangeOnce) {
  Histogram h(Bounds({0.1, 1, 10}));
  for (double v : {0.05, 0.1, 0.5, 1.0, 5.0, 11.0}) h.Observe(v);
  EXPECT_EQ(h.counts(), (std::vector<uint64_t>{2, 2, 1, 1}));
  EXPECT_EQ(h.count(), 6u);
  EXPECT_EQ(h.sum(), 0.05 + 0.1 + 0.5 + 1.0 + 5.0 + 11.0);
}

TEST(HistogramTest, MergeMapsOtherBoundsUpward) {
  Histogram h(Bounds({0.1, 1, 10}));
  // The same bounds: exact.
  const std::vector<double> same = {0.1, 1, 10};
  const std::vector<uint64_t> counts = {1, 2, 3, 4};
  h.Merge(same, counts, 50);
  EXPECT_EQ(h.counts(), (std::vector<uint64_t>{1, 2, 3, 4}));
  // Finer bounds: (0.1, 0.5] and (0.5, 1] both land in (0.1, 1]; (10, 20]
  // and above 20 in +Inf; (1, 2] in (1, 10].
  const std::vector<double> finer = {0.1, 0.5, 1, 2, 10, 20};
  const std::vector<uint64_t> finer_counts = {1, 1, 1, 1, 1, 1, 1};
  h.Merge(finer, finer_counts, 25);
  EXPECT_EQ(h.counts(), (std::vector<uint64_t>{2, 4, 5, 6}));
  // A bound between ours counts in the next one up, never lower.
  const std::vector<double> coarse = {0.5};
  const std::vector<uint64_t> coarse_counts = {3, 0};
  h.Merge(coarse, coarse_counts, 1);
  EXPECT_EQ(h.counts(), (std::vector<uint64_t>{2, 7, 5, 6}));
  EXPECT_EQ(h.count(), 20u);
  EXPECT_EQ(h.sum(), 76.0);
}

TEST(HistogramTest, CodecRoundTripsAndContinuesIdentically) {
  const auto bounds = Bounds({0.1, 1, 10});
  Histogram h(bounds);
  for (int i = 0; i < 1000; ++i) h.Observe(0.013 * i * (i % 7));
  const std::string bytes = Encoded(h);
  Histogram restored(Bounds({0.1, 1, 10}));  // equal bounds, not the same
  restored.Observe(3);
  util::BinaryReader r(bytes);
  ASSERT_TRUE(restored.DecodeFrom(r).ok());
  ASSERT_TRUE(r.Finish().ok());
  EXPECT_EQ(Encoded(restored), bytes);
  EXPECT_EQ(restored.counts(), h.counts());
  EXPECT_EQ(restored.sum(), h.sum());
  EXPECT_EQ(restored.count(), 1000u);
  for (double v : {0.3, 7.0, 1e9, 0.1 / 3}) {
    h.Observe(v);
    restored.Observe(v);
  }
  EXPECT_EQ(restored.sum(), h.sum());
  EXPECT_EQ(Encoded(restored), Encoded(h));
}

TEST(HistogramTest, TruncatedInputIsDataLossAndChangesNothing) {
  Histogram h(Bounds({1, 2}));
  for (double v : {0.5, 1.5, 2.5, 1.0}) h.Observe(v);
  Histogram target(Bounds({1, 2}));
  target.Observe(1.5);
  aiq::testing::ExpectTruncationIsDataLoss(Encoded(h), target);
}

TEST(HistogramTest, CountsThatDoNotAddUpAreDataLoss) {
  util::BinaryWriter w;
  w.Doubles(std::vector<double>{1.0});
  w.Varint(2);  // (-inf, 1]
  w.Varint(1);  // (1, +inf)
  w.Double(3.0);
  w.Varint(4);  // not 2 + 1
  Histogram target(Bounds({1}));
  util::BinaryReader r(w.data());
  const absl::Status s = target.DecodeFrom(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("histogram count"), std::string::npos) << s;
  EXPECT_EQ(target.count(), 0u);
}

TEST(HistogramTest, OtherBoundsAreFailedPrecondition) {
  Histogram h(Bounds({0.1, 1, 10}));
  h.Observe(0.5);
  const std::string bytes = Encoded(h);
  {
    Histogram fewer(Bounds({0.1, 1}));
    util::BinaryReader r(bytes);
    const absl::Status s = fewer.DecodeFrom(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(),
              "histogram: the checkpoint has 3 bucket bounds, this "
              "histogram 2");
    EXPECT_EQ(fewer.count(), 0u);
  }
  {
    Histogram moved(Bounds({0.1, 2, 10}));
    util::BinaryReader r(bytes);
    const absl::Status s = moved.DecodeFrom(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(),
              "histogram: bucket bound 1 is 1 in the checkpoint, 2 here");
    EXPECT_EQ(moved.count(), 0u);
  }
}

}  // namespace
}  // namespace aiq::model
