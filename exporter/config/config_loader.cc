#include "exporter/config/config_loader.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "exporter/config/default_config.h"
#include "exporter/config/feature_list.h"
#include "exporter/config/yaml_reader.h"
#include "exporter/stats/drift_calibration.h"

namespace aiq::config {

const ModelConfig* Config::FindModel(std::string_view name) const {
  for (const ModelConfig& m : models) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

bool IsLabelSafe(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\' ||
        c == '/') {
      return false;
    }
  }
  return true;
}

namespace {

// Lines of a secrets file: blank lines and '#' comments skipped, trailing
// spaces and CR removed.
void ReadTokensFile(YamlSection& s, std::string_view key,
                    std::vector<std::string>& tokens) {
  std::string file;
  s.String(key, file);
  if (file.empty()) return;
  std::ifstream in(file);
  if (!in) {
    s.Error(key, absl::StrCat("cannot read ", file));
    return;
  }
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.pop_back();
    }
    if (!line.empty() && line[0] != '#') tokens.push_back(line);
  }
}

void ReadMetricsAuth(YamlReader& r, const YAML::Node& a, const std::string& ap,
                     std::optional<BasicAuthConfig>& out) {
  if (!r.ExpectMap(a, ap)) return;
  YamlSection s(r, a, ap);
  BasicAuthConfig auth;
  s.String("username", auth.username);
  s.String("password", auth.password);
  std::string pw_file;
  s.String("password_file", pw_file);
  if (!pw_file.empty()) {
    std::ifstream in(pw_file);
    if (!in || !std::getline(in, auth.password)) {
      s.Error("password_file", absl::StrCat("cannot read ", pw_file));
    }
    // Files written on Windows end lines with CR LF.
    while (!auth.password.empty() && auth.password.back() == '\r') {
      auth.password.pop_back();
    }
  }
  if (auth.username.empty() || auth.password.empty()) {
    r.Error(a, ap, "needs username and password (or password_file)");
  }
  out = auth;
}

// A histogram's upper bounds: a non-empty, strictly increasing list of
// finite numbers (positive ones for durations).
void ReadBuckets(YamlReader& r, const YAML::Node& b, const std::string& bp,
                 bool positive, std::vector<double>& out) {
  std::vector<double> buckets;
  if (!b.IsSequence() || b.size() == 0) {
    r.Error(b, bp, "must be a non-empty list of numbers");
    return;
  }
  for (size_t i = 0; i < b.size(); ++i) {
    double v = 0;
    if (!b[i].IsScalar() || !absl::SimpleAtod(b[i].Scalar(), &v) ||
        !std::isfinite(v) || (positive && v <= 0)) {
      r.Error(b[i], YamlReader::Index(bp, i),
              positive ? "must be a positive number" : "must be a number");
    } else if (!buckets.empty() && v <= buckets.back()) {
      r.Error(b[i], YamlReader::Index(bp, i), "buckets must increase");
    } else {
      buckets.push_back(v);
    }
  }
  out = buckets;
}

void ReadEvaluators(YamlReader& r, const YAML::Node& n, const std::string& np,
                    const LimitsConfig& limits,
                    std::vector<EvaluatorConfig>& out) {
  if (!n.IsSequence()) {
    r.Error(n, np, "must be a list of {name, buckets}");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string ep = YamlReader::Index(np, i);
    if (!r.ExpectMap(n[i], ep)) continue;
    YamlSection s(r, n[i], ep);
    EvaluatorConfig e;
    s.String("name", e.name);
    if (!IsLabelSafe(e.name)) {
      s.Error("name",
              "required: 1-128 printable characters without '\"', '\\' or "
              "'/'");
    } else if (!names.insert(e.name).second) {
      s.Error("name", absl::StrCat("duplicate evaluator \"", e.name, "\""));
    }
    if (YAML::Node b = s.Get("buckets"); b.IsDefined()) {
      ReadBuckets(r, b, s.PathOf("buckets"), /*positive=*/false, e.buckets);
    }
    out.push_back(std::move(e));
  }
  if (static_cast<int>(out.size()) > limits.max_evaluators) {
    r.Error(n, np,
            absl::StrCat("more than limits.max_evaluators (",
                         limits.max_evaluators, ")"));
  }
}

