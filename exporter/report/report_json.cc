#include "exporter/report/report_json.h"

#include <cmath>

#include "nlohmann/json.hpp"

namespace aiq::report {
namespace {

using Json = nlohmann::ordered_json;

// nlohmann prints NaN as null anyway; being explicit keeps that a decision.
Json Number(double x) { return std::isfinite(x) ? Json(x) : Json(nullptr); }

Json OptionalString(const std::string& s) {
  return s.empty() ? Json(nullptr) : Json(s);
}

Json FeatureJson(const FeatureReport& f) {
  Json j = Json::object();
  j["type"] = std::string(stats::FeatureKindName(f.type));
  j["missing_ratio"] = Number(f.missing_ratio);
  if (f.numeric) {
    const stats::NumericDrift& n = *f.numeric;
    Json s = Json::object();
    s["ks"] = {
        {"statistic", Number(n.ks.statistic)},
        {"p_value", Number(n.ks.p_value)},
        {"mode", n.ks.mode == stats::KsMode::kExact ? "exact" : "asymp"}};
    s["psi"] = Number(n.psi);
    s["jensen_shannon"] = Number(n.jensen_shannon);
    s["wasserstein"] = Number(n.wasserstein);
    s["wasserstein_normed"] = Number(n.wasserstein_normed);
    j["stats"] = std::move(s);
  } else if (f.categorical) {
    const stats::CategoricalDrift& c = *f.categorical;
    Json s = Json::object();
    s["chi_square"] = {{"statistic", Number(c.chi_square.statistic)},
                       {"p_value", Number(c.chi_square.p_value)},
                       {"dof", c.chi_square.dof}};
    s["psi"] = Number(c.psi);
    s["jensen_shannon"] = Number(c.jensen_shannon);
    s["new_categories"] = c.new_categories;
    j["stats"] = std::move(s);
  } else {
    j["stats"] = nullptr;
  }
  if (f.drift) {
    j["drift"] = {{"test", std::string(stats::DriftTestName(f.drift->test))},
                  {"score", Number(f.drift->score)},
                  {"threshold", Number(f.drift->threshold)},
                  {"detected", f.drift->detected}};
  } else {
    j["drift"] = nullptr;
  }
  return j;
}

Json QualityJson(const QualityReport& q) {
  if (q.task == QualityTask::kRegression) {
    const stats::RegressionMetrics& m = q.regression;
    return {{"mae", Number(m.mae)},
            {"mse", Number(m.mse)},
            {"rmse", Number(m.rmse)},
            {"r2", Number(m.r2)},
            {"mape", Number(m.mape)}};
  }
  const stats::ClassificationMetrics& m = q.classification;
  return {{"accuracy", Number(m.accuracy)},
          {"precision_macro", Number(m.precision_macro)},
          {"recall_macro", Number(m.recall_macro)},
          {"f1_macro", Number(m.f1_macro)},
          {"precision_weighted", Number(m.precision_weighted)},
          {"recall_weighted", Number(m.recall_weighted)},
          {"f1_weighted", Number(m.f1_weighted)}};
}

}  // namespace

std::string RenderJson(const Report& report, int indent) {
  Json j = Json::object();
  j["reference"] = report.reference;
  j["current"] = report.current;
  j["target"] = OptionalString(report.target);
  j["prediction"] = OptionalString(report.prediction);
  j["rows"] = {{"reference", report.reference_rows},
               {"current", report.current_rows}};
  Json features = Json::object();
  for (const FeatureReport& f : report.features) {
    features[f.name] = FeatureJson(f);
  }
  j["features"] = std::move(features);
  const stats::DatasetDrift& d = report.dataset_drift;
  j["dataset_drift"] = {{"drifted_features", d.drifted_features},
                        {"total_features", d.total_features},
                        {"share", Number(d.share)},
                        {"detected", d.detected}};
  j["quality"] = report.quality ? QualityJson(*report.quality) : Json(nullptr);
  // Invalid UTF-8 in the data must not abort rendering.
  std::string out = j.dump(indent, ' ', false, Json::error_handler_t::replace);
  out.push_back('\n');
  return out;
}

}  // namespace aiq::report
