#include "exporter/report/report_config.h"

#include <fstream>
#include <initializer_list>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "exporter/util/absl_compat.h"
#include "yaml-cpp/yaml.h"

namespace aiq::report {
namespace {

// yaml-cpp reports through exceptions; they stop here and become Status.
class Reader {
 public:
  explicit Reader(const std::string& source) : source_(source) {}

  absl::Status Error(const YAML::Node& n, const std::string& path,
                     const std::string& why) const {
    const int line = n.IsDefined() ? n.Mark().line + 1 : 0;
    return absl::InvalidArgumentError(
        line > 0 ? absl::StrCat(source_, ":", line, ": ", path, ": ", why)
                 : absl::StrCat(source_, ": ", path, ": ", why));
  }

  absl::Status CheckKeys(const YAML::Node& map, const std::string& path,
                         std::initializer_list<std::string_view> keys) const {
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      bool known = false;
      for (std::string_view k : keys) known = known || k == key;
      if (!known) {
        std::string list;
        for (std::string_view k : keys) {
          absl::StrAppend(&list, list.empty() ? "" : ", ", util::ToAbsl(k));
        }
        return Error(kv.first, absl::StrCat(path, ".", key),
                     absl::StrCat("unknown key (expected one of: ", list, ")"));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Scalar(const YAML::Node& n,
                                     const std::string& path) const {
    if (!n.IsScalar()) return Error(n, path, "expected a string");
    return n.Scalar();
  }

  absl::StatusOr<double> Number(const YAML::Node& n, const std::string& path,
                                double lo, double hi) const {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) ||
        !(v >= lo && v <= hi)) {
      return Error(n, path,
                   absl::StrCat("expected a number in [", lo, ", ", hi, "]"));
    }
    return v;
  }

