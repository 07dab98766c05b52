#include "exporter/config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "exporter/config/default_config.h"

namespace aiq::config {

const char* TaskName(Task task) {
  switch (task) {
    case Task::kClassification:
      return "classification";
    case Task::kRegression:
      return "regression";
    case Task::kGeneration:
      return "generation";
  }
  return "?";
}

const char* FeatureTypeName(FeatureType type) {
  switch (type) {
    case FeatureType::kNumeric:
      return "numeric";
    case FeatureType::kCategorical:
      return "categorical";
    case FeatureType::kBoolean:
      return "boolean";
  }
  return "?";
}

const ModelConfig* Config::FindModel(std::string_view name) const {
  for (const ModelConfig& m : models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string ConfigError::ToString() const {
  std::string out = source;
  if (line > 0) absl::StrAppend(&out, ":", line);
  absl::StrAppend(&out, ": ");
  if (!path.empty()) absl::StrAppend(&out, path, ": ");
  absl::StrAppend(&out, message);
  return out;
}

namespace {

// Walks a YAML tree, converting scalars and collecting every error with its
// path and line instead of stopping at the first.
class Reader {
 public:
  Reader(std::string_view source, std::vector<ConfigError>& errors)
      : source_(source), errors_(errors) {}

  void Error(const YAML::Node& node, const std::string& path,
             std::string message) {
    int line = node.IsDefined() ? node.Mark().line + 1 : 0;
    errors_.push_back({source_, line, path, std::move(message)});
  }

  // Reports keys of `map` not in `known`.
  void CheckKeys(const YAML::Node& map, const std::string& path,
                 std::initializer_list<std::string_view> known) {
    if (!map.IsMap()) return;
    for (const auto& kv : map) {
      const std::string key = kv.first.as<std::string>("");
      bool ok = false;
      std::string expected;
      for (std::string_view k : known) {
        ok = ok || k == key;
        if (!expected.empty()) expected += ", ";
        expected += k;
      }
      if (!ok) {
        Error(kv.first, Join(path, key),
              "unknown key (expected one of: " + expected + ")");
      }
    }
  }

  bool ExpectMap(const YAML::Node& node, const std::string& path) {
    if (node.IsMap()) return true;
    Error(node, path, "must be a mapping");
    return false;
  }

  static std::string Join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }
  static std::string Index(const std::string& path, size_t i) {
    return absl::StrCat(path, "[", i, "]");
  }

  void String(const YAML::Node& map, const std::string& path,
              std::string_view key, std::string& out) {
    YAML::Node n = map[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) return;
    if (!n.IsScalar()) {
      Error(n, Join(path, key), "must be a string");
      return;
    }
    out = n.Scalar();
  }

  void Double(const YAML::Node& map, const std::string& path,
              std::string_view key, double& out, double min, double max) {
    YAML::Node n = map[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) return;
    double v = 0;
    if (!n.IsScalar() || !absl::SimpleAtod(n.Scalar(), &v) ||
        !std::isfinite(v)) {
      Error(n, Join(path, key), "must be a finite number");
      return;
    }
    if (v < min || v > max) {
      Error(n, Join(path, key),
            absl::StrCat("must be between ", min, " and ", max));
      return;
    }
    out = v;
  }

  void OptionalDouble(const YAML::Node& map, const std::string& path,
                      std::string_view key, std::optional<double>& out,
                      double min, double max) {
    YAML::Node n = map[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) return;
    double v = 0;
    Double(map, path, key, v, min, max);
    out = v;
  }

  template <typename Int>
  void Integer(const YAML::Node& map, const std::string& path,
               std::string_view key, Int& out, int64_t min, int64_t max) {
    YAML::Node n = map[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) return;
    int64_t v = 0;
    if (!n.IsScalar() || !absl::SimpleAtoi(n.Scalar(), &v)) {
      Error(n, Join(path, key), "must be an integer");
      return;
    }
    if (v < min || v > max) {
      Error(n, Join(path, key),
            absl::StrCat("must be between ", min, " and ", max));
      return;
    }
    out = static_cast<Int>(v);
  }

  // "90s", "15m", "1h", "1h30m" (absl syntax) or "7d".
  void Duration(const YAML::Node& map, const std::string& path,
                std::string_view key, absl::Duration& out) {
    YAML::Node n = map[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) return;
    absl::Duration d;
    if (!n.IsScalar() || !ParseDuration(n.Scalar(), d) ||
        d <= absl::ZeroDuration()) {
      Error(n, Join(path, key),
            "must be a positive duration such as 90s, 15m, 1h or 7d");
      return;
    }
    out = d;
  }

  void StringList(const YAML::Node& map, const std::string& path,
                  std::string_view key, std::vector<std::string>& out) {
    YAML::Node n = map[std::string(key)];
    if (!n.IsDefined() || n.IsNull()) return;
    const std::string p = Join(path, key);
    if (!n.IsSequence()) {
      Error(n, p, "must be a list of strings");
      return;
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsScalar() || n[i].Scalar().empty()) {
        Error(n[i], Index(p, i), "must be a non-empty string");
        continue;
      }
      if (!seen.insert(n[i].Scalar()).second) {
        Error(n[i], Index(p, i),
              absl::StrCat("duplicate \"", n[i].Scalar(), "\""));
        continue;
      }
      out.push_back(n[i].Scalar());
    }
  }

  static bool ParseDuration(const std::string& s, absl::Duration& d) {
    if (!s.empty() && s.back() == 'd') {
      double days = 0;
      if (!absl::SimpleAtod(s.substr(0, s.size() - 1), &days) || days <= 0) {
        return false;
      }
      d = absl::Hours(24) * days;
      return true;
    }
    return absl::ParseDuration(s, &d);
  }

 private:
  std::string source_;
  std::vector<ConfigError>& errors_;
};

bool IsLabelSafe(std::string_view s) {
  // Names end up in label values and URLs: keep them printable and short.
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' ||
        c == '/') {
      return false;
    }
  }
  return true;
}

