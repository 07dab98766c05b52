// The `report --config FILE` file: per-feature drift test/threshold/type
// overrides and report-wide settings, in YAML (schema in docs/report.md).
//
//   # report.yaml
//   features:
//     age:   {test: psi, threshold: 0.2}
//     score: {threshold: auto}   # calibrated from the reference
//     rooms: {type: categorical}
//   dataset_drift_share: 0.5
//   task: classification      # or regression; default: decided from data
//
// The exporter's model-config form of `features` is accepted too (a list of
// {name, type, drift_test, drift_threshold}, read by the exporter's own
// reader), as is a whole exporter config with exactly one model (parsed and
// validated by config::ParseConfigText, then its features used). Both files
// go through config::YamlReader: every problem is reported, with its line.
//
// Example, given `ReportOptions& options`:
//   absl::StatusOr<aiq::report::ReportConfig> c =
//       aiq::report::LoadReportConfig("report.yaml");
//   options.features = c->features;
#ifndef AIQ_EXPORTER_REPORT_REPORT_CONFIG_H_
#define AIQ_EXPORTER_REPORT_REPORT_CONFIG_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "exporter/report/report.h"

namespace aiq::report {

struct ReportConfig {
  std::map<std::string, FeatureOverride> features;
  std::optional<double> dataset_drift_share;
  std::optional<QualityTask> task;
  std::optional<std::string> target;
  std::optional<std::string> prediction;
};

// Errors are InvalidArgument, one line per problem in file order:
// "<source>:<line>: <key path>: why".
absl::StatusOr<ReportConfig> ParseReportConfig(std::string_view yaml,
                                               const std::string& source);
absl::StatusOr<ReportConfig> LoadReportConfig(const std::string& path);

}  // namespace aiq::report

#endif  // AIQ_EXPORTER_REPORT_REPORT_CONFIG_H_