void ReadServer(YamlReader& r, const YAML::Node& n, ServerConfig& c) {
  if (!r.ExpectMap(n, "server")) return;
  YamlSection s(r, n, "server");
  s.String("listen", c.listen);
  if (c.listen.rfind(':') == std::string::npos) {
    s.Error("listen", "must be HOST:PORT");
  }
  s.Integer("threads", c.threads, 1, 256);
  s.Duration("request_timeout", c.request_timeout);
  s.Duration("keep_alive_timeout", c.keep_alive_timeout);
  s.Integer("max_connections", c.max_connections, 16, 1000000);
  s.StringList("ingest_tokens", c.ingest_tokens);
  ReadTokensFile(s, "ingest_tokens_file", c.ingest_tokens);
  if (std::optional<YAML::Node> a = s.Present("metrics_auth")) {
    ReadMetricsAuth(r, *a, s.PathOf("metrics_auth"), c.metrics_auth);
  }
  if (YAML::Node b = s.Get("latency_buckets_seconds"); b.IsDefined()) {
    ReadBuckets(r, b, s.PathOf("latency_buckets_seconds"),
                /*positive=*/true, c.latency_buckets_seconds);
  }
  s.String("otlp_listen", c.otlp_listen);
  if (!c.otlp_listen.empty() && c.otlp_listen.rfind(':') == std::string::npos) {
    s.Error("otlp_listen", "must be HOST:PORT");
  }
}

void ReadLimits(YamlReader& r, const YAML::Node& n, LimitsConfig& l) {
  if (!r.ExpectMap(n, "limits")) return;
  YamlSection s(r, n, "limits");
  s.Integer("max_body_bytes", l.max_body_bytes, 1024, int64_t{1} << 31);
  s.Integer("max_inflight_bytes", l.max_inflight_bytes, 1024, int64_t{1} << 40);
  if (!n["max_inflight_bytes"]) {
    l.max_inflight_bytes = std::max(l.max_inflight_bytes, l.max_body_bytes);
  } else if (l.max_inflight_bytes < l.max_body_bytes) {
    s.Error("max_inflight_bytes",
            absl::StrCat("must be at least max_body_bytes (", l.max_body_bytes,
                         "), or the largest body could never be read"));
  }
  s.Integer("max_events_per_request", l.max_events_per_request, 1, 10'000'000);
  s.Integer("max_models", l.max_models, 1, 10000);
  s.Integer("max_versions_per_model", l.max_versions_per_model, 1, 1000);
  s.Integer("max_classes", l.max_classes, 2, 10000);
  s.Integer("max_categories_per_feature", l.max_categories_per_feature, 1,
            100000);
  s.Integer("max_error_reasons", l.max_error_reasons, 1, 1000);
  s.Integer("max_safety_categories", l.max_safety_categories, 1, 1000);
  s.Integer("max_evaluators", l.max_evaluators, 1, 1000);
  s.Integer("max_evaluation_labels", l.max_evaluation_labels, 1, 1000);
  s.Integer("max_metric_streams", l.max_metric_streams, 1, 100000);
  s.Integer("max_string_bytes", l.max_string_bytes, 16, 1 << 20);
  s.Integer("max_join_entries", l.max_join_entries, 0, 100'000'000);
}

void ReadReview(YamlReader& r, const YAML::Node& n, ReviewConfig& c) {
  if (!r.ExpectMap(n, "review")) return;
  YamlSection s(r, n, "review");
  s.String("path", c.path);
  s.Double("sample_fraction", c.sample_fraction, 0, 1);
  s.Double("low_feedback_score", c.low_feedback_score, 1, 5);
  s.Integer("max_bytes", c.max_bytes, 4096, int64_t{1} << 40);
  s.Integer("max_files", c.max_files, 1, 1000);
}

void ReadState(YamlReader& r, const YAML::Node& n, StateConfig& c) {
  if (!r.ExpectMap(n, "state")) return;
  YamlSection s(r, n, "state");
  s.String("dir", c.dir);
  s.Duration("checkpoint_interval", c.checkpoint_interval);
  s.Duration("idempotency_ttl", c.idempotency_ttl);
  s.Integer("min_free_bytes", c.min_free_bytes, 0, int64_t{1} << 50);
  s.Duration("tick_interval", c.tick_interval);
  s.Integer("join_memory_bytes", c.join_memory_bytes, int64_t{16} << 20,
            int64_t{1} << 40);
}

