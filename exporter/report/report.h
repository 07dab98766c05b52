// The drift and quality report of a current dataset against a reference: a
// plain struct, computed from two Datasets, rendered separately (JSON in
// report_json.h, HTML in report_html.h). The `report` command and the
// streaming exporter's GET /api/v1/models/{model}/drift share it.
//
// Example, given `const data::Dataset& reference` and
// `const data::Dataset& current`:
//   #include "exporter/report/report_json.h"
//   aiq::report::ReportOptions opts;
//   opts.target = "target";
//   opts.prediction = "prediction";
//   absl::StatusOr<aiq::report::Report> r =
//       aiq::report::BuildReport(reference, current, opts);
//   if (r.ok() && r->dataset_drift.detected) { /* fail the CI gate */ }
//   std::string json = aiq::report::RenderJson(*r);
//
// Features are every reference column except the target and prediction, in
// the reference's column order. Each gets the statistics of its type and one
// drift decision by the default rule (exporter/stats/drift_policy.h) unless
// overridden. Missing values are left out of every test and reported as the
// current data's missing ratio.
#ifndef AIQ_EXPORTER_REPORT_REPORT_H_
#define AIQ_EXPORTER_REPORT_REPORT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/data/dataset.h"
#include "exporter/stats/categorical.h"
#include "exporter/stats/classification.h"
#include "exporter/stats/drift_policy.h"
#include "exporter/stats/numeric_drift.h"
#include "exporter/stats/regression.h"
#include "exporter/util/enum_names.h"

namespace aiq::report {

// Per-feature settings from --categorical and the --config file.
struct FeatureOverride {
  std::optional<stats::DriftTest> test;
  std::optional<double> threshold;
  // `threshold: auto`: calibrated from the reference (stats/
  // drift_calibration.h) with chunks of the current data's size, at most
  // half the reference and kMaxReportCalibrationChunk values.
  bool threshold_auto = false;
  // kNumeric: a value that is not a number is an error; kCategorical or
  // kBoolean: read the column as categories even when its values are
  // numbers.
  std::optional<stats::FeatureKind> type;
};

// The largest calibration chunk `threshold: auto` uses in a report: its
// cost grows with the chunk (10,000 draws of it), and a threshold
// calibrated on fewer values than the current data's is conservative for
// distances (they fall as samples grow) and the same for p-values.
inline constexpr int64_t kMaxReportCalibrationChunk = 10000;

enum class QualityTask { kAuto, kClassification, kRegression };
// The values of --task and of the report config's `task`.
inline constexpr auto kQualityTaskNames = util::MakeEnumNames<QualityTask>({
    {QualityTask::kClassification, "classification"},
    {QualityTask::kRegression, "regression"},
    {QualityTask::kAuto, "auto"},
});

struct ReportOptions {
  std::string target;      // "" = no quality section
  std::string prediction;  // needed with target
  std::map<std::string, FeatureOverride> features;
  double dataset_drift_share = stats::kDatasetDriftShare;
  // kAuto: classification when the target or prediction is categorical, or
  // both are integers with at most 10 distinct values; else regression.
  QualityTask task = QualityTask::kAuto;
  // For the HTML histograms of numeric features.
  int histogram_bins = 24;
  // Features are independent: computed on up to this many threads (0 = one
  // per core).
  int threads = 0;
};

// Reference vs current counts for the HTML plots (not part of the JSON).
struct Histogram {
  // Numeric, binned: edges.size() == bins + 1. Categories (or numeric values
  // when few): one label per bar, edges empty.
  std::vector<double> edges;
  std::vector<std::string> labels;
  std::vector<int64_t> reference;
  std::vector<int64_t> current;
};

struct FeatureReport {
  std::string name;
  stats::FeatureKind type = stats::FeatureKind::kNumeric;
  int64_t reference_values = 0;  // non-missing
  int64_t current_values = 0;    // non-missing
  double missing_ratio = 0;      // of the current rows
  // Exactly one is set, by type, unless a side has no values (then neither
  // is, nor `drift`, and `note` says why).
  std::optional<stats::NumericDrift> numeric;
  std::optional<stats::CategoricalDrift> categorical;
  std::optional<stats::DriftDecision> drift;
  std::string note;
  Histogram histogram;
};

struct QualityReport {
  QualityTask task = QualityTask::kClassification;
  int64_t rows = 0;  // current rows with both target and prediction
  // kClassification: metrics.per_class[i] is labels[i].
  std::vector<std::string> labels;
  stats::ClassificationMetrics classification;
  stats::RegressionMetrics regression;
};

struct Report {
  std::string reference;  // names (file paths) as given
  std::string current;
  std::string target;  // "" when not given
  std::string prediction;
  int64_t reference_rows = 0;
  int64_t current_rows = 0;
  std::vector<FeatureReport> features;  // reference column order
  stats::DatasetDrift dataset_drift;
  double dataset_drift_share = stats::kDatasetDriftShare;
  std::optional<QualityReport> quality;  // with target and prediction
};

// Errors (InvalidArgument): a reference column absent from the current data
// or typed differently, an unknown target/prediction/override column, an
// override that does not fit the feature (KS on a categorical feature), a
// regression target that is not numeric.
absl::StatusOr<Report> BuildReport(const data::Dataset& reference,
                                   const data::Dataset& current,
                                   const ReportOptions& options);

}  // namespace aiq::report

#endif  // AIQ_EXPORTER_REPORT_REPORT_H_
