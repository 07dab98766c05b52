// QualityWindow: streaming equals batch on the sklearn oracle, expiry and
// min_samples with an injected clock, concept drift against the detectors
// fed directly, fairness and calibration on hand-computed examples, and the
// memory bound.
#include "exporter/model/quality_window.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/data/csv.h"
#include "exporter/testing/codec_test_util.h"
#include "exporter/testing/oracle_data.h"
#include "nlohmann/json.hpp"

namespace aiq::model {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);  // bucket-aligned

// |a - e| <= max(1e-12, 1e-9 |e|), as the statistics tests.
::testing::AssertionResult Near(const char* a_expr, const char* e_expr,
                                double a, double e) {
  const double tol = std::max(1e-12, 1e-9 * std::abs(e));
  if (std::abs(a - e) <= tol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << a_expr << " = " << a << " differs from " << e_expr << " = " << e;
}
#define EXPECT_NEAR_REL(a, e) EXPECT_PRED_FORMAT2(Near, a, e)

config::ModelConfig Classifier(std::vector<std::string> classes,
                               int64_t min_samples = 1) {
  config::ModelConfig m;
  m.name = "m";
  m.task = config::Task::kClassification;
  m.classes = std::move(classes);
  if (m.classes.size() == 2) m.positive_class = m.classes[1];
  m.window.min_samples = min_samples;
  return m;
}

LabeledSample Labeled(int truth, int predicted) {
  LabeledSample s;
  s.prediction.predicted_class = predicted;
  s.true_class = truth;
  return s;
}

int IndexOf(const std::vector<std::string>& v, const std::string& s) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == s) return static_cast<int>(i);
  }
  ADD_FAILURE() << "no class " << s;
  return -1;
}

// --- (1) streaming equals batch --------------------------------------------

TEST(QualityWindowTest, StreamingEqualsBatchOnOracleDatasets) {
  nlohmann::json expected;
  ASSERT_TRUE(testdata::LoadOracleJson("datasets/expected.json", &expected));
  ASSERT_FALSE(expected["datasets"].empty());
  for (const nlohmann::json& ds : expected["datasets"]) {
    const std::string file = "datasets/" + ds["current"].get<std::string>();
    SCOPED_TRACE(file);
    ASSERT_TRUE(testdata::OracleFilesExist({file}));
    absl::StatusOr<data::Dataset> d =
        data::ReadCsvFile(testdata::OraclePath(file), {});
    ASSERT_TRUE(d.ok()) << d.status();
    const data::Column* target = d->Find(std::string(ds["target"]));
    const data::Column* prediction = d->Find(std::string(ds["prediction"]));
    ASSERT_NE(target, nullptr);
    ASSERT_NE(prediction, nullptr);
    const std::vector<std::string> classes = {"churn", "stay"};
    config::ModelConfig cfg = Classifier(classes);
    QualityWindow w(cfg);
    for (size_t r = 0; r < d->num_rows(); ++r) {
      // Spread over the window's buckets so merging is exercised.
      const absl::Time t = kT0 + absl::Minutes(static_cast<double>(r % 60));
      w.AddLabeled(t, Labeled(IndexOf(classes, target->ValueAsString(r)),
                              IndexOf(classes, prediction->ValueAsString(r))));
    }
    const QualitySnapshot q = w.Snapshot(kT0 + absl::Minutes(59));
    EXPECT_EQ(q.labeled, static_cast<int64_t>(d->num_rows()));
    ASSERT_TRUE(q.classification.has_value());
    const nlohmann::json& e = ds["quality"];
    EXPECT_NEAR_REL(q.classification->accuracy, double(e["accuracy"]));
    EXPECT_NEAR_REL(q.classification->precision_macro,
                    double(e["precision_macro"]));
    EXPECT_NEAR_REL(q.classification->recall_macro, double(e["recall_macro"]));
    EXPECT_NEAR_REL(q.classification->f1_macro, double(e["f1_macro"]));
    EXPECT_NEAR_REL(q.classification->precision_weighted,
                    double(e["precision_weighted"]));
    EXPECT_NEAR_REL(q.classification->recall_weighted,
                    double(e["recall_weighted"]));
    EXPECT_NEAR_REL(q.classification->f1_weighted, double(e["f1_weighted"]));
    EXPECT_EQ(q.classification->per_class.size(), 2u);
    // Labels only: no confidence, so nothing calibration-related.
    EXPECT_FALSE(q.ece.has_value());
    EXPECT_FALSE(q.brier.has_value());
  }
}

// A stats.json case by name; nullptr (and a test failure) when absent.
const nlohmann::json* OracleCase(const std::string& name) {
  for (const nlohmann::json& c : testdata::StatsOracle()["cases"]) {
    if (c["name"] == name) return &c;
  }
  ADD_FAILURE() << "no case " << name << " in "
                << testdata::OraclePath("stats.json");
  return nullptr;
}