void ReadWindow(YamlReader& r, const YAML::Node& n, const std::string& path,
                WindowConfig& w) {
  if (!r.ExpectMap(n, path)) return;
  YamlSection s(r, n, path);
  s.Duration("duration", w.duration);
  s.Integer("buckets", w.buckets, 1, 1440);
  s.Integer("min_samples", w.min_samples, 1, 100'000'000);
  s.Integer("max_exact_samples", w.max_exact_samples, 10, 10'000'000);
  if (s.Present("max_lateness")) {
    s.Duration("max_lateness", w.max_lateness);
    if (w.max_lateness > w.duration) {
      s.Error("max_lateness",
              absl::StrCat("must be at most window.duration (",
                           absl::FormatDuration(w.duration),
                           "): an event further behind has left the window"));
    }
  } else {
    w.max_lateness = w.duration;
  }
}

void ReadFeature(YamlReader& r, const YAML::Node& n, const std::string& path,
                 FeatureConfig& f) {
  if (n.IsScalar()) {  // shorthand: "- age" means a numeric feature
    f.name = n.Scalar();
    return;
  }
  if (!r.ExpectMap(n, path)) return;
  YamlSection s(r, n, path);
  s.String("name", f.name);
  s.Enum("type", stats::kFeatureKindNames, f.type);
  s.OptionalEnum("drift_test", stats::kDriftTestNames, f.drift_test);
  ReadDriftThreshold(s, "drift_threshold", f.drift_threshold,
                     f.drift_threshold_auto);
}

}  // namespace

void ReadDriftThreshold(YamlSection& s, std::string_view key,
                        std::optional<double>& value, bool& is_auto) {
  std::optional<YAML::Node> n = s.Present(key);
  if (!n) return;
  if (n->IsScalar() && n->Scalar() == kAutoThreshold) {
    is_auto = true;
    return;
  }
  double v = 0;
  if (!n->IsScalar() || !absl::SimpleAtod(n->Scalar(), &v)) {
    s.reader().Error(
        *n, s.PathOf(key),
        absl::StrCat("must be a number (0 - 1e9) or ", kAutoThreshold));
    return;
  }
  s.OptionalDouble(key, value, 0, 1e9);
}

void ReadFeatureList(YamlReader& r, const YAML::Node& list,
                     const std::string& path, std::vector<FeatureConfig>& out) {
  if (!list.IsSequence()) {
    r.Error(list, path, "must be a list");
    return;
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    FeatureConfig fc;
    const std::string ip = YamlReader::Index(path, i);
    ReadFeature(r, list[i], ip, fc);
    if (!IsLabelSafe(fc.name)) {
      r.Error(list[i], ip + ".name", "required: 1-128 printable characters");
    } else if (!seen.insert(fc.name).second) {
      r.Error(list[i], ip + ".name",
              absl::StrCat("duplicate feature \"", fc.name, "\""));
    }
    out.push_back(std::move(fc));
  }
}

