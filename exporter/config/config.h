// The exporter's configuration: models (features, classes, prices, budgets),
// the HTTP server, and the limits that bound memory and label cardinality.
// Loaded from YAML by config_loader.h; every field has a documented default
// (docs/configuration.md).
//
// Example, given `const std::string& path`:
//   #include "exporter/config/config_loader.h"
//   absl::StatusOr<aiq::config::Config> c = aiq::config::LoadConfigFile(path);
//   for (const aiq::config::ModelConfig& m : c->models) { /* ... */ }
#ifndef AIQ_EXPORTER_CONFIG_CONFIG_H_
#define AIQ_EXPORTER_CONFIG_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "exporter/stats/drift_policy.h"
#include "exporter/stats/feature_kind.h"
#include "exporter/util/enum_names.h"

namespace aiq::config {

enum class Task { kClassification, kRegression, kGeneration };

// The `task` values of a model (also the `task` field of the API).
inline constexpr auto kTaskNames = util::MakeEnumNames<Task>({
    {Task::kClassification, "classification"},
    {Task::kRegression, "regression"},
    {Task::kGeneration, "generation"},
});
inline const char* TaskName(Task task) { return kTaskNames.Name(task); }

// The version that feedback without a matching prediction is counted
// under; reserved, so no declared version may use it.
inline constexpr char kUnknownVersion[] = "unknown";

struct FeatureConfig {
  std::string name;
  stats::FeatureKind type = stats::FeatureKind::kNumeric;
  // Per-feature override of the default drift test and its threshold.
  std::optional<stats::DriftTest> drift_test;
  std::optional<double> drift_threshold;
  // `drift_threshold: auto` (here or, for features without their own
  // threshold, on the model): calibrated from the reference when it is
  // loaded (stats/drift_calibration.h). Never set with drift_threshold.
  bool drift_threshold_auto = false;
};

// A slicing attribute (e.g. "region") and the values reported for it; other
// values are reported as "other" so cardinality stays bounded.
struct SegmentConfig {
  std::string attribute;
  std::vector<std::string> values;
};

struct BudgetConfig {
  std::optional<double> cost_per_day;    // in the configured currency
  std::optional<double> tokens_per_day;  // prompt + completion
};

// Sliding window over which quality and drift are computed.
struct WindowConfig {
  absl::Duration duration = absl::Hours(1);
  int buckets = 12;                   // the window slides one bucket at a time
  int64_t min_samples = 100;          // below this a statistic is absent
  int64_t max_exact_samples = 10000;  // exact KS/Wasserstein up to this
  // Events are windowed by their own timestamp; one more than this behind
  // the model's clock (or whose bucket has left the window) is late:
  // counted, but not windowed. At most `duration`; the loader sets it to
  // `duration` when the config leaves it out.
  absl::Duration max_lateness = absl::Hours(1);
};

// One evaluator of a model's calls (an LLM judge, a human review queue,
// a heuristic): the buckets of its aiq_evaluation_score histogram.
struct EvaluatorConfig {
  std::string name;
  std::vector<double> buckets = DefaultEvaluationBuckets();
  static std::vector<double> DefaultEvaluationBuckets() {
    return {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  }
};

// How OTLP GenAI telemetry finds this model (docs/otlp.md).
struct OtlpMappingConfig {
  // Spans, log records and data points whose resource has this
  // `service.name` belong to the model; "" = the model's name.
  std::string service_name;
  // The attribute that names the version; "" = always the default version.
  std::string version_attribute = "gen_ai.request.model";
};

struct ModelConfig {
  std::string name;
  Task task = Task::kClassification;
  // Declared versions; empty = versions are auto-registered from traffic up
  // to limits.max_versions_per_model.
  std::vector<std::string> versions;
  std::string default_version = "default";
  std::vector<std::string> classes;  // classification only
  // The class counted as "positive" for fairness rates (positive rate,
  // TPR). Default: the second class when exactly two are declared.
  std::string positive_class;
  // Predictions with confidence below this count as low-confidence
  // (aiq_low_confidence_ratio, review sampling).
  double low_confidence_threshold = 0.5;
  std::vector<FeatureConfig> features;
  std::vector<SegmentConfig> segments;
  // Declared safety categories; empty = the first
  // limits.max_safety_categories seen, then "other".
  std::vector<std::string> safety_categories;
  double cost_per_1k_prompt_tokens = 0;
  double cost_per_1k_completion_tokens = 0;
  BudgetConfig budget;
  absl::Duration label_ttl = absl::Hours(24);
  // Reference data for drift and baseline quality (streaming; optional).
  std::string reference_csv;
  std::string reference_target_column;
  std::string reference_prediction_column;
  // Column with the model's confidence for each reference row; used to
  // calibrate estimated accuracy (CBPE). Optional.
  std::string reference_confidence_column;
  WindowConfig window;
  // `drift_threshold: auto` on the model: its features without a threshold
  // of their own (the loader sets their drift_threshold_auto) and its
  // prediction drift are calibrated from the reference.
  bool drift_threshold_auto = false;
  // Values per calibration chunk for drift_threshold: auto; 0 = the
  // window's min_samples (at least stats::kMinCalibrationChunk). KS and
  // Wasserstein use at most window.max_exact_samples (docs/statistics.md).
  int64_t drift_calibration_chunk = 0;
  // Declared evaluators (their buckets); empty = learned from traffic up to
  // limits.max_evaluators, with the default buckets.
  std::vector<EvaluatorConfig> evaluators;
  OtlpMappingConfig otlp;
};

struct BasicAuthConfig {
  std::string username;
  std::string password;
};

struct ServerConfig {
  std::string listen = "0.0.0.0:9477";
  int threads = 8;
  // A connection is dropped when a request's headers (or a pause in its
  // body) take longer than this, and when it sits idle between requests
  // for longer than keep_alive_timeout. Waiting connections hold no
  // thread (the server is event-driven); `threads` handle ingest bodies.
  absl::Duration request_timeout = absl::Seconds(5);
  absl::Duration keep_alive_timeout = absl::Seconds(2);
  // Open connections beyond this are answered 503 and closed.
  int max_connections = 10000;
  // Bearer tokens accepted by the ingest API; empty = no authentication.
  std::vector<std::string> ingest_tokens;
  // Basic auth for /metrics; unset = open.
  std::optional<BasicAuthConfig> metrics_auth;
  std::vector<double> latency_buckets_seconds = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  // A second listener for OTLP/HTTP only (conventionally port 4318);
  // "" = none. The main listener serves /v1/* too.
  std::string otlp_listen;
};

struct LimitsConfig {
  int64_t max_body_bytes = 16 << 20;
  // Bytes of request bodies read, decoded and applied at once, all clients
  // together; beyond it ingest answers 429 without reading the body.
  int64_t max_inflight_bytes = 64 << 20;
  int64_t max_events_per_request = 100000;
  int max_models = 100;
  int max_versions_per_model = 10;
  int max_classes = 100;
  int max_categories_per_feature = 100;
  int max_error_reasons = 20;
  int max_safety_categories = 20;
  int max_evaluators = 20;         // per model, when none are declared
  int max_evaluation_labels = 20;  // per model; then "other"
  // Cumulative OTLP latency streams remembered per model (docs/otlp.md).
  int max_metric_streams = 1000;
  int64_t max_string_bytes = 256;
  int64_t max_join_entries = 100000;  // per model
};

// Predictions copied to a JSONL file for human review.
struct ReviewConfig {
  std::string path;               // "" = review sampling off
  double sample_fraction = 0.01;  // random share of all predictions
  double low_feedback_score = 2;  // feedback at or below this is sampled
  int64_t max_bytes = 100 << 20;  // rotate when the file would exceed this
  int max_files = 5;              // rotated files kept (path.1 ... path.N)
};

// Durable state (docs/state.md): with `dir` set, every accepted request is
// logged and fsynced before it is acknowledged, and checkpoints of the
// in-memory state bound the replay at restart.
struct StateConfig {
  std::string dir;  // "" = in-memory only (state is lost on restart)
  absl::Duration checkpoint_interval = absl::Seconds(60);
  // How long a request's Idempotency-Key and its answer are remembered.
  absl::Duration idempotency_ttl = absl::Hours(24);
  // Ingest answers 503 while the state dir's file system has less free
  // space than this, before anything is applied.
  int64_t min_free_bytes = 64 << 20;
  // How often time advances in the log without traffic (windows age and
  // join entries expire on that beat).
  absl::Duration tick_interval = absl::Seconds(1);
  // RAM the join tables on disk may use (RocksDB memtables and block
  // cache, all models together); see docs/state.md, "Bounds".
  int64_t join_memory_bytes = int64_t{256} << 20;
};

struct Config {
  ServerConfig server;
  LimitsConfig limits;
  ReviewConfig review;
  StateConfig state;
  std::vector<ModelConfig> models;

  // nullptr when no model has that name.
  const ModelConfig* FindModel(std::string_view name) const;
};

}  // namespace aiq::config

#endif  // AIQ_EXPORTER_CONFIG_CONFIG_H_