TEST(QualityWindowTest, StreamingEqualsBatchWithProbabilities) {
  const nlohmann::json* oracle_case =
      OracleCase("multiclass_with_probabilities");
  ASSERT_NE(oracle_case, nullptr);
  const nlohmann::json& c = *oracle_case;
  const std::vector<std::string> classes = c["classes"];
  QualityWindow w(Classifier(classes, /*min_samples=*/500));
  for (size_t i = 0; i < c["y_true"].size(); ++i) {
    LabeledSample s = Labeled(IndexOf(classes, c["y_true"][i]),
                              IndexOf(classes, c["y_pred"][i]));
    s.prediction.probabilities =
        c["probabilities"][i].get<std::vector<double>>();
    w.AddLabeled(kT0 + absl::Minutes(static_cast<double>(i % 60)), s);
  }
  const QualitySnapshot q = w.Snapshot(kT0 + absl::Minutes(59));
  const nlohmann::json& e = c["expected"];
  ASSERT_TRUE(q.classification.has_value());
  EXPECT_NEAR_REL(q.classification->accuracy, double(e["accuracy"]));
  EXPECT_NEAR_REL(q.classification->f1_macro, double(e["f1_macro"]));
  EXPECT_NEAR_REL(q.classification->f1_weighted, double(e["f1_weighted"]));
  ASSERT_TRUE(q.ece.has_value());
  EXPECT_NEAR_REL(*q.ece, double(e["ece"]));
  ASSERT_TRUE(q.brier.has_value());
  EXPECT_NEAR_REL(*q.brier, double(e["brier"]));
  EXPECT_EQ(q.concept_drift.size(), 3u);

  // One sample fewer than min_samples: every labelled statistic is absent.
  QualityWindow few(Classifier(classes, /*min_samples=*/501));
  for (size_t i = 0; i < c["y_true"].size(); ++i) {
    LabeledSample s = Labeled(IndexOf(classes, c["y_true"][i]),
                              IndexOf(classes, c["y_pred"][i]));
    s.prediction.probabilities =
        c["probabilities"][i].get<std::vector<double>>();
    few.AddLabeled(kT0, s);
  }
  const QualitySnapshot f = few.Snapshot(kT0);
  EXPECT_EQ(f.labeled, 500);
  EXPECT_FALSE(f.classification.has_value());
  EXPECT_FALSE(f.ece.has_value());
  EXPECT_FALSE(f.brier.has_value());
}

TEST(QualityWindowTest, StreamingEqualsBatchRegression) {
  const nlohmann::json* oracle_case = OracleCase("regression");
  ASSERT_NE(oracle_case, nullptr);
  const nlohmann::json& c = *oracle_case;
  config::ModelConfig cfg;
  cfg.task = config::Task::kRegression;
  cfg.window.min_samples = 400;
  QualityWindow w(cfg);
  for (size_t i = 0; i < c["y_true"].size(); ++i) {
    LabeledSample s;
    s.prediction.predicted_value = double(c["y_pred"][i]);
    s.true_value = double(c["y_true"][i]);
    w.AddLabeled(kT0 + absl::Minutes(static_cast<double>(i % 60)), s);
  }
  const QualitySnapshot q = w.Snapshot(kT0 + absl::Minutes(59));
  ASSERT_TRUE(q.regression.has_value());
  const nlohmann::json& e = c["expected"];
  EXPECT_NEAR_REL(q.regression->mae, double(e["mae"]));
  EXPECT_NEAR_REL(q.regression->mse, double(e["mse"]));
  EXPECT_NEAR_REL(q.regression->rmse, double(e["rmse"]));
  EXPECT_NEAR_REL(q.regression->r2, double(e["r2"]));
  EXPECT_NEAR_REL(q.regression->mape, double(e["mape"]));
  EXPECT_FALSE(q.classification.has_value());
  EXPECT_TRUE(q.segments.empty());
  ASSERT_EQ(q.concept_drift.size(), 2u);
  EXPECT_EQ(q.concept_drift[0].detector, Detector::kAdwin);
  EXPECT_EQ(q.concept_drift[1].detector, Detector::kPageHinkley);
  EXPECT_FALSE(w.Snapshot(kT0 + absl::Minutes(120)).regression.has_value());
}

// --- (2) expiry and min_samples ----------------------------------------------

