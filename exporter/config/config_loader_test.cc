#include "exporter/config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace aiq::config {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> Errors(std::string_view yaml) {
  std::vector<ConfigError> errors;
  std::optional<Config> c = ParseConfig(yaml, "t.yaml", errors);
  EXPECT_EQ(c.has_value(), errors.empty());
  std::vector<std::string> out;
  for (const ConfigError& e : errors) out.push_back(e.ToString());
  return out;
}

TEST(ConfigLoaderTest, EmbeddedDefaultIsValid) {
  absl::StatusOr<Config> c = LoadDefaultConfig();
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->models.size(), 2u);
  EXPECT_EQ(c->models[0].name, "churn-classifier");
  EXPECT_EQ(c->models[0].classes, (std::vector<std::string>{"churn", "stay"}));
  EXPECT_EQ(c->models[0].default_version, "v1");
  EXPECT_EQ(c->models[1].task, Task::kGeneration);
  EXPECT_EQ(c->models[1].budget.cost_per_day, 50.0);
  EXPECT_EQ(c->models[1].label_ttl, absl::Hours(24 * 7));
  EXPECT_EQ(c->server.listen, "0.0.0.0:9477");
}

TEST(ConfigLoaderTest, EmptyDocumentMeansDefaults) {
  std::vector<ConfigError> errors;
  std::optional<Config> c = ParseConfig("", "t.yaml", errors);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->limits.max_body_bytes, 16 << 20);
  EXPECT_EQ(c->limits.max_inflight_bytes, 64 << 20);
  EXPECT_EQ(c->server.request_timeout, absl::Seconds(5));
  EXPECT_EQ(c->server.keep_alive_timeout, absl::Seconds(2));
  EXPECT_TRUE(c->models.empty());
}

TEST(ConfigLoaderTest, FullModel) {
  std::vector<ConfigError> errors;
  std::optional<Config> c = ParseConfig(R"(
server:
  listen: 127.0.0.1:1234
  request_timeout: 10s
  keep_alive_timeout: 1m
  ingest_tokens: [a, b]
  metrics_auth: {username: prom, password: secret}
  latency_buckets_seconds: [0.1, 1]
limits: {max_body_bytes: 2048, max_models: 3}
models:
  - name: m
    task: regression
    features: [x, {name: c, type: categorical, drift_test: psi, drift_threshold: 0.2}]
    window: {duration: 30m, buckets: 6, min_samples: 10}
    reference: {csv: ref.csv, target: y}
)",
                                        "t.yaml", errors);
  ASSERT_TRUE(c.has_value()) << errors.front().ToString();
  EXPECT_EQ(c->server.ingest_tokens.size(), 2u);
  EXPECT_EQ(c->server.request_timeout, absl::Seconds(10));
  EXPECT_EQ(c->server.keep_alive_timeout, absl::Minutes(1));
  ASSERT_TRUE(c->server.metrics_auth.has_value());
  EXPECT_EQ(c->server.metrics_auth->username, "prom");
  EXPECT_EQ(c->server.latency_buckets_seconds, (std::vector<double>{0.1, 1}));
  const ModelConfig& m = c->models[0];
  EXPECT_EQ(m.task, Task::kRegression);
  ASSERT_EQ(m.features.size(), 2u);
  EXPECT_EQ(m.features[0].type, stats::FeatureKind::kNumeric);
  EXPECT_EQ(m.features[1].type, stats::FeatureKind::kCategorical);
  EXPECT_EQ(m.features[1].drift_test, stats::DriftTest::kPsi);
  EXPECT_EQ(m.features[1].drift_threshold, 0.2);
  EXPECT_EQ(m.window.duration, absl::Minutes(30));
  EXPECT_EQ(m.window.buckets, 6);
  EXPECT_EQ(m.reference_csv, "ref.csv");
  EXPECT_EQ(m.reference_target_column, "y");
  EXPECT_EQ(m.default_version, "default");
}

