#include "exporter/app/drift_report.h"

#include "absl/strings/str_cat.h"

namespace aiq::app {

report::Report DriftReport(const config::ModelConfig& model,
                           const std::string& version,
                           const model::ModelReference& reference,
                           const model::WindowDrift& drift,
                           const model::QualitySnapshot* quality) {
  report::Report r;
  r.reference = reference.source();
  r.current = absl::StrCat("window of ", model.name, " ", version);
  r.target = model.reference_target_column;
  r.prediction = model.reference_prediction_column;
  r.reference_rows = reference.rows();
  r.current_rows = drift.predictions;
  int64_t drifted = 0;
  for (const model::ChannelDrift& c : drift.features) {
    report::FeatureReport f;
    f.name = c.name;
    f.type = c.numeric ? stats::FeatureKind::kNumeric
                       : stats::FeatureKind::kCategorical;
    f.current_values = c.present;
    f.missing_ratio = c.total > 0 ? static_cast<double>(c.total - c.present) /
                                        static_cast<double>(c.total)
                                  : 0;
    if (c.numeric) {
      f.numeric = c.numeric_stats;
    } else {
      f.categorical = c.categorical_stats;
    }
    f.drift = c.decision;
    if (!c.decision) {
      f.note = c.error.empty() ? absl::StrCat("fewer than window.min_samples (",
                                              drift.min_samples, ") values")
                               : c.error;
    }
    if (c.decision && c.decision->detected) ++drifted;
    r.features.push_back(std::move(f));
  }
  r.dataset_drift =
      drift.dataset.value_or(stats::ComputeDatasetDrift(drifted, 0));
  // Quality of the window's labeled pairs, when there are enough.
  if (quality != nullptr && (quality->classification || quality->regression)) {
    report::QualityReport q;
    q.rows = quality->labeled;
    if (quality->classification) {
      q.task = report::QualityTask::kClassification;
      q.classification = *quality->classification;
    } else {
      q.task = report::QualityTask::kRegression;
      q.regression = *quality->regression;
    }
    r.quality = std::move(q);
  }
  return r;
}

}  // namespace aiq::app