TEST(QualityWindowTest, BucketsExpireAndMinSamplesHides) {
  config::ModelConfig cfg = Classifier({"a", "b"}, /*min_samples=*/3);
  cfg.window.duration = absl::Hours(1);
  cfg.window.buckets = 4;  // 15-minute buckets
  QualityWindow w(cfg);
  w.AddLabeled(kT0, Labeled(0, 0));
  w.AddLabeled(kT0 + absl::Minutes(1), Labeled(0, 0));
  PredictionSample p;
  p.predicted_class = 0;
  w.AddPrediction(kT0, p);

  QualitySnapshot q = w.Snapshot(kT0 + absl::Minutes(2));
  EXPECT_EQ(q.labeled, 2);
  EXPECT_EQ(q.predictions, 1);
  EXPECT_FALSE(q.classification.has_value());  // 2 < min_samples

  w.AddLabeled(kT0 + absl::Minutes(15), Labeled(1, 0));
  w.AddLabeled(kT0 + absl::Minutes(29), Labeled(1, 0));
  q = w.Snapshot(kT0 + absl::Minutes(59));
  EXPECT_EQ(q.labeled, 4);
  ASSERT_TRUE(q.classification.has_value());
  EXPECT_DOUBLE_EQ(q.classification->accuracy, 0.5);

  // At 60 min the bucket [0, 15) leaves: two wrong answers remain.
  q = w.Snapshot(kT0 + absl::Minutes(60));
  EXPECT_EQ(q.labeled, 2);
  EXPECT_EQ(q.predictions, 0);
  EXPECT_FALSE(q.classification.has_value());

  w.AddLabeled(kT0 + absl::Minutes(60), Labeled(1, 1));
  q = w.Snapshot(kT0 + absl::Minutes(60));
  EXPECT_EQ(q.labeled, 3);
  ASSERT_TRUE(q.classification.has_value());
  EXPECT_DOUBLE_EQ(q.classification->accuracy, 1.0 / 3.0);
  // Labels only in class 1 predicted 0 and 1: both classes present.
  ASSERT_EQ(q.classification->per_class.size(), 2u);
  EXPECT_EQ(q.classification->per_class[0].class_index, 0);
  EXPECT_DOUBLE_EQ(q.classification->per_class[0].f1, 0.0);
  EXPECT_DOUBLE_EQ(q.classification->per_class[1].f1, 0.5);  // P=1,R=1/3

  // At 75 min the [15, 30) bucket leaves too.
  q = w.Snapshot(kT0 + absl::Minutes(75));
  EXPECT_EQ(q.labeled, 1);
  EXPECT_FALSE(q.classification.has_value());
  q = w.Snapshot(kT0 + absl::Minutes(120));
  EXPECT_EQ(q.labeled, 0);
  EXPECT_EQ(q.predictions, 0);
  EXPECT_FALSE(q.classification.has_value());
  EXPECT_FALSE(q.confidence.has_value());
}

// --- (3) concept drift
// ----------------------------------------------------------

// Bernoulli errors with rate `p`, from a fixed seed.
std::vector<int> ErrorStream(int n, double p, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.push_back(u(rng) < p ? 1 : 0);
  return out;
}

TEST(QualityWindowTest, StationaryErrorStreamStaysQuiet) {
  QualityWindow w(Classifier({"a", "b"}));
  for (int e : ErrorStream(5000, 0.2, 7)) {
    w.AddLabeled(kT0, Labeled(0, e));
  }
  const QualitySnapshot q = w.Snapshot(kT0);
  ASSERT_EQ(q.concept_drift.size(), 3u);
  EXPECT_EQ(q.concept_drift[0].detector, Detector::kAdwin);
  EXPECT_EQ(q.concept_drift[0].detections, 0);
  EXPECT_FALSE(q.concept_drift[0].warning);
  EXPECT_EQ(q.concept_drift[2].detector, Detector::kPageHinkley);
  EXPECT_EQ(q.concept_drift[2].detections, 0);
}

TEST(QualityWindowTest, AbruptChangeFiresEveryDetectorLikeTheDetectorsAlone) {
  config::ModelConfig cfg = Classifier({"a", "b"});
  cfg.window.duration = absl::Hours(1);
  QualityWindow w(cfg);
  stats::Adwin adwin;
  stats::Ddm ddm;
  stats::PageHinkley ph;
  std::vector<int> errors = ErrorStream(2000, 0.1, 1);
  for (int e : ErrorStream(2000, 0.6, 2)) errors.push_back(e);
  bool saw_ddm_warning = false;
  std::optional<absl::Time> last_adwin;
  for (size_t i = 0; i < errors.size(); ++i) {
    const absl::Time t = kT0 + absl::Seconds(static_cast<double>(i));
    w.AddLabeled(t, Labeled(0, errors[i]));
    if (adwin.Update(errors[i])) last_adwin = t;
    ddm.Update(errors[i]);
    ph.Update(errors[i]);
    if (i >= 1990 && i < 2400) {  // around the change: warning semantics
      const QualitySnapshot q = w.Snapshot(t);
      ASSERT_EQ(q.concept_drift[1].warning, ddm.warning()) << i;
      saw_ddm_warning |= q.concept_drift[1].warning;
      ASSERT_EQ(q.concept_drift[0].warning, last_adwin.has_value()) << i;
    }
  }
  const absl::Time end = kT0 + absl::Seconds(4000);
  const QualitySnapshot q = w.Snapshot(end);
  EXPECT_GT(q.concept_drift[0].detections, 0);
  EXPECT_GT(q.concept_drift[1].detections, 0);
  EXPECT_GT(q.concept_drift[2].detections, 0);
  EXPECT_EQ(q.concept_drift[0].detections, adwin.detections());
  EXPECT_EQ(q.concept_drift[1].detections, ddm.detections());
  EXPECT_EQ(q.concept_drift[2].detections, ph.detections());
  EXPECT_TRUE(saw_ddm_warning);
  ASSERT_TRUE(last_adwin.has_value());
  // ADWIN's warning holds for one window duration after its last detection.
  EXPECT_TRUE(
      w.Snapshot(*last_adwin + absl::Minutes(59)).concept_drift[0].warning);
  EXPECT_FALSE(
      w.Snapshot(*last_adwin + absl::Hours(1)).concept_drift[0].warning);
  // Detections are a counter: they outlive the window.
  EXPECT_EQ(w.Snapshot(end + absl::Hours(5)).concept_drift[0].detections,
            adwin.detections());
}

