#include "exporter/report/report_config.h"

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "exporter/config/config_loader.h"
#include "exporter/config/feature_list.h"
#include "exporter/config/yaml_reader.h"

namespace aiq::report {
namespace {

using config::YamlReader;
using config::YamlSection;

FeatureOverride OverrideOf(const config::FeatureConfig& f) {
  FeatureOverride o;
  o.test = f.drift_test;
  o.threshold = f.drift_threshold;
  o.threshold_auto = f.drift_threshold_auto;
  o.type = f.type;
  return o;
}

// features: {age: {test: psi, threshold: 0.2, type: numeric}} (threshold
// also `auto`) or the
// exporter's model-config list [{name, type, drift_test, drift_threshold}].
void ReadFeatures(YamlReader& r, const YAML::Node& n, const std::string& path,
                  ReportConfig& c) {
  if (n.IsSequence()) {
    std::vector<config::FeatureConfig> list;
    config::ReadFeatureList(r, n, path, list);
    for (const config::FeatureConfig& f : list) {
      c.features[f.name] = OverrideOf(f);
    }
    return;
  }
  if (!n.IsMap()) {
    r.Error(n, path, "must be a mapping (name: overrides) or a list");
    return;
  }
  for (const auto& kv : n) {
    const std::string name = kv.first.as<std::string>("");
    const std::string fp = YamlReader::Join(path, name);
    if (!r.ExpectMap(kv.second, fp)) continue;
    YamlSection s(r, kv.second, fp);
    FeatureOverride& f = c.features[name];
    s.OptionalEnum("test", stats::kDriftTestNames, f.test);
    config::ReadDriftThreshold(s, "threshold", f.threshold, f.threshold_auto);
    s.OptionalEnum("type", stats::kFeatureKindNames, f.type);
  }
}

void OptionalString(YamlSection& s, std::string_view key,
                    std::optional<std::string>& out) {
  if (!s.Present(key)) return;
  std::string v;
  s.String(key, v);
  out = std::move(v);
}

std::optional<ReportConfig> Parse(std::string_view yaml,
                                  const std::string& source,
                                  std::vector<config::ConfigError>& errors) {
  YamlReader r(source, errors);
  std::optional<YAML::Node> root = r.Load(yaml);
  if (!root) return std::nullopt;
  ReportConfig c;
  if (root->IsNull()) return c;  // an empty file
  if (!r.ExpectMap(*root, "")) return std::nullopt;
  const YAML::Node& const_root = *root;
  if (const_root["models"]) {
    // A whole exporter config, validated as the exporter would; the one
    // model's features are used.
    std::optional<config::Config> exporter =
        config::ParseConfigText(yaml, source, errors);
    if (!exporter) return std::nullopt;
    if (exporter->models.size() != 1) {
      r.Error(const_root["models"], "models",
              "a report config takes the features of exactly one model; "
              "write a report config (docs/report.md)");
      return std::nullopt;
    }
    for (const config::FeatureConfig& f : exporter->models[0].features) {
      c.features[f.name] = OverrideOf(f);
    }
    return c;
  }
  {
    YamlSection s(r, *root, "");
    if (std::optional<YAML::Node> f = s.Present("features")) {
      ReadFeatures(r, *f, "features", c);
    }
    s.OptionalDouble("dataset_drift_share", c.dataset_drift_share, 0, 1);
    s.OptionalEnum("task", kQualityTaskNames, c.task);
    OptionalString(s, "target", c.target);
    OptionalString(s, "prediction", c.prediction);
  }
  if (r.error_count() > 0) {
    r.SortErrorsByLine();
    return std::nullopt;
  }
  return c;
}

}  // namespace

absl::StatusOr<ReportConfig> ParseReportConfig(std::string_view yaml,
                                               const std::string& source) {
  std::vector<config::ConfigError> errors;
  std::optional<ReportConfig> c = Parse(yaml, source, errors);
  if (!c) return config::JoinErrors(errors);
  return *std::move(c);
}

absl::StatusOr<ReportConfig> LoadReportConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseReportConfig(ss.str(), path);
}

}  // namespace aiq::report
