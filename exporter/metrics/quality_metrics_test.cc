#include "exporter/metrics/quality_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/metrics/exposition.h"

namespace aiq::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Render(QualityFamilies&& q) {
  std::vector<prometheus::MetricFamily> families;
  std::move(q).Finish(families);
  return RenderText(families);
}

TEST(QualityMetricsTest, ExactTextForSmallSnapshots) {
  config::ModelConfig clf;
  clf.name = "clf";
  clf.classes = {"no", "yes"};
  clf.segments = {{"region", {"eu", "us"}}};
  model::QualitySnapshot v1;
  v1.predictions = 10;
  v1.labeled = 4;
  v1.classification = stats::ClassificationMetrics{
      .count = 4,
      .accuracy = 0.75,
      .precision_macro = 0.5,
      .recall_macro = 0.25,
      .f1_macro = 0.125,
      .precision_weighted = 0.625,
      .recall_weighted = 0.75,
      .f1_weighted = 0.375,
      // Index 2 has no name (not registered): not exported.
      .per_class = {{.class_index = 0, .f1 = 0.5},
                    {.class_index = 1, .f1 = 0.8},
                    {.class_index = 2, .f1 = 0.1}}};
  v1.ece = 0.125;
  v1.brier = 0.25;
  v1.confidence = model::ConfidenceHistogram{
      .counts = {0, 0, 0, 1, 0, 1, 0, 0, 0, 2, 0}, .sum = 2.75, .count = 4};
  v1.low_confidence_ratio = 0.25;
  v1.estimated_accuracy = 0.625;
  v1.concept_drift = {{model::Detector::kAdwin, 2, true},
                      {model::Detector::kDdm, 0, false},
                      {model::Detector::kPageHinkley, 1, false}};
  model::SegmentAttributeQuality region;
  region.values.resize(3);
  region.values[0].accuracy = 0.75;
  region.values[0].positive_rate = 0.5;
  region.values[0].tpr = 1;
  region.values[2].accuracy = 0.5;  // "other"
  region.demographic_parity_difference = 0.25;
  v1.segments = {region};
  model::QualitySnapshot v2;  // empty window: counts only

  config::ModelConfig reg;
  reg.name = "reg";
  reg.task = config::Task::kRegression;
  model::QualitySnapshot r;
  r.predictions = 3;
  r.labeled = 3;
  r.regression = stats::RegressionMetrics{
      .count = 3, .mae = 1.5, .mse = 4, .rmse = 2, .r2 = 0.5, .mape = 0.1};
  r.concept_drift = {{model::Detector::kAdwin, 0, false},
                     {model::Detector::kPageHinkley, 0, false}};

  QualityFamilies q;
  q.Append("clf", clf, {"v1", "v2"}, clf.classes, {v1, v2});
  q.Append("reg", reg, {"default"}, {}, {r});
  EXPECT_EQ(Render(std::move(q)),
            R"(# HELP aiq_window_samples Samples in the quality window, by kind.
# TYPE aiq_window_samples gauge
aiq_window_samples{model="clf",version="v1",kind="predictions"} 10
aiq_window_samples{model="clf",version="v1",kind="labeled"} 4
aiq_window_samples{model="clf",version="v2",kind="predictions"} 0
aiq_window_samples{model="clf",version="v2",kind="labeled"} 0
aiq_window_samples{model="reg",version="default",kind="predictions"} 3
aiq_window_samples{model="reg",version="default",kind="labeled"} 3
# HELP aiq_accuracy Accuracy over the window's labelled samples.
# TYPE aiq_accuracy gauge
aiq_accuracy{model="clf",version="v1"} 0.75
# HELP aiq_precision Precision over the window, by average.
# TYPE aiq_precision gauge
aiq_precision{model="clf",version="v1",average="macro"} 0.5
aiq_precision{model="clf",version="v1",average="weighted"} 0.625
# HELP aiq_recall Recall over the window, by average.
# TYPE aiq_recall gauge
aiq_recall{model="clf",version="v1",average="macro"} 0.25
aiq_recall{model="clf",version="v1",average="weighted"} 0.75
# HELP aiq_f1 F1 score over the window, by average.
# TYPE aiq_f1 gauge
aiq_f1{model="clf",version="v1",average="macro"} 0.125
aiq_f1{model="clf",version="v1",average="weighted"} 0.375
# HELP aiq_class_f1 Per-class F1 score over the window.
# TYPE aiq_class_f1 gauge
aiq_class_f1{model="clf",version="v1",class="no"} 0.5
aiq_class_f1{model="clf",version="v1",class="yes"} 0.8
# HELP aiq_expected_calibration_error Expected calibration error (10 equal-width confidence bins).
# TYPE aiq_expected_calibration_error gauge
aiq_expected_calibration_error{model="clf",version="v1"} 0.125
# HELP aiq_brier_score Multiclass Brier score over the window.
# TYPE aiq_brier_score gauge
aiq_brier_score{model="clf",version="v1"} 0.25
# HELP aiq_low_confidence_ratio Share of the window's predictions with confidence below the model's low_confidence_threshold.
# TYPE aiq_low_confidence_ratio gauge
aiq_low_confidence_ratio{model="clf",version="v1"} 0.25
# HELP aiq_confidence Confidence of the window's predictions.
# TYPE aiq_confidence histogram
aiq_confidence_count{model="clf",version="v1"} 4
aiq_confidence_sum{model="clf",version="v1"} 2.75
aiq_confidence_bucket{model="clf",version="v1",le="0.1"} 0
aiq_confidence_bucket{model="clf",version="v1",le="0.2"} 0
aiq_confidence_bucket{model="clf",version="v1",le="0.3"} 0
aiq_confidence_bucket{model="clf",version="v1",le="0.4"} 1
aiq_confidence_bucket{model="clf",version="v1",le="0.5"} 1
aiq_confidence_bucket{model="clf",version="v1",le="0.6"} 2
aiq_confidence_bucket{model="clf",version="v1",le="0.7"} 2
aiq_confidence_bucket{model="clf",version="v1",le="0.8"} 2
aiq_confidence_bucket{model="clf",version="v1",le="0.9"} 2
aiq_confidence_bucket{model="clf",version="v1",le="1"} 4
aiq_confidence_bucket{model="clf",version="v1",le="+Inf"} 4
# HELP aiq_mae Mean absolute error over the window.
# TYPE aiq_mae gauge
aiq_mae{model="reg",version="default"} 1.5
# HELP aiq_rmse Root mean squared error over the window.
# TYPE aiq_rmse gauge
aiq_rmse{model="reg",version="default"} 2
# HELP aiq_r2 Coefficient of determination over the window.
# TYPE aiq_r2 gauge
aiq_r2{model="reg",version="default"} 0.5
# HELP aiq_mape Mean absolute percentage error over the window.
# TYPE aiq_mape gauge
aiq_mape{model="reg",version="default"} 0.1
# HELP aiq_estimated_accuracy Accuracy estimated from calibrated confidence, without labels.
# TYPE aiq_estimated_accuracy gauge
aiq_estimated_accuracy{model="clf",version="v1"} 0.625
# HELP aiq_concept_drift_detections_total Concept drifts detected on the error stream.
# TYPE aiq_concept_drift_detections_total counter
aiq_concept_drift_detections_total{model="clf",version="v1",detector="adwin"} 2
aiq_concept_drift_detections_total{model="clf",version="v1",detector="ddm"} 0
aiq_concept_drift_detections_total{model="clf",version="v1",detector="page_hinkley"} 1
aiq_concept_drift_detections_total{model="reg",version="default",detector="adwin"} 0
aiq_concept_drift_detections_total{model="reg",version="default",detector="page_hinkley"} 0
# HELP aiq_concept_drift_warning 1 while a concept-drift detector warns.
# TYPE aiq_concept_drift_warning gauge
aiq_concept_drift_warning{model="clf",version="v1",detector="adwin"} 1
aiq_concept_drift_warning{model="clf",version="v1",detector="ddm"} 0
aiq_concept_drift_warning{model="clf",version="v1",detector="page_hinkley"} 0
aiq_concept_drift_warning{model="reg",version="default",detector="adwin"} 0
aiq_concept_drift_warning{model="reg",version="default",detector="page_hinkley"} 0
# HELP aiq_segment_accuracy Accuracy within a segment value.
# TYPE aiq_segment_accuracy gauge
aiq_segment_accuracy{model="clf",version="v1",attribute="region",segment="eu"} 0.75
aiq_segment_accuracy{model="clf",version="v1",attribute="region",segment="other"} 0.5
# HELP aiq_segment_positive_rate Share of a segment value's predictions that are the positive class.
# TYPE aiq_segment_positive_rate gauge
aiq_segment_positive_rate{model="clf",version="v1",attribute="region",segment="eu"} 0.5
# HELP aiq_segment_tpr True positive rate within a segment value.
# TYPE aiq_segment_tpr gauge
aiq_segment_tpr{model="clf",version="v1",attribute="region",segment="eu"} 1
# HELP aiq_demographic_parity_difference Max minus min positive rate across a segment attribute's values.
# TYPE aiq_demographic_parity_difference gauge
aiq_demographic_parity_difference{model="clf",version="v1",attribute="region"} 0.25
)");
}