TEST(ConfigLoaderTest, EvaluatorsAndOtlpMapping) {
  std::vector<ConfigError> errors;
  std::optional<Config> c = ParseConfig(R"(
server: {otlp_listen: "0.0.0.0:4318"}
limits: {max_evaluators: 3, max_evaluation_labels: 7}
models:
  - name: chat
    task: generation
    evaluators: [{name: relevance}, {name: rubric, buckets: [1, 2, 3, 4, 5]}]
    otlp: {service_name: chat-svc, version_attribute: gen_ai.response.model}
  - name: plain
    task: generation
)",
                                        "t.yaml", errors);
  ASSERT_TRUE(c.has_value()) << errors.front().ToString();
  EXPECT_EQ(c->server.otlp_listen, "0.0.0.0:4318");
  EXPECT_EQ(c->limits.max_evaluators, 3);
  EXPECT_EQ(c->limits.max_evaluation_labels, 7);
  const ModelConfig& m = c->models[0];
  ASSERT_EQ(m.evaluators.size(), 2u);
  EXPECT_EQ(m.evaluators[0].name, "relevance");
  EXPECT_EQ(m.evaluators[0].buckets,
            EvaluatorConfig::DefaultEvaluationBuckets());
  EXPECT_EQ(m.evaluators[1].buckets, (std::vector<double>{1, 2, 3, 4, 5}));
  EXPECT_EQ(m.otlp.service_name, "chat-svc");
  EXPECT_EQ(m.otlp.version_attribute, "gen_ai.response.model");
  // Defaults: the model's name, the requested model.
  EXPECT_EQ(c->models[1].otlp.service_name, "plain");
  EXPECT_EQ(c->models[1].otlp.version_attribute, "gen_ai.request.model");

  std::vector<std::string> e = Errors(R"(
server: {otlp_listen: nocolon}
limits: {max_evaluators: 1}
models:
  - name: a
    evaluators: [{name: x, buckets: [2, 1]}, {name: x}]
  - name: b
    otlp: {service_name: a}
)");
  ASSERT_EQ(e.size(), 5u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0], "t.yaml:2: server.otlp_listen: must be HOST:PORT");
  EXPECT_EQ(e[1],
            "t.yaml:6: models[0].evaluators[0].buckets[1]: buckets "
            "must increase");
  EXPECT_THAT(e[2], HasSubstr("models[0].evaluators[1].name: duplicate "
                              "evaluator \"x\""));
  EXPECT_THAT(e[3], HasSubstr("models[0].evaluators: more than "
                              "limits.max_evaluators (1)"));
  EXPECT_THAT(e[4], HasSubstr("models[1].otlp.service_name: service name "
                              "\"a\" already belongs to another model"));
}

TEST(ConfigLoaderTest, ReportsEveryErrorWithPathAndLine) {
  std::vector<std::string> e = Errors(R"(server:
  listen: nocolon
  treads: 4
models:
  - name: a
    task: clasification
    features:
      - {name: x, type: number}
  - name: a
    classes: [one]
    label_ttl: soon
)");
  ASSERT_EQ(e.size(), 7u) << ::testing::PrintToString(e);
  EXPECT_EQ(e[0], "t.yaml:2: server.listen: must be HOST:PORT");
  EXPECT_THAT(e[1], HasSubstr("t.yaml:3: server.treads: unknown key"));
  EXPECT_THAT(e[2], HasSubstr("t.yaml:6: models[0].task: must be one of"));
  EXPECT_THAT(e[3], HasSubstr("t.yaml:8: models[0].features[0].type"));
  EXPECT_EQ(e[4], "t.yaml:9: models[1].name: duplicate model \"a\"");
  EXPECT_THAT(e[5], HasSubstr("t.yaml:10: models[1].classes: needs at least"));
  EXPECT_THAT(e[6], HasSubstr("t.yaml:11: models[1].label_ttl: must be"));
}