void ReadServer(Reader& r, const YAML::Node& n, ServerConfig& s) {
  const std::string path = "server";
  if (!r.ExpectMap(n, path)) return;
  r.CheckKeys(n, path,
              {"listen", "threads", "ingest_tokens", "ingest_tokens_file",
               "metrics_auth", "latency_buckets_seconds"});
  r.String(n, path, "listen", s.listen);
  if (s.listen.rfind(':') == std::string::npos) {
    r.Error(n["listen"], "server.listen", "must be HOST:PORT");
  }
  r.Integer(n, path, "threads", s.threads, 1, 256);
  r.StringList(n, path, "ingest_tokens", s.ingest_tokens);
  std::string tokens_file;
  r.String(n, path, "ingest_tokens_file", tokens_file);
  if (!tokens_file.empty()) {
    std::ifstream in(tokens_file);
    if (!in) {
      r.Error(n["ingest_tokens_file"], "server.ingest_tokens_file",
              absl::StrCat("cannot read ", tokens_file));
    }
    for (std::string line; std::getline(in, line);) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
        line.pop_back();
      }
      if (!line.empty() && line[0] != '#') s.ingest_tokens.push_back(line);
    }
  }
  if (YAML::Node a = n["metrics_auth"]; a.IsDefined() && !a.IsNull()) {
    const std::string ap = "server.metrics_auth";
    if (r.ExpectMap(a, ap)) {
      r.CheckKeys(a, ap, {"username", "password", "password_file"});
      BasicAuthConfig auth;
      r.String(a, ap, "username", auth.username);
      r.String(a, ap, "password", auth.password);
      std::string pw_file;
      r.String(a, ap, "password_file", pw_file);
      if (!pw_file.empty()) {
        std::ifstream in(pw_file);
        if (!in || !std::getline(in, auth.password)) {
          r.Error(a["password_file"], ap + ".password_file",
                  absl::StrCat("cannot read ", pw_file));
        }
        // Files written on Windows end lines with CR LF.
        while (!auth.password.empty() && auth.password.back() == '\r') {
          auth.password.pop_back();
        }
      }
      if (auth.username.empty() || auth.password.empty()) {
        r.Error(a, ap, "needs username and password (or password_file)");
      }
      s.metrics_auth = auth;
    }
  }
  if (YAML::Node b = n["latency_buckets_seconds"]; b.IsDefined()) {
    const std::string bp = "server.latency_buckets_seconds";
    std::vector<double> buckets;
    if (!b.IsSequence() || b.size() == 0) {
      r.Error(b, bp, "must be a non-empty list of numbers");
    } else {
      for (size_t i = 0; i < b.size(); ++i) {
        double v = 0;
        if (!b[i].IsScalar() || !absl::SimpleAtod(b[i].Scalar(), &v) ||
            !std::isfinite(v) || v <= 0) {
          r.Error(b[i], Reader::Index(bp, i), "must be a positive number");
        } else if (!buckets.empty() && v <= buckets.back()) {
          r.Error(b[i], Reader::Index(bp, i), "buckets must increase");
        } else {
          buckets.push_back(v);
        }
      }
      s.latency_buckets_seconds = buckets;
    }
  }
}