 private:
  const std::string& source_;
};

absl::Status ReadTest(const Reader& r, const YAML::Node& n,
                      const std::string& path, FeatureOverride& f) {
  absl::StatusOr<std::string> s = r.Scalar(n, path);
  if (!s.ok()) return s.status();
  absl::StatusOr<stats::DriftTest> t = stats::ParseDriftTest(*s);
  if (!t.ok()) {
    return r.Error(n, path,
                   "must be one of ks, z, chi_square, psi, jensen_shannon, "
                   "wasserstein");
  }
  f.test = *t;
  return absl::OkStatus();
}

absl::Status ReadType(const Reader& r, const YAML::Node& n,
                      const std::string& path, FeatureOverride& f) {
  absl::StatusOr<std::string> s = r.Scalar(n, path);
  if (!s.ok()) return s.status();
  if (*s == "numeric") {
    f.type = data::ColumnType::kNumeric;
  } else if (*s == "categorical" || *s == "boolean") {
    f.type = data::ColumnType::kCategorical;
  } else {
    return r.Error(n, path, "must be numeric or categorical");
  }
  return absl::OkStatus();
}

// One feature's overrides; the report's own format and the exporter's model
// config name the test and threshold keys differently.
absl::Status ReadOverride(const Reader& r, const YAML::Node& v,
                          const std::string& fp, const char* test_key,
                          const char* threshold_key, FeatureOverride& f) {
  if (v[test_key]) {
    if (absl::Status s = ReadTest(r, v[test_key], fp + "." + test_key, f);
        !s.ok()) {
      return s;
    }
  }
  if (v[threshold_key]) {
    absl::StatusOr<double> t =
        r.Number(v[threshold_key], fp + "." + threshold_key, 0, 1e9);
    if (!t.ok()) return t.status();
    f.threshold = *t;
  }
  if (v["type"]) return ReadType(r, v["type"], fp + ".type", f);
  return absl::OkStatus();
}

absl::Status ReadFeatures(const Reader& r, const YAML::Node& n,
                          const std::string& path, ReportConfig& c) {
  if (n.IsMap()) {  // features: {age: {test: psi, threshold: 0.2}}
    for (const auto& kv : n) {
      const std::string name = kv.first.Scalar();
      const std::string fp = absl::StrCat(path, ".", name);
      const YAML::Node& v = kv.second;
      if (!v.IsMap()) return r.Error(v, fp, "expected a map");
      if (absl::Status s = r.CheckKeys(v, fp, {"test", "threshold", "type"});
          !s.ok()) {
        return s;
      }
      if (absl::Status s =
              ReadOverride(r, v, fp, "test", "threshold", c.features[name]);
          !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }
  if (!n.IsSequence()) return r.Error(n, path, "expected a map or a list");
  // The exporter's model config: [{name, type, drift_test, drift_threshold}].
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node& v = n[i];
    const std::string fp = absl::StrCat(path, "[", i, "]");
    if (v.IsScalar()) {
      c.features[v.Scalar()];
      continue;
    }
    if (!v.IsMap()) return r.Error(v, fp, "expected a map or a name");
    if (absl::Status s = r.CheckKeys(
            v, fp, {"name", "type", "drift_test", "drift_threshold"});
        !s.ok()) {
      return s;
    }
    absl::StatusOr<std::string> name = r.Scalar(v["name"], fp + ".name");
    if (!name.ok()) return name.status();
    if (absl::Status s = ReadOverride(r, v, fp, "drift_test", "drift_threshold",
                                      c.features[*name]);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ReportConfig> Parse(const YAML::Node& root, const Reader& r) {
  ReportConfig c;
  if (root.IsNull() || !root.IsDefined()) return c;  // empty file
  if (!root.IsMap()) return r.Error(root, "(top level)", "expected a map");
  if (root["models"] && !root["features"]) {
    // A whole exporter config: take the model's features.
    const YAML::Node models = root["models"];
    if (!models.IsSequence() || models.size() != 1) {
      return r.Error(models, "models",
                     "a report config takes the features of exactly one "
                     "model; write a report config (docs/report.md)");
    }
    const YAML::Node m = models[0];
    if (m.IsMap() && m["features"]) {
      if (absl::Status s =
              ReadFeatures(r, m["features"], "models[0].features", c);
          !s.ok()) {
        return s;
      }
    }
    return c;
  }
  if (absl::Status s = r.CheckKeys(
          root, "(top level)",
          {"features", "dataset_drift_share", "task", "target", "prediction"});
      !s.ok()) {
    return s;
  }
  if (root["features"] && !root["features"].IsNull()) {
    if (absl::Status s = ReadFeatures(r, root["features"], "features", c);
        !s.ok()) {
      return s;
    }
  }
  if (root["dataset_drift_share"]) {
    absl::StatusOr<double> v =
        r.Number(root["dataset_drift_share"], "dataset_drift_share", 0, 1);
    if (!v.ok()) return v.status();
    c.dataset_drift_share = *v;
  }
  if (root["task"]) {
    absl::StatusOr<std::string> t = r.Scalar(root["task"], "task");
    if (!t.ok()) return t.status();
    if (*t == "classification") {
      c.task = QualityTask::kClassification;
    } else if (*t == "regression") {
      c.task = QualityTask::kRegression;
    } else if (*t != "auto") {
      return r.Error(root["task"], "task",
                     "must be classification, regression or auto");
    }
  }
  for (const char* key : {"target", "prediction"}) {
    if (!root[key]) continue;
    absl::StatusOr<std::string> v = r.Scalar(root[key], key);
    if (!v.ok()) return v.status();
    (std::string_view(key) == "target" ? c.target : c.prediction) = *v;
  }
  return c;
}

}  // namespace

absl::StatusOr<ReportConfig> ParseReportConfig(std::string_view yaml,
                                               const std::string& source) {
  Reader r(source);
  try {
    return Parse(YAML::Load(std::string(yaml)), r);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", e.mark.line + 1, ": ", e.msg));
  }
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
