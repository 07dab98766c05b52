// Renders a model version's live drift window in the shape of the batch
// `report` command's JSON (docs/report.md), for
// GET /api/v1/models/{model}/drift.
//
// Example, given `const config::ModelConfig& model_config`,
// `const model::ModelReference& reference`, `const model::WindowDrift& drift`
// and `const model::QualitySnapshot* quality` (nullptr: no quality section):
//   #include "exporter/report/report_json.h"
//   report::Report r =
//       DriftReport(model_config, "v1", reference, drift, quality);
//   std::string json = report::RenderJson(r);
#ifndef AIQ_EXPORTER_APP_DRIFT_REPORT_H_
#define AIQ_EXPORTER_APP_DRIFT_REPORT_H_

#include "exporter/config/config.h"
#include "exporter/model/drift_window.h"
#include "exporter/model/model_reference.h"
#include "exporter/model/quality_window.h"
#include "exporter/report/report.h"

namespace aiq::app {

report::Report DriftReport(const config::ModelConfig& model,
                           const std::string& version,
                           const model::ModelReference& reference,
                           const model::WindowDrift& drift,
                           const model::QualitySnapshot* quality);

}  // namespace aiq::app

#endif  // AIQ_EXPORTER_APP_DRIFT_REPORT_H_
