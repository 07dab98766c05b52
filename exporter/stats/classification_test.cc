// Classification metrics against every `classification` case of the sklearn
// oracle, and the accumulators' merge/subtract against batch.
#include "exporter/stats/classification.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/stats/oracle_test_util.h"
#include "exporter/testing/codec_test_util.h"
#include "exporter/util/binary_codec.h"

namespace aiq::stats {
namespace {

using ::aiq::stats::testing::Cases;
using ::aiq::stats::testing::Near;
using ::testing::HasSubstr;

void ExpectMetrics(const ClassificationMetrics& m, const nlohmann::json& e) {
  EXPECT_PRED_FORMAT2(Near, m.accuracy, e["accuracy"].get<double>());
  EXPECT_PRED_FORMAT2(Near, m.precision_macro,
                      e["precision_macro"].get<double>());
  EXPECT_PRED_FORMAT2(Near, m.recall_macro, e["recall_macro"].get<double>());
  EXPECT_PRED_FORMAT2(Near, m.f1_macro, e["f1_macro"].get<double>());
  EXPECT_PRED_FORMAT2(Near, m.precision_weighted,
                      e["precision_weighted"].get<double>());
  EXPECT_PRED_FORMAT2(Near, m.recall_weighted,
                      e["recall_weighted"].get<double>());
  EXPECT_PRED_FORMAT2(Near, m.f1_weighted, e["f1_weighted"].get<double>());
}

TEST(ClassificationOracleTest, EveryClassificationCase) {
  const auto cases = Cases("classification");
  ASSERT_EQ(cases.size(), 3u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto y_true = c["y_true"].get<std::vector<std::string>>();
    const auto y_pred = c["y_pred"].get<std::vector<std::string>>();
    const auto& e = c["expected"];
    absl::StatusOr<ClassificationReport> r;
    if (c.contains("probabilities")) {
      const auto classes = c["classes"].get<std::vector<std::string>>();
      std::vector<double> probs;
      for (const auto& row : c["probabilities"]) {
        for (const auto& p : row) probs.push_back(p.get<double>());
      }
      r = EvaluateClassification(y_true, y_pred, classes, probs);
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_TRUE(r->ece.has_value());
      EXPECT_PRED_FORMAT2(Near, *r->ece, e["ece"].get<double>());
      EXPECT_PRED_FORMAT2(Near, *r->brier, e["brier"].get<double>());
    } else {
      r = EvaluateClassification(y_true, y_pred);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_FALSE(r->ece.has_value());
    }
    ExpectMetrics(r->metrics, e);
  }
}

TEST(ClassificationTest, PerClassAndNeverPredicted) {
  // class_never_predicted: b is never predicted -> precision 0 (zero
  // division), recall 0, f1 0; still a label (support 1).
  std::vector<std::string> t = {"a", "b", "c", "c"}, p = {"a", "a", "c", "c"};
  ClassificationReport r = *EvaluateClassification(t, p);
  ASSERT_EQ(r.metrics.per_class.size(), 3u);
  EXPECT_EQ(r.labels[1], "b");
  EXPECT_EQ(r.metrics.per_class[1].precision, 0);
  EXPECT_EQ(r.metrics.per_class[1].f1, 0);
  EXPECT_EQ(r.metrics.per_class[1].support, 1);
  EXPECT_EQ(r.metrics.per_class[0].precision, 0.5);
}

TEST(ClassificationTest, Errors) {
  std::vector<std::string> empty, one = {"a"}, two = {"a", "b"};
  absl::StatusOr<ClassificationReport> r = EvaluateClassification(empty, empty);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("empty"));
  EXPECT_FALSE(EvaluateClassification(one, two).ok());
  std::vector<std::string> classes = {"a"};
  std::vector<double> probs = {1.0, 0.0};  // wrong shape
  EXPECT_FALSE(EvaluateClassification(one, one, classes, probs).ok());
  ConfusionMatrix m;
  EXPECT_FALSE(ComputeClassificationMetrics(m).ok());
  EXPECT_FALSE(m.Add(-1, 0).ok());
  EXPECT_EQ(m.Subtract(0, 0).code(), absl::StatusCode::kFailedPrecondition);
  CalibrationAccumulator cal;
  EXPECT_FALSE(cal.Add(std::nan(""), true).ok());
  EXPECT_FALSE(cal.Add(1.5, true).ok());
  EXPECT_FALSE(cal.Ece().ok());
  BrierAccumulator b;
  std::vector<double> row = {0.5, std::nan("")};
  EXPECT_FALSE(b.Add(row, 0).ok());
  EXPECT_FALSE(b.Add(row, 2).ok());
  EXPECT_FALSE(b.Score().ok());
}

TEST(CalibrationTest, BinEdges) {
  EXPECT_EQ(CalibrationAccumulator::BinOf(0.0), 0);
  EXPECT_EQ(CalibrationAccumulator::BinOf(0.1), 1);
  EXPECT_EQ(CalibrationAccumulator::BinOf(0.3), 3);
  EXPECT_EQ(CalibrationAccumulator::BinOf(std::nextafter(0.3, 0.0)), 2);
  EXPECT_EQ(CalibrationAccumulator::BinOf(0.7), 7);
  EXPECT_EQ(CalibrationAccumulator::BinOf(0.99999), 9);
  EXPECT_EQ(CalibrationAccumulator::BinOf(1.0), 9);  // last bin closed
}

TEST(AccumulatorTest, BucketsMergeAndExpireLikeBatch) {
  const auto cases = Cases("classification");
  ASSERT_FALSE(cases.empty());
  const auto& c = cases[0];  // with probabilities
  const auto y_true = c["y_true"].get<std::vector<std::string>>();
  const auto classes = c["classes"].get<std::vector<std::string>>();
  auto index = [&](const std::string& s) {
    return static_cast<int>(std::find(classes.begin(), classes.end(), s) -
                            classes.begin());
  };
  const auto y_pred = c["y_pred"].get<std::vector<std::string>>();
  const auto probs = c["probabilities"];
  struct Bucket {
    ConfusionMatrix cm;
    CalibrationAccumulator cal;
    BrierAccumulator brier;
  };
  std::vector<Bucket> buckets;
  for (size_t i = 0; i < y_true.size(); ++i) {
    if (i % 64 == 0) buckets.emplace_back();
    Bucket& b = buckets.back();
    const auto p = probs[i].get<std::vector<double>>();
    ASSERT_TRUE(b.cm.Add(index(y_true[i]), index(y_pred[i])).ok());
    const int top = ArgMax(p);
    ASSERT_TRUE(
        b.cal.Add(p[static_cast<size_t>(top)], top == index(y_true[i])).ok());
    ASSERT_TRUE(b.brier.Add(p, index(y_true[i])).ok());
  }
  Bucket w;
  for (const Bucket& b : buckets) {
    w.cm.Merge(b.cm);
    w.cal.Merge(b.cal);
    w.brier.Merge(b.brier);
  }
  // Expire two buckets and re-add them.
  for (int k : {0, 3}) {
    ASSERT_TRUE(w.cm.Unmerge(buckets[static_cast<size_t>(k)].cm).ok());
    w.cal.Unmerge(buckets[static_cast<size_t>(k)].cal);
    w.brier.Unmerge(buckets[static_cast<size_t>(k)].brier);
  }
  for (int k : {0, 3}) {
    w.cm.Merge(buckets[static_cast<size_t>(k)].cm);
    w.cal.Merge(buckets[static_cast<size_t>(k)].cal);
    w.brier.Merge(buckets[static_cast<size_t>(k)].brier);
  }
  ExpectMetrics(*ComputeClassificationMetrics(w.cm), c["expected"]);
  EXPECT_PRED_FORMAT2(Near, *w.cal.Ece(), c["expected"]["ece"].get<double>());
  EXPECT_PRED_FORMAT2(Near, *w.brier.Score(),
                      c["expected"]["brier"].get<double>());
  // Per-row subtract returns to the state without that row.
  const auto p0 = probs[0].get<std::vector<double>>();
  ASSERT_TRUE(w.brier.Subtract(p0, index(y_true[0])).ok());
  EXPECT_EQ(w.brier.count(), static_cast<int64_t>(y_true.size()) - 1);
}

TEST(ConfusionMatrixTest, GrowsAndIgnoresAbsentClasses) {
  ConfusionMatrix m;
  ASSERT_TRUE(m.Add(0, 0).ok());
  ASSERT_TRUE(m.Add(4, 4, 3).ok());  // classes 1..3 absent in this window
  EXPECT_EQ(m.num_classes(), 5);
  ClassificationMetrics r = *ComputeClassificationMetrics(m);
  EXPECT_EQ(r.per_class.size(), 2u);
  EXPECT_EQ(r.accuracy, 1.0);
  EXPECT_EQ(r.f1_macro, 1.0);
}

using aiq::testing::Decoded;
using aiq::testing::Encoded;
using aiq::testing::ExpectTruncationIsDataLoss;

TEST(AccumulatorCodecTest, ConfusionCalibrationAndBrierContinueIdentically) {
  ConfusionMatrix cm;
  CalibrationAccumulator cal;
  BrierAccumulator brier;
  auto feed = [&](ConfusionMatrix& m, CalibrationAccumulator& c,
                  BrierAccumulator& b, int n, int classes) {
    std::mt19937_64 local(static_cast<uint64_t>(n * 31 + classes));
    std::uniform_real_distribution<double> lu(0, 1);
    for (int i = 0; i < n; ++i) {
      const int t = static_cast<int>(lu(local) * classes);
      const int p = lu(local) < 0.7 ? t : static_cast<int>(lu(local) * classes);
      ASSERT_TRUE(m.Add(t, p).ok());
      const double conf = 0.1 + 0.9 * lu(local);
      ASSERT_TRUE(c.Add(conf, t == p).ok());
      std::vector<double> probs(static_cast<size_t>(classes),
                                (1 - conf) / (classes - 1));
      probs[static_cast<size_t>(p)] = conf;
      ASSERT_TRUE(b.Add(probs, t).ok());
    }
  };
  feed(cm, cal, brier, 5000, 3);
  ConfusionMatrix cm2 = Decoded<ConfusionMatrix>(Encoded(cm));
  CalibrationAccumulator cal2 = Decoded<CalibrationAccumulator>(Encoded(cal));
  BrierAccumulator brier2 = Decoded<BrierAccumulator>(Encoded(brier));
  EXPECT_EQ(Encoded(cm2), Encoded(cm));
  EXPECT_EQ(cm2.total(), 5000);
  EXPECT_EQ(*cal2.Ece(), *cal.Ece());
  EXPECT_EQ(*brier2.Score(), *brier.Score());
  // More events, with a fourth class: the matrix grows the same way.
  feed(cm, cal, brier, 3000, 4);
  feed(cm2, cal2, brier2, 3000, 4);
  EXPECT_EQ(Encoded(cm2), Encoded(cm));
  EXPECT_EQ(Encoded(cal2), Encoded(cal));
  EXPECT_EQ(Encoded(brier2), Encoded(brier));
  EXPECT_EQ(*cal2.Ece(), *cal.Ece());
  EXPECT_EQ(*brier2.Score(), *brier.Score());
  EXPECT_EQ(ComputeClassificationMetrics(cm2)->f1_macro,
            ComputeClassificationMetrics(cm)->f1_macro);

  ConfusionMatrix small(2);
  ASSERT_TRUE(small.Add(0, 1, 3).ok());
  ConfusionMatrix other(1);
  ASSERT_TRUE(other.Add(0, 0).ok());
  ExpectTruncationIsDataLoss(Encoded(small), other);
  CalibrationAccumulator cal_target;
  ASSERT_TRUE(cal_target.Add(0.5, true).ok());
  CalibrationAccumulator cal_small;
  ASSERT_TRUE(cal_small.Add(0.95, false).ok());
  ExpectTruncationIsDataLoss(Encoded(cal_small), cal_target);
  BrierAccumulator brier_target;
  ExpectTruncationIsDataLoss(Encoded(brier), brier_target);

  // A class count whose cells the input cannot hold.
  util::BinaryWriter huge;
  huge.Varint(1'000'000);
  util::BinaryReader r(huge.data());
  const absl::Status s = other.DecodeFrom(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(other.total(), 1);
}

}  // namespace
}  // namespace aiq::stats