void ReadLimits(Reader& r, const YAML::Node& n, LimitsConfig& l) {
  const std::string path = "limits";
  if (!r.ExpectMap(n, path)) return;
  r.CheckKeys(
      n, path,
      {"max_body_bytes", "max_events_per_request", "max_models",
       "max_versions_per_model", "max_classes", "max_categories_per_feature",
       "max_error_reasons", "max_safety_categories", "max_string_bytes",
       "max_join_entries"});
  r.Integer(n, path, "max_body_bytes", l.max_body_bytes, 1024,
            int64_t{1} << 31);
  r.Integer(n, path, "max_events_per_request", l.max_events_per_request, 1,
            10'000'000);
  r.Integer(n, path, "max_models", l.max_models, 1, 10000);
  r.Integer(n, path, "max_versions_per_model", l.max_versions_per_model, 1,
            1000);
  r.Integer(n, path, "max_classes", l.max_classes, 2, 10000);
  r.Integer(n, path, "max_categories_per_feature", l.max_categories_per_feature,
            1, 100000);
  r.Integer(n, path, "max_error_reasons", l.max_error_reasons, 1, 1000);
  r.Integer(n, path, "max_safety_categories", l.max_safety_categories, 1, 1000);
  r.Integer(n, path, "max_string_bytes", l.max_string_bytes, 16, 1 << 20);
  r.Integer(n, path, "max_join_entries", l.max_join_entries, 0, 100'000'000);
}

void ReadReview(Reader& r, const YAML::Node& n, ReviewConfig& c) {
  const std::string path = "review";
  if (!r.ExpectMap(n, path)) return;
  r.CheckKeys(n, path,
              {"path", "sample_fraction", "low_feedback_score", "max_bytes",
               "max_files"});
  r.String(n, path, "path", c.path);
  r.Double(n, path, "sample_fraction", c.sample_fraction, 0, 1);
  r.Double(n, path, "low_feedback_score", c.low_feedback_score, 1, 5);
  r.Integer(n, path, "max_bytes", c.max_bytes, 4096, int64_t{1} << 40);
  r.Integer(n, path, "max_files", c.max_files, 1, 1000);
}

void ReadWindow(Reader& r, const YAML::Node& n, const std::string& path,
                WindowConfig& w) {
  if (!r.ExpectMap(n, path)) return;
  r.CheckKeys(n, path,
              {"duration", "buckets", "min_samples", "max_exact_samples"});
  r.Duration(n, path, "duration", w.duration);
  r.Integer(n, path, "buckets", w.buckets, 1, 1440);
  r.Integer(n, path, "min_samples", w.min_samples, 1, 100'000'000);
  r.Integer(n, path, "max_exact_samples", w.max_exact_samples, 10, 10'000'000);
}