TEST(ConfigLoaderTest, DuplicateModelAndSyntaxError) {
  std::vector<std::string> e = Errors("models:\n  - name: a\n  - name: a\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0], "t.yaml:3: models[1].name: duplicate model \"a\"");
  e = Errors("models: [\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_THAT(e[0], HasSubstr("t.yaml:"));
}

TEST(ConfigLoaderTest, LimitsAreEnforced) {
  std::vector<std::string> e =
      Errors("limits: {max_models: 1}\nmodels: [{name: a}, {name: b}]\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_THAT(e[0], HasSubstr("more than limits.max_models (1)"));
  e = Errors("limits: {max_body_bytes: -5}\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_THAT(e[0], HasSubstr("limits.max_body_bytes: must be between"));
  e = Errors(
      "limits: {max_body_bytes: 2097152, max_inflight_bytes: 1048576}\n"
      "models: [{name: a}]\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_THAT(e[0], HasSubstr("limits.max_inflight_bytes: must be at least "
                              "max_body_bytes (2097152)"));
}

TEST(ConfigLoaderTest, InflightBoundFollowsALargerBodyLimit) {
  std::vector<ConfigError> errors;
  std::optional<Config> c =
      ParseConfig("limits: {max_body_bytes: 134217728}\nmodels: [{name: a}]\n",
                  "t", errors);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->limits.max_inflight_bytes, 134217728);
}

TEST(ConfigLoaderTest, VersionsAndDefaultVersion) {
  std::vector<std::string> e =
      Errors("models: [{name: a, versions: [v1], default_version: v9}]\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_THAT(e[0], HasSubstr("default_version: must be one of the declared"));
}

TEST(ConfigLoaderTest, QualityAndReviewKeys) {
  std::vector<ConfigError> errors;
  std::optional<Config> c = ParseConfig(R"(
review: {path: /tmp/r.jsonl, sample_fraction: 0.1, max_files: 3}
models:
  - name: a
    classes: [no, yes]
    low_confidence_threshold: 0.7
    reference: {csv: /data/ref.csv, target: y, prediction: p, confidence: c}
  - name: b
    classes: [x, y, z]
    positive_class: z
)",
                                        "t.yaml", errors);
  ASSERT_TRUE(c.has_value()) << errors.front().ToString();
  EXPECT_EQ(c->review.path, "/tmp/r.jsonl");
  EXPECT_EQ(c->review.sample_fraction, 0.1);
  EXPECT_EQ(c->review.max_files, 3);
  EXPECT_EQ(c->review.max_bytes, 100 << 20);
  EXPECT_EQ(c->models[0].positive_class, "yes");  // second of two classes
  EXPECT_EQ(c->models[0].low_confidence_threshold, 0.7);
  EXPECT_EQ(c->models[0].reference_confidence_column, "c");
  EXPECT_EQ(c->models[1].positive_class, "z");
  std::vector<std::string> e =
      Errors("models: [{name: a, classes: [x, y], positive_class: q}]\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_THAT(e[0], HasSubstr("positive_class: must be one of the declared"));
}

TEST(ConfigLoaderTest, BuiltinReference) {
  absl::StatusOr<Config> c = LoadDefaultConfig();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->models[0].reference_csv, "builtin:churn-demo");
  std::optional<std::string_view> csv =
      BuiltinReferenceCsv("builtin:churn-demo");
  ASSERT_TRUE(csv.has_value());
  EXPECT_EQ(csv->substr(0, 30), "income,age,score,rooms,plan,ch");
  std::vector<std::string> e =
      Errors("models: [{name: a, reference: builtin:nope}]\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_THAT(e[0], HasSubstr("unknown builtin reference"));
}

TEST(ConfigLoaderTest, FeatureKindsAndDriftTestsAreParsedOnce) {
  std::vector<ConfigError> errors;
  std::optional<Config> c = ParseConfig(
      "models:\n"
      "  - name: a\n"
      "    features:\n"
      "      - {name: b, type: boolean}\n"
      "      - {name: c, drift_test: jensen_shannon, drift_threshold: 0.3}\n"
      "      - d\n",
      "t.yaml", errors);
  ASSERT_TRUE(c.has_value()) << errors.front().ToString();
  const std::vector<FeatureConfig>& f = c->models[0].features;
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].type, stats::FeatureKind::kBoolean);
  EXPECT_EQ(f[0].drift_test, std::nullopt);
  EXPECT_EQ(f[1].type, stats::FeatureKind::kNumeric);
  EXPECT_EQ(f[1].drift_test, stats::DriftTest::kJensenShannon);
  EXPECT_EQ(f[1].drift_threshold, 0.3);
  EXPECT_EQ(f[2].name, "d");
  EXPECT_EQ(f[2].type, stats::FeatureKind::kNumeric);

  std::vector<std::string> e = Errors(
      "models:\n"
      "  - name: a\n"
      "    features:\n"
      "      - {name: b, drift_test: anderson}\n"
      "      - {name: c, type: text}\n");
  EXPECT_EQ(e, (std::vector<std::string>{
                   "t.yaml:4: models[0].features[0].drift_test: must be one "
                   "of ks, z, chi_square, wasserstein, jensen_shannon, psi",
                   "t.yaml:5: models[0].features[1].type: must be one of "
                   "numeric, categorical, boolean"}));
}