TEST(QualityWindowTest, RegressionFeedsAbsoluteErrorToAdwinAndPageHinkley) {
  config::ModelConfig cfg;
  cfg.task = config::Task::kRegression;
  QualityWindow w(cfg);
  stats::Adwin adwin;
  stats::PageHinkley ph;
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0.0, 1.0);
  for (int i = 0; i < 4000; ++i) {
    const double y = 10 + noise(rng);
    const double y_hat = i < 2000 ? 10.0 : 14.0;  // biased after the change
    LabeledSample s;
    s.prediction.predicted_value = y_hat;
    s.true_value = y;
    w.AddLabeled(kT0, s);
    adwin.Update(std::abs(y - y_hat));
    ph.Update(std::abs(y - y_hat));
  }
  const QualitySnapshot q = w.Snapshot(kT0);
  ASSERT_EQ(q.concept_drift.size(), 2u);
  EXPECT_GT(q.concept_drift[0].detections, 0);
  EXPECT_EQ(q.concept_drift[0].detections, adwin.detections());
  EXPECT_GT(q.concept_drift[1].detections, 0);
  EXPECT_EQ(q.concept_drift[1].detections, ph.detections());
}

// --- (4) fairness
// -----------------------------------------------------------------

TEST(QualityWindowTest, FairnessPerSegmentHandComputed) {
  config::ModelConfig cfg = Classifier({"no", "yes"}, /*min_samples=*/2);
  cfg.segments = {{"region", {"eu", "us"}}, {"tier", {"gold", "silver"}}};
  QualityWindow w(cfg);
  ASSERT_EQ(w.positive_class(), 1);
  constexpr int kEu = 0, kUs = 1, kOther = 2, kAbsent = -1;
  constexpr int kGold = 0;
  auto predict = [&](int region, int predicted) {
    PredictionSample p;
    p.predicted_class = predicted;
    p.segment = {region, kGold};
    w.AddPrediction(kT0, p);
  };
  // Positive rates: eu 2/4, us 1/4, other 1/1 (below min_samples).
  predict(kEu, 1);
  predict(kEu, 1);
  predict(kEu, 0);
  predict(kEu, 0);
  predict(kUs, 1);
  predict(kUs, 0);
  predict(kUs, 0);
  predict(kUs, 0);
  predict(kOther, 1);
  predict(kAbsent, 1);
  auto label = [&](int region, int truth, int predicted) {
    LabeledSample s = Labeled(truth, predicted);
    s.prediction.segment = {region};  // tier absent
    w.AddLabeled(kT0, s);
  };
  // eu: accuracy 3/4, actual positives 3 of which 2 predicted: TPR 2/3.
  label(kEu, 1, 1);
  label(kEu, 1, 0);
  label(kEu, 0, 0);
  label(kEu, 1, 1);
  // us: accuracy 3/4, actual positives 2, both predicted: TPR 1.
  label(kUs, 1, 1);
  label(kUs, 0, 1);
  label(kUs, 1, 1);
  label(kUs, 0, 0);

  const QualitySnapshot q = w.Snapshot(kT0);
  ASSERT_EQ(q.segments.size(), 2u);
  const SegmentAttributeQuality& region = q.segments[0];
  ASSERT_EQ(region.values.size(), 3u);  // eu, us, other
  EXPECT_EQ(region.values[kEu].predictions, 4);
  EXPECT_EQ(region.values[kEu].labeled, 4);
  EXPECT_DOUBLE_EQ(*region.values[kEu].accuracy, 0.75);
  EXPECT_DOUBLE_EQ(*region.values[kEu].positive_rate, 0.5);
  EXPECT_DOUBLE_EQ(*region.values[kEu].tpr, 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(*region.values[kUs].accuracy, 0.75);
  EXPECT_DOUBLE_EQ(*region.values[kUs].positive_rate, 0.25);
  EXPECT_DOUBLE_EQ(*region.values[kUs].tpr, 1.0);
  EXPECT_EQ(region.values[kOther].predictions, 1);
  EXPECT_FALSE(region.values[kOther].positive_rate.has_value());
  EXPECT_FALSE(region.values[kOther].accuracy.has_value());
  EXPECT_DOUBLE_EQ(*region.demographic_parity_difference, 0.25);
  EXPECT_DOUBLE_EQ(*region.equal_opportunity_difference, 1.0 / 3.0);

  // Only "gold" has predictions (all ten, whatever their region; five
  // positive) and no tier has labels: one value qualifies for parity, none
  // for equal opportunity.
  const SegmentAttributeQuality& tier = q.segments[1];
  EXPECT_EQ(tier.values[kGold].predictions, 10);
  EXPECT_DOUBLE_EQ(*tier.values[kGold].positive_rate, 0.5);
  EXPECT_FALSE(tier.demographic_parity_difference.has_value());
  EXPECT_FALSE(tier.equal_opportunity_difference.has_value());
  EXPECT_FALSE(tier.values[kGold].accuracy.has_value());
}

TEST(QualityWindowTest, PositiveClassResolvedWhenRegistered) {
  config::ModelConfig cfg = Classifier({}, /*min_samples=*/1);
  cfg.positive_class = "fraud";
  cfg.segments = {{"region", {"eu"}}};
  QualityWindow w(cfg);
  EXPECT_EQ(w.positive_class(), -1);
  PredictionSample p;
  p.predicted_class = 1;
  p.segment = {0};
  w.AddPrediction(kT0, p);
  // Without a positive class, rates are absent but accuracy is not.
  QualitySnapshot q = w.Snapshot(kT0);
  EXPECT_FALSE(q.segments[0].values[0].positive_rate.has_value());
  const std::vector<std::string> names = {"ok", "fraud"};
  w.EnsureClasses(names);
  EXPECT_EQ(w.positive_class(), 1);
  w.AddPrediction(kT0, p);
  q = w.Snapshot(kT0);
  // The earlier prediction was counted before the class was known.
  EXPECT_DOUBLE_EQ(*q.segments[0].values[0].positive_rate, 0.5);
}

// --- (5) calibration and confidence
// -------------------------------------------------

TEST(QualityWindowTest, CalibrationFitsPerBinAccuracy) {
  const std::vector<double> conf = {0.95, 0.95, 0.95, 0.95, 0.55, 0.55, 1.0};
  const bool correct[] = {true, true, true, false, true, false, true};
  absl::StatusOr<ConfidenceCalibration> c =
      ConfidenceCalibration::Fit(conf, correct);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->count(), 7);
  EXPECT_EQ(c->bin_count(9), 5);  // 1.0 is in the last, closed bin
  EXPECT_DOUBLE_EQ(*c->bin_accuracy(9), 0.8);
  EXPECT_DOUBLE_EQ(*c->bin_accuracy(5), 0.5);
  EXPECT_FALSE(c->bin_accuracy(3).has_value());
  EXPECT_DOUBLE_EQ(c->Calibrate(0.92), 0.8);
  EXPECT_DOUBLE_EQ(c->Calibrate(0.5), 0.5);
  EXPECT_DOUBLE_EQ(c->Calibrate(0.35), 0.35);  // empty bin: raw confidence

  EXPECT_FALSE(ConfidenceCalibration::Fit({}, {}).ok());
  const bool one[] = {true};
  EXPECT_FALSE(ConfidenceCalibration::Fit(conf, one).ok());
  const std::vector<double> bad = {1.5};
  EXPECT_FALSE(ConfidenceCalibration::Fit(bad, one).ok());

  config::ModelConfig cfg = Classifier({"a", "b"}, /*min_samples=*/4);
  cfg.low_confidence_threshold = 0.5;
  QualityWindow w(cfg);
  for (double x : {0.95, 0.91, 0.55}) {
    PredictionSample p;
    p.confidence = x;
    w.AddPrediction(kT0, p);
  }
  PredictionSample by_probability;  // confidence = max probability = 0.35
  by_probability.probabilities = {0.35, 0.3, 0.35};
  w.AddPrediction(kT0, by_probability);
  w.AddPrediction(kT0, PredictionSample{});  // no confidence: not counted

  QualitySnapshot q = w.Snapshot(kT0);
  EXPECT_EQ(q.predictions, 5);
  ASSERT_TRUE(q.estimated_accuracy.has_value());
  // Identity: mean confidence.
  EXPECT_NEAR_REL(*q.estimated_accuracy, (0.95 + 0.91 + 0.55 + 0.35) / 4);
  ASSERT_TRUE(q.low_confidence_ratio.has_value());
  EXPECT_DOUBLE_EQ(*q.low_confidence_ratio, 0.25);
  ASSERT_TRUE(q.confidence.has_value());
  EXPECT_EQ(q.confidence->count, 4u);
  EXPECT_NEAR_REL(q.confidence->sum, 0.95 + 0.91 + 0.55 + 0.35);
  const std::array<uint64_t, 11> counts = {0, 0, 0, 1, 0, 1, 0, 0, 0, 2, 0};
  EXPECT_EQ(q.confidence->counts, counts);

  // The calibration applies to what is already in the window.
  w.SetCalibration(
      std::make_shared<const ConfidenceCalibration>(*std::move(c)));
  q = w.Snapshot(kT0);
  EXPECT_NEAR_REL(*q.estimated_accuracy, (0.8 + 0.8 + 0.5 + 0.35) / 4);

  // Below min_samples, every confidence statistic is absent.
  q = w.Snapshot(kT0 + absl::Hours(2));
  EXPECT_FALSE(q.estimated_accuracy.has_value());
  EXPECT_FALSE(q.low_confidence_ratio.has_value());
  EXPECT_FALSE(q.confidence.has_value());
}