void ReadFeature(Reader& r, const YAML::Node& n, const std::string& path,
                 FeatureConfig& f) {
  if (n.IsScalar()) {  // shorthand: "- age" means a numeric feature
    f.name = n.Scalar();
    return;
  }
  if (!r.ExpectMap(n, path)) return;
  r.CheckKeys(n, path, {"name", "type", "drift_test", "drift_threshold"});
  r.String(n, path, "name", f.name);
  std::string type;
  r.String(n, path, "type", type);
  if (type.empty() || type == "numeric") {
    f.type = FeatureType::kNumeric;
  } else if (type == "categorical") {
    f.type = FeatureType::kCategorical;
  } else if (type == "boolean") {
    f.type = FeatureType::kBoolean;
  } else {
    r.Error(n["type"], path + ".type",
            "must be one of numeric, categorical, boolean");
  }
  std::string test;
  r.String(n, path, "drift_test", test);
  if (!test.empty()) {
    static constexpr std::string_view kTests[] = {
        "ks", "psi", "jensen_shannon", "wasserstein", "chi_square", "z"};
    bool known = false;
    for (std::string_view t : kTests) known = known || t == test;
    if (!known) {
      r.Error(n["drift_test"], path + ".drift_test",
              "must be one of ks, psi, jensen_shannon, wasserstein, "
              "chi_square, z");
    }
    f.drift_test = test;
  }
  r.OptionalDouble(n, path, "drift_threshold", f.drift_threshold, 0, 1e9);
}