TEST(ConfigLoaderTest, DriftThresholdAuto) {
  std::vector<ConfigError> errors;
  std::optional<Config> c = ParseConfig(
      "models:\n"
      "  - name: a\n"
      "    features:\n"
      "      - {name: b, drift_threshold: auto}\n"
      "      - {name: c, drift_threshold: 0.2}\n"
      "      - d\n"
      "  - name: m\n"
      "    drift_threshold: auto\n"
      "    drift_calibration_chunk: 500\n"
      "    features:\n"
      "      - {name: x, drift_test: ks, drift_threshold: 0.01}\n"
      "      - y\n",
      "t.yaml", errors);
  ASSERT_TRUE(c.has_value()) << errors.front().ToString();
  const ModelConfig& a = c->models[0];
  EXPECT_FALSE(a.drift_threshold_auto);
  EXPECT_EQ(a.drift_calibration_chunk, 0);  // = window.min_samples
  EXPECT_TRUE(a.features[0].drift_threshold_auto);
  EXPECT_EQ(a.features[0].drift_threshold, std::nullopt);
  EXPECT_FALSE(a.features[1].drift_threshold_auto);
  EXPECT_EQ(a.features[1].drift_threshold, 0.2);
  EXPECT_FALSE(a.features[2].drift_threshold_auto);
  // Model-wide auto: every feature without a number of its own.
  const ModelConfig& m = c->models[1];
  EXPECT_TRUE(m.drift_threshold_auto);
  EXPECT_EQ(m.drift_calibration_chunk, 500);
  EXPECT_FALSE(m.features[0].drift_threshold_auto);
  EXPECT_EQ(m.features[0].drift_threshold, 0.01);
  EXPECT_TRUE(m.features[1].drift_threshold_auto);

  std::vector<std::string> e = Errors(
      "models:\n"
      "  - name: a\n"
      "    features:\n"
      "      - {name: b, drift_threshold: Auto}\n"
      "      - {name: c, drift_threshold: adaptive}\n"
      "      - {name: d, drift_threshold: [auto]}\n"
      "      - {name: f, drift_threshold: -1}\n"
      "  - name: m\n"
      "    drift_threshold: 0.05\n"
      "    drift_calibration_chunk: 5\n");
  EXPECT_EQ(e, (std::vector<std::string>{
                   "t.yaml:4: models[0].features[0].drift_threshold: must be "
                   "a number (0 - 1e9) or auto",
                   "t.yaml:5: models[0].features[1].drift_threshold: must be "
                   "a number (0 - 1e9) or auto",
                   "t.yaml:6: models[0].features[2].drift_threshold: must be "
                   "a number (0 - 1e9) or auto",
                   "t.yaml:7: models[0].features[3].drift_threshold: must be "
                   "between 0 and 1e+09",
                   "t.yaml:9: models[1].drift_threshold: must be auto (a "
                   "number is set per feature: its meaning depends on the "
                   "feature's drift test)",
                   "t.yaml:10: models[1].drift_calibration_chunk: must be "
                   "between 10 and 1000000"}));
}