namespace {

void ReadSegments(YamlReader& r, const YAML::Node& n, const std::string& sp,
                  std::vector<SegmentConfig>& out) {
  if (!n.IsSequence()) {
    r.Error(n, sp, "must be a list of {attribute, values}");
    return;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    const std::string ip = YamlReader::Index(sp, i);
    if (!r.ExpectMap(n[i], ip)) continue;
    YamlSection s(r, n[i], ip);
    SegmentConfig sc;
    s.String("attribute", sc.attribute);
    s.StringList("values", sc.values);
    if (!IsLabelSafe(sc.attribute))
      r.Error(n[i], ip + ".attribute", "required");
    if (sc.values.empty()) {
      r.Error(n[i], ip + ".values", "needs at least one value");
    }
    out.push_back(std::move(sc));
  }
}

void ReadReference(YamlReader& r, const YAML::Node& ref, const std::string& rp,
                   const std::string& base_dir, ModelConfig& m) {
  if (ref.IsScalar()) {
    m.reference_csv = ref.Scalar();
  } else if (r.ExpectMap(ref, rp)) {
    YamlSection s(r, ref, rp);
    s.String("csv", m.reference_csv);
    s.String("target", m.reference_target_column);
    s.String("prediction", m.reference_prediction_column);
    s.String("confidence", m.reference_confidence_column);
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

void ReadModel(YamlReader& r, const YAML::Node& n, const std::string& path,
               const LimitsConfig& limits, const std::string& base_dir,
               ModelConfig& m) {
  if (!r.ExpectMap(n, path)) return;
  YamlSection s(r, n, path);
  s.String("name", m.name);
  if (!IsLabelSafe(m.name)) {
    s.Error("name",
            "required: 1-128 printable characters without '\"', '\\' or '/'");
  }
  s.Enum("task", kTaskNames, m.task);
  s.StringList("versions", m.versions);
  if (std::find(m.versions.begin(), m.versions.end(), kUnknownVersion) !=
      m.versions.end()) {
    s.Error("versions",
            absl::StrCat("\"", kUnknownVersion,
                         "\" is reserved (feedback for unmatched ids)"));
  }
  if (static_cast<int>(m.versions.size()) > limits.max_versions_per_model) {
    s.Error("versions",
            absl::StrCat("more than limits.max_versions_per_model (",
                         limits.max_versions_per_model, ")"));
  }
  if (!m.versions.empty()) m.default_version = m.versions.front();
  s.String("default_version", m.default_version);
  if (!m.versions.empty() && std::find(m.versions.begin(), m.versions.end(),
                                       m.default_version) == m.versions.end()) {
    s.Error("default_version", "must be one of the declared versions");
  }
  s.StringList("classes", m.classes);
  if (static_cast<int>(m.classes.size()) > limits.max_classes) {
    s.Error("classes", absl::StrCat("more than limits.max_classes (",
                                    limits.max_classes, ")"));
  }
  const bool classes_given = s.Get("classes").IsDefined();
  if (m.task == Task::kClassification && m.classes.size() < 2 &&
      classes_given) {
    s.Error("classes", "needs at least two classes");
  }
  if (m.classes.size() == 2) m.positive_class = m.classes[1];
  s.String("positive_class", m.positive_class);
  if (!m.positive_class.empty() && !m.classes.empty() &&
      std::find(m.classes.begin(), m.classes.end(), m.positive_class) ==
          m.classes.end()) {
    s.Error("positive_class", "must be one of the declared classes");
  }
  s.Double("low_confidence_threshold", m.low_confidence_threshold, 0, 1);
  if (m.task != Task::kClassification && !m.classes.empty()) {
    s.Error("classes", "only classification models have classes");
  }
  if (std::optional<YAML::Node> f = s.Present("features")) {
    ReadFeatureList(r, *f, s.PathOf("features"), m.features);
  }
  // Only `auto` model-wide: a number means a p-value for some tests and a
  // distance for others, so it belongs to each feature.
  if (std::optional<YAML::Node> t = s.Present("drift_threshold")) {
    if (t->IsScalar() && t->Scalar() == kAutoThreshold) {
      m.drift_threshold_auto = true;
      for (FeatureConfig& fc : m.features) {
        if (!fc.drift_threshold) fc.drift_threshold_auto = true;
      }
    } else {
      s.Error("drift_threshold",
              absl::StrCat("must be ", kAutoThreshold,
                           " (a number is set per feature: its meaning "
                           "depends on the feature's drift test)"));
    }
  }
  s.Integer("drift_calibration_chunk", m.drift_calibration_chunk,
            stats::kMinCalibrationChunk, 1'000'000);
  if (std::optional<YAML::Node> sg = s.Present("segments")) {
    ReadSegments(r, *sg, s.PathOf("segments"), m.segments);
  }
  s.StringList("safety_categories", m.safety_categories);
  s.Double("cost_per_1k_prompt_tokens", m.cost_per_1k_prompt_tokens, 0, 1e9);
  s.Double("cost_per_1k_completion_tokens", m.cost_per_1k_completion_tokens, 0,
           1e9);
  if (std::optional<YAML::Node> b = s.Present("budget")) {
    const std::string bp = s.PathOf("budget");
    if (r.ExpectMap(*b, bp)) {
      YamlSection bs(r, *b, bp);
      bs.OptionalDouble("cost_per_day", m.budget.cost_per_day, 0, 1e15);
      bs.OptionalDouble("tokens_per_day", m.budget.tokens_per_day, 0, 1e18);
    }
  }
  s.Duration("label_ttl", m.label_ttl);
  if (std::optional<YAML::Node> ref = s.Present("reference")) {
    ReadReference(r, *ref, s.PathOf("reference"), base_dir, m);
  }
  if (std::optional<YAML::Node> w = s.Present("window")) {
    ReadWindow(r, *w, s.PathOf("window"), m.window);
  }
  if (std::optional<YAML::Node> e = s.Present("evaluators")) {
    ReadEvaluators(r, *e, s.PathOf("evaluators"), limits, m.evaluators);
  }
  if (std::optional<YAML::Node> o = s.Present("otlp")) {
    const std::string op = s.PathOf("otlp");
    if (r.ExpectMap(*o, op)) {
      YamlSection os(r, *o, op);
      os.String("service_name", m.otlp.service_name);
      os.String("version_attribute", m.otlp.version_attribute);
    }
  }
  if (m.otlp.service_name.empty()) m.otlp.service_name = m.name;
}

std::optional<Config> ParseWithBase(std::string_view yaml,
                                    std::string_view source,
                                    const std::string& base_dir,
                                    std::vector<ConfigError>& errors) {
  YamlReader r(source, errors);
  std::optional<YAML::Node> root = r.Load(yaml);
  if (!root) return std::nullopt;
  Config config;
  if (root->IsNull()) return config;  // an empty file means all defaults
  if (!r.ExpectMap(*root, "")) return std::nullopt;
  {
    YamlSection s(r, *root, "");
    // Limits first: the models' checks use them.
    if (std::optional<YAML::Node> l = s.Present("limits")) {
      ReadLimits(r, *l, config.limits);
    }
    if (std::optional<YAML::Node> sv = s.Present("server")) {
      ReadServer(r, *sv, config.server);
    }
    if (std::optional<YAML::Node> rv = s.Present("review")) {
      ReadReview(r, *rv, config.review);
    }
    if (std::optional<YAML::Node> st = s.Present("state")) {
      ReadState(r, *st, config.state);
    }
    if (std::optional<YAML::Node> ms = s.Present("models")) {
      if (!ms->IsSequence()) {
        r.Error(*ms, "models", "must be a list");
      } else {
        std::set<std::string> names, services;
        for (size_t i = 0; i < ms->size(); ++i) {
          ModelConfig m;
          const std::string mp = YamlReader::Index("models", i);
          ReadModel(r, (*ms)[i], mp, config.limits, base_dir, m);
          if (!m.name.empty() && !names.insert(m.name).second) {
            r.Error((*ms)[i]["name"], mp + ".name",
                    absl::StrCat("duplicate model \"", m.name, "\""));
          } else if (!m.otlp.service_name.empty() &&
                     !services.insert(m.otlp.service_name).second) {
            // OTLP telemetry finds its model by service name: one each.
            r.Error((*ms)[i], mp + ".otlp.service_name",
                    absl::StrCat("service name \"", m.otlp.service_name,
                                 "\" already belongs to another model"));
          }
          config.models.push_back(std::move(m));
        }
        if (static_cast<int>(config.models.size()) > config.limits.max_models) {
          r.Error(*ms, "models",
                  absl::StrCat("more than limits.max_models (",
                               config.limits.max_models, ")"));
        }
      }
    }
  }
  if (r.error_count() > 0) {
    r.SortErrorsByLine();
    return std::nullopt;
  }
  return config;
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace

std::optional<Config> ParseConfig(std::string_view yaml,
                                  std::string_view source,
                                  std::vector<ConfigError>& errors) {
  return ParseWithBase(yaml, source, "", errors);
}

std::optional<Config> ParseConfigText(std::string_view yaml,
                                      const std::string& config_path,
                                      std::vector<ConfigError>& errors) {
  // Relative reference paths resolve against the config file's directory.
  const std::string base =
      std::filesystem::path(config_path).parent_path().string();
  return ParseWithBase(yaml, config_path, base, errors);
}

std::optional<Config> ParseConfigFile(const std::string& path,
                                      std::vector<ConfigError>& errors) {
  std::optional<std::string> text = ReadWholeFile(path);
  if (!text) {
    errors.push_back({path, 0, "", "cannot read file"});
    return std::nullopt;
  }
  return ParseConfigText(*text, path, errors);
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::optional<std::string> text = ReadWholeFile(path);
  if (!text) {
    return absl::NotFoundError(absl::StrCat("cannot read config ", path));
  }
  std::vector<ConfigError> errors;
  std::optional<Config> c = ParseConfigText(*text, path, errors);
  if (!c) return JoinErrors(errors);
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