TEST(QualityWindowTest, ConfidenceBucketsAreUpperInclusive) {
  QualityWindow w(Classifier({"a", "b"}));
  for (double x : {0.0, 0.1, 0.5, 1.0}) {
    PredictionSample p;
    p.confidence = x;
    w.AddPrediction(kT0, p);
  }
  PredictionSample invalid;
  invalid.confidence = 1.5;
  w.AddPrediction(kT0, invalid);
  const QualitySnapshot q = w.Snapshot(kT0);
  const std::array<uint64_t, 11> counts = {2, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
  EXPECT_EQ(q.confidence->counts, counts);
  EXPECT_EQ(q.predictions, 5);
}

TEST(QualityWindowTest, BrierWithProbabilitiesShorterThanTheTrueClass) {
  QualityWindow w(Classifier({"a", "b"}));
  LabeledSample s = Labeled(/*truth=*/2, /*predicted=*/0);
  s.prediction.probabilities = {0.6, 0.4};  // class 2 registered later
  w.AddLabeled(kT0, s);
  const QualitySnapshot q = w.Snapshot(kT0);
  // (0.6)^2 + (0.4)^2 + (0 - 1)^2
  EXPECT_NEAR_REL(*q.brier, 0.36 + 0.16 + 1.0);
  EXPECT_NEAR_REL(*q.ece, 0.6);  // one row, confidence 0.6, wrong
}

// --- (6) memory bound
// --------------------------------------------------------------

TEST(QualityWindowTest, StateDoesNotGrowWithTraffic) {
  config::ModelConfig cfg = Classifier({"a", "b", "c"});
  cfg.window.duration = absl::Minutes(10);
  cfg.window.buckets = 10;
  cfg.segments = {{"region", {"eu", "us"}}};
  QualityWindow w(cfg);
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> cls(0, 2), region(-1, 2);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  LabeledSample s;
  s.prediction.probabilities.resize(3);
  s.prediction.segment.resize(1);
  constexpr int kEvents = 2'000'000;
  // 1000 events per simulated second: the window holds 600k events.
  size_t bytes_after_first_window = 0;
  int64_t window_events = 0;
  for (int i = 0; i < kEvents; ++i) {
    const absl::Time t = kT0 + absl::Milliseconds(i);
    s.true_class = cls(rng);
    s.prediction.predicted_class = u(rng) < 0.8 ? s.true_class : cls(rng);
    const double top = 0.4 + 0.6 * u(rng);
    for (int k = 0; k < 3; ++k) {
      s.prediction.probabilities[static_cast<size_t>(k)] =
          k == s.prediction.predicted_class ? top : (1 - top) / 2;
    }
    s.prediction.segment[0] = region(rng);
    w.AddPrediction(t, s.prediction);
    w.AddLabeled(t, s);
    if (i == 600'000) bytes_after_first_window = w.WindowBytes(t);
  }
  const absl::Time end = kT0 + absl::Milliseconds(kEvents - 1);
  EXPECT_GT(bytes_after_first_window, 0u);
  EXPECT_EQ(w.WindowBytes(end), bytes_after_first_window);
  const QualitySnapshot q = w.Snapshot(end);
  // Ten 1-minute buckets; the last one is partly filled (t up to 1999.999 s,
  // bucket [1980, 2040)): buckets [1440, 2000) s live.
  window_events = (kEvents - 1'440'000);
  EXPECT_EQ(q.predictions, window_events);
  EXPECT_EQ(q.labeled, window_events);
  EXPECT_LE(w.adwin_rows(), 32);  // log2 of the stream length at most
}

// --- checkpoint codec ---------------------------------------------------

using aiq::testing::Encoded;

// Every field of a snapshot, doubles in hex: equal strings mean
// bit-identical results.
std::string Describe(const QualitySnapshot& q) {
  std::ostringstream o;
  o << std::hexfloat << q.predictions << " " << q.labeled << "\n";
  auto opt = [&](const char* name, const std::optional<double>& v) {
    o << name << "=";
    if (v) {
      o << *v;
    } else {
      o << "-";
    }
    o << " ";
  };
  if (const auto& c = q.classification) {
    o << "cls " << c->count << " " << c->accuracy << " " << c->precision_macro
      << " " << c->recall_macro << " " << c->f1_macro << " "
      << c->precision_weighted << " " << c->recall_weighted << " "
      << c->f1_weighted;
    for (const stats::ClassMetrics& k : c->per_class) {
      o << " [" << k.class_index << " " << k.precision << " " << k.recall << " "
        << k.f1 << " " << k.support << "]";
    }
    o << "\n";
  }
  opt("ece", q.ece);
  opt("brier", q.brier);
  if (const auto& h = q.confidence) {
    o << "conf";
    for (uint64_t n : h->counts) o << " " << n;
    o << " " << h->sum << " " << h->count << " ";
  }
  opt("low", q.low_confidence_ratio);
  opt("est", q.estimated_accuracy);
  if (const auto& r = q.regression) {
    o << "reg " << r->count << " " << r->mae << " " << r->mse << " " << r->rmse
      << " " << r->r2 << " " << r->mape << " ";
  }
  for (const ConceptDriftState& d : q.concept_drift) {
    o << DetectorName(d.detector) << " " << d.detections << " " << d.warning
      << " ";
  }
  for (const SegmentAttributeQuality& a : q.segments) {
    o << "\nsegment";
    for (const SegmentValueQuality& v : a.values) {
      o << " [" << v.predictions << " " << v.labeled << " ";
      opt("acc", v.accuracy);
      opt("pr", v.positive_rate);
      opt("tpr", v.tpr);
      o << "]";
    }
    opt(" dpd", a.demographic_parity_difference);
    opt("eod", a.equal_opportunity_difference);
  }
  return o.str();
}

// Classes learned from traffic (none declared; the positive class "yes"
// resolves once seen), two segment attributes, 4 buckets of 15 minutes.
config::ModelConfig CodecClassifier() {
  config::ModelConfig m = Classifier({}, /*min_samples=*/5);
  m.positive_class = "yes";
  m.window.duration = absl::Hours(1);
  m.window.buckets = 4;
  m.segments = {{"region", {"eu", "us"}}, {"tier", {"gold"}}};
  return m;
}

// Events i in [from, to), one a second; the error rate jumps at 1500 and
// 3000 so every detector fires. Classes are registered as the exporter
// does: the window hears of each new class before its first event.
void FeedClassifier(QualityWindow& w, std::vector<std::string>& classes,
                    int from, int to, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const std::vector<std::string> names = {"no", "yes", "maybe"};
  for (int i = from; i < to; ++i) {
    const absl::Time t = kT0 + absl::Seconds(i);
    const int truth = i < 200 ? i % 2 : static_cast<int>(u(rng) * 3);
    if (static_cast<size_t>(truth) >= classes.size()) {
      classes =
          std::vector<std::string>(names.begin(), names.begin() + truth + 1);
      w.EnsureClasses(classes);
    }
    const double error_rate = i < 1500 ? 0.1 : i < 3000 ? 0.6 : 0.05;
    LabeledSample s;
    s.true_class = truth;
    s.prediction.predicted_class =
        u(rng) < error_rate ? (truth + 1) % static_cast<int>(classes.size())
                            : truth;
    const double top = 0.3 + 0.7 * u(rng);
    if (i % 3 != 0) {
      s.prediction.probabilities.assign(classes.size(),
                                        (1 - top) / (classes.size() - 1));
      s.prediction
          .probabilities[static_cast<size_t>(s.prediction.predicted_class)] =
          top;
    } else if (i % 2 == 0) {
      s.prediction.confidence = top;
    }
    s.prediction.segment = {i % 4 - 1, i % 3};  // -1: absent, 2: "other"
    w.AddPrediction(t, s.prediction);
    if (i % 5 != 0) w.AddLabeled(t, s);
  }
}

void ExpectSameQuality(QualityWindow& a, QualityWindow& b, absl::Time now) {
  SCOPED_TRACE(absl::FormatTime(now));
  EXPECT_EQ(Describe(a.Snapshot(now)), Describe(b.Snapshot(now)));
  EXPECT_EQ(a.adwin_rows(), b.adwin_rows());
  EXPECT_EQ(a.positive_class(), b.positive_class());
  EXPECT_EQ(a.WindowBytes(now), b.WindowBytes(now));
  EXPECT_EQ(Encoded(a), Encoded(b));
}

TEST(QualityWindowCodecTest, ClassifierDecodesAndEvolvesIdentically) {
  const config::ModelConfig cfg = CodecClassifier();
  QualityWindow original(cfg);
  std::vector<std::string> classes;
  FeedClassifier(original, classes, 0, 4000, 1);  // 66 minutes
  const absl::Time end = kT0 + absl::Seconds(4000);
  const QualitySnapshot q = original.Snapshot(end);
  ASSERT_EQ(classes.size(), 3u);
  ASSERT_EQ(original.positive_class(), 1);
  ASSERT_TRUE(q.classification.has_value());
  ASSERT_TRUE(q.ece.has_value() && q.brier.has_value());
  ASSERT_TRUE(q.estimated_accuracy.has_value());
  ASSERT_TRUE(q.segments[0].demographic_parity_difference.has_value());
  for (const ConceptDriftState& d : q.concept_drift) {
    ASSERT_GE(d.detections, 1) << DetectorName(d.detector);
  }

  const std::string bytes = Encoded(original);
  QualityWindow restored(cfg);
  std::vector<std::string> other_classes;
  FeedClassifier(restored, other_classes, 0, 30, 9);  // replaced by decoding
  util::BinaryReader r(bytes);
  ASSERT_TRUE(restored.DecodeFrom(r).ok());
  ASSERT_TRUE(r.Finish().ok());
  EXPECT_EQ(Encoded(restored), bytes);
  EXPECT_EQ(Describe(restored.Snapshot(end)), Describe(q));
  for (int minutes : {0, 10, 25, 40, 70, 200}) {
    ExpectSameQuality(original, restored, end + absl::Minutes(minutes));
  }
  // The same further events (more drift, a recycled bucket per 15 min).
  std::vector<std::string> classes_copy = classes;
  FeedClassifier(original, classes, 4000, 7000, 2);
  FeedClassifier(restored, classes_copy, 4000, 7000, 2);
  const absl::Time later = kT0 + absl::Seconds(7000);
  ExpectSameQuality(original, restored, later);
  ExpectSameQuality(original, restored, later + absl::Minutes(30));
  // Calibration is not part of the checkpoint: set again, applies to both.
  const std::array<double, 3> confidence = {0.35, 0.55, 0.95};
  const std::array<bool, 3> correct = {false, true, true};
  const auto calibration = std::make_shared<const ConfidenceCalibration>(
      *ConfidenceCalibration::Fit(confidence, correct));
  original.SetCalibration(calibration);
  restored.SetCalibration(calibration);
  ExpectSameQuality(original, restored, later);
}

TEST(QualityWindowCodecTest, RegressionDecodesAndEvolvesIdentically) {
  config::ModelConfig cfg;
  cfg.task = config::Task::kRegression;
  cfg.window.duration = absl::Hours(1);
  cfg.window.buckets = 3;
  cfg.window.min_samples = 5;
  auto feed = [](QualityWindow& w, int from, int to) {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal;
    for (int i = from; i < to; ++i) {
      LabeledSample s;
      s.true_value = 1e6 + normal(rng);
      s.prediction.predicted_value =
          *s.true_value + normal(rng) * (i < 2000 ? 0.1 : 3.0);
      w.AddPrediction(kT0 + absl::Seconds(i), s.prediction);
      w.AddLabeled(kT0 + absl::Seconds(i), s);
    }
  };
  QualityWindow original(cfg);
  feed(original, 0, 5000);
  const absl::Time end = kT0 + absl::Seconds(5000);
  const QualitySnapshot q = original.Snapshot(end);
  ASSERT_TRUE(q.regression.has_value());
  ASSERT_GE(q.concept_drift[0].detections, 1);  // ADWIN
  ASSERT_GE(q.concept_drift[1].detections, 1);  // Page-Hinkley
  QualityWindow restored(cfg);
  const std::string bytes = Encoded(original);
  util::BinaryReader r(bytes);
  ASSERT_TRUE(restored.DecodeFrom(r).ok());
  EXPECT_EQ(Encoded(restored), bytes);
  ExpectSameQuality(original, restored, end);
  feed(original, 5000, 8000);
  feed(restored, 5000, 8000);
  ExpectSameQuality(original, restored, kT0 + absl::Seconds(8000));
}

TEST(QualityWindowCodecTest, TruncatedInputIsDataLossAndChangesNothing) {
  config::ModelConfig cfg = CodecClassifier();
  cfg.window.buckets = 2;
  cfg.segments = {{"region", {"eu"}}};
  QualityWindow small(cfg);
  std::vector<std::string> classes;
  FeedClassifier(small, classes, 0, 40, 3);
  FeedClassifier(small, classes, 2000, 2010, 3);
  QualityWindow target(cfg);
  std::vector<std::string> target_classes;
  FeedClassifier(target, target_classes, 0, 3, 4);
  const std::string full = Encoded(small);
  const std::string before = Encoded(target);
  ASSERT_NE(full, before);
  for (size_t n = 0; n < full.size(); ++n) {
    util::BinaryReader r(std::string_view(full).substr(0, n));
    const absl::Status s = target.DecodeFrom(r);
    ASSERT_EQ(s.code(), absl::StatusCode::kDataLoss) << n << ": " << s;
    ASSERT_EQ(Encoded(target), before) << n;
  }
}

TEST(QualityWindowCodecTest, OtherShapeIsFailedPrecondition) {
  const config::ModelConfig cfg = CodecClassifier();
  QualityWindow w(cfg);
  std::vector<std::string> classes;
  FeedClassifier(w, classes, 0, 100, 5);
  const std::string bytes = Encoded(w);
  auto decode_into = [&](const config::ModelConfig& other) {
    QualityWindow target(other);
    const std::string before = Encoded(target);
    util::BinaryReader r(bytes);
    const absl::Status s = target.DecodeFrom(r);
    EXPECT_EQ(Encoded(target), before);
    return s;
  };
  config::ModelConfig regression = cfg;
  regression.task = config::Task::kRegression;
  absl::Status s = decode_into(regression);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("task"), std::string::npos) << s;
  config::ModelConfig segments = cfg;
  segments.segments[0].values.push_back("apac");
  s = decode_into(segments);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "quality window: the checkpoint has segment value counts [2, 1], "
            "this model [3, 1]");
  config::ModelConfig buckets = cfg;
  buckets.window.buckets = 12;
  s = decode_into(buckets);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "sliding window: the checkpoint has 4 buckets of 15m, this window "
            "12 of 5m");
  config::ModelConfig positive = cfg;
  positive.positive_class = "no";
  s = decode_into(positive);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "quality window: the checkpoint's positive_class is 'yes', this "
            "model's 'no'");
  // Declared classes that put "yes" elsewhere than traffic did.
  config::ModelConfig declared = cfg;
  declared.classes = {"yes", "no", "maybe"};
  s = decode_into(declared);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "quality window: positive class 'yes' is class 1 in the "
            "checkpoint, 0 here (the classes were reordered)");
}

}  // namespace
}  // namespace aiq::model