TEST(QualityMetricsTest, NothingButCountsBelowMinSamples) {
  config::ModelConfig cfg;
  cfg.classes = {"a", "b"};
  cfg.window.min_samples = 5;
  cfg.segments = {{"region", {"eu"}}};
  model::QualityWindow w(cfg);
  const absl::Time t = absl::FromUnixSeconds(1'800'000'000);
  model::LabeledSample s;
  s.prediction.predicted_class = 1;
  s.prediction.confidence = 0.9;
  s.prediction.segment = {0};
  s.true_class = 1;
  for (int i = 0; i < 4; ++i) {
    w.AddPrediction(t, s.prediction);
    w.AddLabeled(t, s);
  }
  QualityFamilies q;
  q.Append("m", cfg, {"v"}, cfg.classes, {w.Snapshot(t)});
  const std::string text = Render(std::move(q));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(aiq_window_samples{model="m",version="v",kind="labeled"} 4)"));
  EXPECT_THAT(
      text,
      HasSubstr(
          R"(aiq_concept_drift_warning{model="m",version="v",detector="ddm"} 0)"));
  for (const char* absent :
       {"aiq_accuracy", "aiq_f1", "aiq_expected_calibration_error",
        "aiq_confidence", "aiq_estimated_accuracy", "aiq_segment_",
        "aiq_low_confidence_ratio", "aiq_demographic_parity_difference"}) {
    EXPECT_THAT(text, Not(HasSubstr(absent))) << absent;
  }
}

}  // namespace
}  // namespace aiq::metrics