TEST(ConfigLoaderTest, UnknownKeysListTheSectionsKeys) {
  std::vector<std::string> e =
      Errors("review: {path: r.jsonl, sampel_fraction: 0.1}\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:1: review.sampel_fraction: unknown key (expected one of: "
            "path, sample_fraction, low_feedback_score, max_bytes, max_files)");
  e = Errors("modles: []\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:1: modles: unknown key (expected one of: limits, server, "
            "review, state, models)");
}

TEST(ConfigLoaderTest, StateSection) {
  std::vector<ConfigError> errors;
  std::optional<Config> c = ParseConfig(
      "state: {dir: /var/lib/aiq, checkpoint_interval: 5m, idempotency_ttl: "
      "2h, min_free_bytes: 1024, tick_interval: 2s}\n",
      "t.yaml", errors);
  ASSERT_TRUE(c.has_value()) << errors[0].ToString();
  EXPECT_EQ(c->state.dir, "/var/lib/aiq");
  EXPECT_EQ(c->state.checkpoint_interval, absl::Minutes(5));
  EXPECT_EQ(c->state.idempotency_ttl, absl::Hours(2));
  EXPECT_EQ(c->state.min_free_bytes, 1024);
  EXPECT_EQ(c->state.tick_interval, absl::Seconds(2));
  // Defaults: off.
  c = ParseConfig("{}\n", "t.yaml", errors);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->state.dir, "");
  EXPECT_EQ(c->state.checkpoint_interval, absl::Seconds(60));
  EXPECT_EQ(c->state.idempotency_ttl, absl::Hours(24));
  std::vector<std::string> e =
      Errors("state: {checkpoint_interval: 0s, dri: x}\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0],
            "t.yaml:1: state.checkpoint_interval: must be a positive duration "
            "such as 90s, 15m, 1h or 7d");
  EXPECT_EQ(e[1],
            "t.yaml:1: state.dri: unknown key (expected one of: dir, "
            "checkpoint_interval, idempotency_ttl, min_free_bytes, "
            "tick_interval, join_memory_bytes)");
}

TEST(ConfigLoaderTest, UnknownVersionIsReserved) {
  std::vector<std::string> e = Errors(absl::StrCat(
      "models: [{name: a, versions: [v1, ", kUnknownVersion, "]}]\n"));
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0],
            "t.yaml:1: models[0].versions: \"unknown\" is reserved (feedback "
            "for unmatched ids)");
}

TEST(ConfigLoaderTest, FileRelativeReferenceResolvesAgainstTheConfigsDir) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "aiq_config_loader_test_rel";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "aiq.yaml").string();
  std::ofstream(path) << "models:\n"
                         "  - {name: a, reference: ref/a.csv}\n"
                         "  - {name: b, reference: {csv: /abs/b.csv}}\n"
                         "  - {name: c, reference: builtin:churn-demo}\n";
  std::vector<ConfigError> errors;
  std::optional<Config> c = ParseConfigFile(path, errors);
  ASSERT_TRUE(c.has_value()) << errors.front().ToString();
  EXPECT_EQ(c->models[0].reference_csv, (dir / "ref/a.csv").string());
  EXPECT_EQ(c->models[1].reference_csv, "/abs/b.csv");
  EXPECT_EQ(c->models[2].reference_csv, "builtin:churn-demo");
  absl::StatusOr<Config> loaded = LoadConfigFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->models[0].reference_csv, c->models[0].reference_csv);

  errors.clear();
  EXPECT_FALSE(ParseConfigFile((dir / "none.yaml").string(), errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(),
            (dir / "none.yaml").string() + ": cannot read file");
  std::filesystem::remove_all(dir);
}

TEST(ConfigLoaderTest, MissingFileIsNotFound) {
  absl::StatusOr<Config> c = LoadConfigFile("/nonexistent/aiq.yaml");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace aiq::config