void ReadModel(Reader& r, const YAML::Node& n, const std::string& path,
               const LimitsConfig& limits, const std::string& base_dir,
               ModelConfig& m) {
  if (!r.ExpectMap(n, path)) return;
  r.CheckKeys(n, path,
              {"name", "task", "versions", "default_version", "classes",
               "positive_class", "low_confidence_threshold", "features",
               "segments", "safety_categories", "cost_per_1k_prompt_tokens",
               "cost_per_1k_completion_tokens", "budget", "label_ttl",
               "reference", "window"});
  r.String(n, path, "name", m.name);
  if (!IsLabelSafe(m.name)) {
    r.Error(n["name"].IsDefined() ? n["name"] : n, path + ".name",
            "required: 1-128 printable characters without '\"', '\\' or '/'");
  }
  std::string task;
  r.String(n, path, "task", task);
  if (task == "classification" || task.empty()) {
    m.task = Task::kClassification;
  } else if (task == "regression") {
    m.task = Task::kRegression;
  } else if (task == "generation") {
    m.task = Task::kGeneration;
  } else {
    r.Error(n["task"], path + ".task",
            "must be one of classification, regression, generation");
  }
  r.StringList(n, path, "versions", m.versions);
  // "unknown" labels feedback whose prediction was not found.
  if (std::find(m.versions.begin(), m.versions.end(), "unknown") !=
      m.versions.end()) {
    r.Error(n["versions"], path + ".versions",
            "\"unknown\" is reserved (feedback for unmatched ids)");
  }
  if (static_cast<int>(m.versions.size()) > limits.max_versions_per_model) {
    r.Error(n["versions"], path + ".versions",
            absl::StrCat("more than limits.max_versions_per_model (",
                         limits.max_versions_per_model, ")"));
  }
  if (!m.versions.empty()) m.default_version = m.versions.front();
  r.String(n, path, "default_version", m.default_version);
  if (!m.versions.empty() && std::find(m.versions.begin(), m.versions.end(),
                                       m.default_version) == m.versions.end()) {
    r.Error(n["default_version"], path + ".default_version",
            "must be one of the declared versions");
  }
  r.StringList(n, path, "classes", m.classes);
  if (static_cast<int>(m.classes.size()) > limits.max_classes) {
    r.Error(n["classes"], path + ".classes",
            absl::StrCat("more than limits.max_classes (", limits.max_classes,
                         ")"));
  }
  if (m.task == Task::kClassification && m.classes.size() < 2 &&
      n["classes"].IsDefined()) {
    r.Error(n["classes"], path + ".classes", "needs at least two classes");
  }
  if (m.classes.size() == 2) m.positive_class = m.classes[1];
  r.String(n, path, "positive_class", m.positive_class);
  if (!m.positive_class.empty() && !m.classes.empty() &&
      std::find(m.classes.begin(), m.classes.end(), m.positive_class) ==
          m.classes.end()) {
    r.Error(n["positive_class"], path + ".positive_class",
            "must be one of the declared classes");
  }
  r.Double(n, path, "low_confidence_threshold", m.low_confidence_threshold, 0,
           1);
  if (m.task != Task::kClassification && !m.classes.empty()) {
    r.Error(n["classes"], path + ".classes",
            "only classification models have classes");
  }
  if (YAML::Node f = n["features"]; f.IsDefined() && !f.IsNull()) {
    const std::string fp = path + ".features";
    if (!f.IsSequence()) {
      r.Error(f, fp, "must be a list");
    } else {
      std::set<std::string> seen;
      for (size_t i = 0; i < f.size(); ++i) {
        FeatureConfig fc;
        ReadFeature(r, f[i], Reader::Index(fp, i), fc);
        if (!IsLabelSafe(fc.name)) {
          r.Error(f[i], Reader::Index(fp, i) + ".name",
                  "required: 1-128 printable characters");
        } else if (!seen.insert(fc.name).second) {
          r.Error(f[i], Reader::Index(fp, i) + ".name",
                  absl::StrCat("duplicate feature \"", fc.name, "\""));
        }
        m.features.push_back(std::move(fc));
      }
    }
  }
  if (YAML::Node s = n["segments"]; s.IsDefined() && !s.IsNull()) {
    const std::string sp = path + ".segments";
    if (!s.IsSequence()) {
      r.Error(s, sp, "must be a list of {attribute, values}");
    } else {
      for (size_t i = 0; i < s.size(); ++i) {
        const std::string ip = Reader::Index(sp, i);
        if (!r.ExpectMap(s[i], ip)) continue;
        r.CheckKeys(s[i], ip, {"attribute", "values"});
        SegmentConfig sc;
        r.String(s[i], ip, "attribute", sc.attribute);
        r.StringList(s[i], ip, "values", sc.values);
        if (!IsLabelSafe(sc.attribute)) {
          r.Error(s[i], ip + ".attribute", "required");
        }
        if (sc.values.empty()) {
          r.Error(s[i], ip + ".values", "needs at least one value");
        }
        m.segments.push_back(std::move(sc));
      }
    }
  }
  r.StringList(n, path, "safety_categories", m.safety_categories);
  r.Double(n, path, "cost_per_1k_prompt_tokens", m.cost_per_1k_prompt_tokens, 0,
           1e9);
  r.Double(n, path, "cost_per_1k_completion_tokens",
           m.cost_per_1k_completion_tokens, 0, 1e9);
  if (YAML::Node b = n["budget"]; b.IsDefined() && !b.IsNull()) {
    const std::string bp = path + ".budget";
    if (r.ExpectMap(b, bp)) {
      r.CheckKeys(b, bp, {"cost_per_day", "tokens_per_day"});
      r.OptionalDouble(b, bp, "cost_per_day", m.budget.cost_per_day, 0, 1e15);
      r.OptionalDouble(b, bp, "tokens_per_day", m.budget.tokens_per_day, 0,
                       1e18);
    }
  }
  r.Duration(n, path, "label_ttl", m.label_ttl);
  if (YAML::Node ref = n["reference"]; ref.IsDefined() && !ref.IsNull()) {
    const std::string rp = path + ".reference";
    if (ref.IsScalar()) {
      m.reference_csv = ref.Scalar();
    } else if (r.ExpectMap(ref, rp)) {
      r.CheckKeys(ref, rp, {"csv", "target", "prediction", "confidence"});
      r.String(ref, rp, "confidence", m.reference_confidence_column);
      r.String(ref, rp, "csv", m.reference_csv);
      r.String(ref, rp, "target", m.reference_target_column);
      r.String(ref, rp, "prediction", m.reference_prediction_column);
      if (m.reference_csv.empty()) r.Error(ref, rp + ".csv", "required");
    }
    const bool builtin = m.reference_csv.rfind(kBuiltinPrefix, 0) == 0;
    if (builtin && !BuiltinReferenceCsv(m.reference_csv)) {
      r.Error(ref, rp, "unknown builtin reference (builtin:churn-demo exists)");
    }
    if (!builtin && !m.reference_csv.empty() && !base_dir.empty() &&
        std::filesystem::path(m.reference_csv).is_relative()) {
      m.reference_csv =
          (std::filesystem::path(base_dir) / m.reference_csv).string();
    }
  }
  if (YAML::Node w = n["window"]; w.IsDefined() && !w.IsNull()) {
    ReadWindow(r, w, path + ".window", m.window);
  }
}

}  // namespace

std::optional<Config> ParseConfigWithBase(std::string_view yaml,
                                          std::string_view source,
                                          const std::string& base_dir,
                                          std::vector<ConfigError>& errors) {
  const size_t errors_before = errors.size();
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    errors.push_back({std::string(source), e.mark.line + 1, "", e.msg});
    return std::nullopt;
  }
  Config config;
  Reader r(source, errors);
  if (root.IsNull()) return config;  // an empty file means all defaults
  if (!r.ExpectMap(root, "")) return std::nullopt;
  r.CheckKeys(root, "", {"server", "limits", "review", "models"});
  if (YAML::Node rv = root["review"]; rv.IsDefined() && !rv.IsNull()) {
    ReadReview(r, rv, config.review);
  }
  if (YAML::Node s = root["server"]; s.IsDefined() && !s.IsNull()) {
    ReadServer(r, s, config.server);
  }
  if (YAML::Node l = root["limits"]; l.IsDefined() && !l.IsNull()) {
    ReadLimits(r, l, config.limits);
  }
  if (YAML::Node ms = root["models"]; ms.IsDefined() && !ms.IsNull()) {
    if (!ms.IsSequence()) {
      r.Error(ms, "models", "must be a list");
    } else {
      std::set<std::string> names;
      for (size_t i = 0; i < ms.size(); ++i) {
        ModelConfig m;
        const std::string mp = Reader::Index("models", i);
        ReadModel(r, ms[i], mp, config.limits, base_dir, m);
        if (!m.name.empty() && !names.insert(m.name).second) {
          r.Error(ms[i]["name"], mp + ".name",
                  absl::StrCat("duplicate model \"", m.name, "\""));
        }
        config.models.push_back(std::move(m));
      }
      if (static_cast<int>(config.models.size()) > config.limits.max_models) {
        r.Error(ms, "models",
                absl::StrCat("more than limits.max_models (",
                             config.limits.max_models, ")"));
      }
    }
  }
  if (errors.size() != errors_before) {
    // Report in file order, whatever order the checks ran in.
    std::stable_sort(errors.begin() + errors_before, errors.end(),
                     [](const ConfigError& a, const ConfigError& b) {
                       return a.line < b.line;
                     });
    return std::nullopt;
  }
  return config;
}

std::optional<Config> ParseConfig(std::string_view yaml,
                                  std::string_view source,
                                  std::vector<ConfigError>& errors) {
  return ParseConfigWithBase(yaml, source, "", errors);
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read config ", path));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  std::vector<ConfigError> errors;
  const std::string base = std::filesystem::path(path).parent_path().string();
  std::optional<Config> c = ParseConfigWithBase(buf.str(), path, base, errors);
  if (!c) {
    std::vector<std::string> lines;
    for (const ConfigError& e : errors) lines.push_back(e.ToString());
    return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
  }
  return *std::move(c);
}

std::string_view DefaultConfigYaml() { return kDefaultConfigYaml; }

std::optional<std::string_view> BuiltinReferenceCsv(std::string_view name) {
  if (name == "builtin:churn-demo") return kDemoReferenceCsv;
  return std::nullopt;
}

absl::StatusOr<Config> LoadDefaultConfig() {
  std::vector<ConfigError> errors;
  std::optional<Config> c =
      ParseConfig(kDefaultConfigYaml, "<embedded>", errors);
  if (!c) {
    return absl::InternalError(
        absl::StrCat("embedded config invalid: ", errors.front().ToString()));
  }
  return *std::move(c);
}

}  // namespace aiq::config
