// The metric catalogue: name, type, help text and label names of every
// metric family the exporter exposes on /metrics. Every family is built from
// its entry here (FamilyBuilder and SelfMetrics take a MetricDef), so a name
// or help text is written once. CatalogueTest checks the catalogue against
// docs/metrics.md; ScrapeCatalogueTest (exporter/app) checks a real scrape
// against the catalogue (every family, its help, type and label names).
// Names, types and labels are a contract (rules, alerts, dashboards).
//
// Example:
//   #include <iostream>
//   #include "exporter/metrics/family_builder.h"
//   FamilyBuilder f(aiq::metrics::kPredictionsTotal);
//   f.Counter({{"model", "m"}, {"version", "v1"}}, 42);
//   for (const aiq::metrics::MetricDef* d : aiq::metrics::kCatalogue) {
//     std::cout << d->name << " " << d->help << "\n";
//   }
#ifndef AIQ_EXPORTER_METRICS_CATALOGUE_H_
#define AIQ_EXPORTER_METRICS_CATALOGUE_H_

#include <prometheus/metric_type.h>

#include <string_view>
#include <vector>

namespace aiq::metrics {

struct MetricDef {
  std::string_view name;
  prometheus::MetricType type;
  std::string_view help;
  // The label names every sample carries (histograms add `le`), separated
  // by single spaces; "" for none.
  std::string_view labels;

  std::vector<std::string_view> LabelNames() const;
};

// "counter", "gauge", "histogram", ... as in the text format's # TYPE line.
std::string_view TypeName(prometheus::MetricType type);

using prometheus::MetricType;

// --- Exporter self-metrics (metrics/self_metrics.h) ------------------------
inline constexpr MetricDef kExporterBuildInfo{
    "aiq_exporter_build_info", MetricType::Gauge,
    "Build identity; the value is always 1.", "version revision"};
inline constexpr MetricDef kExporterModels{"aiq_exporter_models",
                                           MetricType::Gauge,
                                           "Models in the configuration.", ""};
inline constexpr MetricDef kExporterHttpRequestsTotal{
    "aiq_exporter_http_requests_total", MetricType::Counter,
    "HTTP requests served, by handler and code.", "handler code"};
inline constexpr MetricDef kExporterEventsReceivedTotal{
    "aiq_exporter_events_received_total", MetricType::Counter,
    "Events found in request bodies, by kind.", "kind"};
inline constexpr MetricDef kExporterEventsRejectedTotal{
    "aiq_exporter_events_rejected_total", MetricType::Counter,
    "Events rejected, by kind and reason.", "kind reason"};
inline constexpr MetricDef kExporterOtlpIgnoredTotal{
    "aiq_exporter_otlp_ignored_total", MetricType::Counter,
    "OTLP spans and log records that are not GenAI telemetry (no "
    "gen_ai.operation.name, not an evaluation), skipped.",
    "signal"};
inline constexpr MetricDef kExporterScrapeDurationSeconds{
    "aiq_exporter_scrape_duration_seconds", MetricType::Gauge,
    "Time the previous /metrics scrape took to collect and serialize.", ""};

// --- Process (metrics/process_metrics.h) -----------------------------------
inline constexpr MetricDef kProcessCpuSecondsTotal{
    "process_cpu_seconds_total", MetricType::Counter,
    "Total user and system CPU time.", ""};
inline constexpr MetricDef kProcessResidentMemoryBytes{
    "process_resident_memory_bytes", MetricType::Gauge, "Resident memory size.",
    ""};
inline constexpr MetricDef kProcessVirtualMemoryBytes{
    "process_virtual_memory_bytes", MetricType::Gauge, "Virtual memory size.",
    ""};
inline constexpr MetricDef kProcessStartTimeSeconds{
    "process_start_time_seconds", MetricType::Gauge,
    "Start time of the process since the Unix epoch.", ""};
inline constexpr MetricDef kProcessOpenFds{
    "process_open_fds", MetricType::Gauge, "Open file descriptors.", ""};
inline constexpr MetricDef kProcessMaxFds{
    "process_max_fds", MetricType::Gauge,
    "Maximum number of open file descriptors.", ""};

// --- Operational, per event (metrics/model_metrics.h) ----------------------
inline constexpr MetricDef kPredictionsTotal{
    "aiq_predictions_total", MetricType::Counter,
    "Prediction events accepted, including failed calls.", "model version"};
inline constexpr MetricDef kPredictionErrorsTotal{
    "aiq_prediction_errors_total", MetricType::Counter,
    "Accepted predictions whose call failed, by reason.",
    "model version reason"};
inline constexpr MetricDef kPredictionLatencySeconds{
    "aiq_prediction_latency_seconds", MetricType::Histogram,
    "Model call latency.", "model version"};
inline constexpr MetricDef kTokensTotal{"aiq_tokens_total", MetricType::Counter,
                                        "LLM tokens, by type.",
                                        "model version type"};
inline constexpr MetricDef kCostTotal{
    "aiq_cost_total", MetricType::Counter,
    "Cost of LLM tokens at the configured prices.", "model version"};
inline constexpr MetricDef kCostBudget{"aiq_cost_budget", MetricType::Gauge,
                                       "Configured cost budget per day.",
                                       "model"};
inline constexpr MetricDef kTokenBudget{"aiq_token_budget", MetricType::Gauge,
                                        "Configured token budget per day.",
                                        "model"};
inline constexpr MetricDef kTimeToFirstTokenSeconds{
    "aiq_time_to_first_token_seconds", MetricType::Histogram,
    "Time to the first output token of streaming LLM calls.", "model version"};
inline constexpr MetricDef kTimePerOutputTokenSeconds{
    "aiq_time_per_output_token_seconds", MetricType::Histogram,
    "Time per output token after the first, of streaming LLM calls.",
    "model version"};
inline constexpr MetricDef kEvaluationScore{
    "aiq_evaluation_score", MetricType::Histogram,
    "Evaluation scores of model calls (LLM judges, human review, "
    "heuristics), by evaluator.",
    "model version evaluator"};
inline constexpr MetricDef kEvaluationsTotal{
    "aiq_evaluations_total", MetricType::Counter,
    "Evaluations of model calls, by evaluator and label (\"\" without one).",
    "model evaluator label"};
inline constexpr MetricDef kFeedbackScore{
    "aiq_feedback_score", MetricType::Histogram, "User feedback score (1-5).",
    "model version"};
inline constexpr MetricDef kOutcomeValueTotal{
    "aiq_outcome_value_total", MetricType::Counter,
    "Business value reported with feedback.", "model version"};
inline constexpr MetricDef kSafetyViolationsTotal{
    "aiq_safety_violations_total", MetricType::Counter,
    "Safety violations, by category.", "model version category"};
inline constexpr MetricDef kLabelsTotal{
    "aiq_labels_total", MetricType::Counter,
    "Ground-truth labels matched to a prediction.", "model version"};
inline constexpr MetricDef kLabelsUnmatchedTotal{
    "aiq_labels_unmatched_total", MetricType::Counter,
    "Labels whose id matched no pending prediction.", "model"};
inline constexpr MetricDef kLateEventsTotal{
    "aiq_late_events_total", MetricType::Counter,
    "Events counted but too late for the window (window.max_lateness).",
    "model kind"};
inline constexpr MetricDef kFeedbackUnmatchedTotal{
    "aiq_feedback_unmatched_total", MetricType::Counter,
    "Feedback whose id matched no pending prediction.", "model"};
inline constexpr MetricDef kLabelDelaySeconds{
    "aiq_label_delay_seconds", MetricType::Histogram,
    "Time from prediction to its label.", "model version"};
inline constexpr MetricDef kJoinPending{
    "aiq_join_pending", MetricType::Gauge,
    "Predictions with an id waiting for a label.", "model"};
inline constexpr MetricDef kJoinEntries{
    "aiq_join_entries", MetricType::Gauge,
    "Entries in the label join table, labelled or not.", "model"};
inline constexpr MetricDef kJoinCapacity{
    "aiq_join_capacity", MetricType::Gauge,
    "Capacity of the label join table (limits.max_join_entries).", "model"};
inline constexpr MetricDef kJoinEvictedTotal{
    "aiq_join_evicted_total", MetricType::Counter,
    "Predictions dropped from the join table before a label arrived (TTL or "
    "capacity).",
    "model"};
inline constexpr MetricDef kFeatureTypeErrorsTotal{
    "aiq_feature_type_errors_total", MetricType::Counter,
    "Feature values of the wrong JSON type (the event is kept, the value is "
    "not).",
    "model feature reason"};

// --- Drift and reference (metrics/drift_metrics.h) -------------------------
inline constexpr MetricDef kDriftScore{
    "aiq_drift_score", MetricType::Gauge,
    "Drift statistic of a feature's window against the reference, by test.",
    "model version feature test"};
inline constexpr MetricDef kDriftPValue{
    "aiq_drift_p_value", MetricType::Gauge,
    "P-value of a feature's drift test (ks, chi_square, z).",
    "model version feature test"};
inline constexpr MetricDef kFeatureDrifted{
    "aiq_feature_drifted", MetricType::Gauge,
    "1 when the feature's decision test detects drift.",
    "model version feature"};
inline constexpr MetricDef kDriftedFeaturesRatio{
    "aiq_drifted_features_ratio", MetricType::Gauge,
    "Share of features (with enough samples) that drifted.", "model version"};
inline constexpr MetricDef kDatasetDrift{
    "aiq_dataset_drift", MetricType::Gauge,
    "1 when the drifted share reaches 0.5.", "model version"};
inline constexpr MetricDef kPredictionDriftScore{
    "aiq_prediction_drift_score", MetricType::Gauge,
    "Drift of the model's outputs against the reference's prediction column, "
    "by test.",
    "model version test"};
inline constexpr MetricDef kPredictionDriftPValue{
    "aiq_prediction_drift_p_value", MetricType::Gauge,
    "P-value of the prediction drift test.", "model version test"};
inline constexpr MetricDef kPredictionDrifted{
    "aiq_prediction_drifted", MetricType::Gauge,
    "1 when prediction drift is detected.", "model version"};
inline constexpr MetricDef kReconstructionError{
    "aiq_reconstruction_error", MetricType::Gauge,
    "Mean PCA reconstruction error of the window (numeric features, "
    "standardized on the reference).",
    "model version"};
inline constexpr MetricDef kReconstructionErrorUpperThreshold{
    "aiq_reconstruction_error_upper_threshold", MetricType::Gauge,
    "Reference chunks' mean + 3 sigma.", "model"};
inline constexpr MetricDef kReconstructionErrorLowerThreshold{
    "aiq_reconstruction_error_lower_threshold", MetricType::Gauge,
    "Reference chunks' mean - 3 sigma (>= 0).", "model"};
inline constexpr MetricDef kDriftThreshold{
    "aiq_drift_threshold", MetricType::Gauge,
    "The threshold of a feature's decision test: its default, the config's, "
    "or calibrated from the reference (drift_threshold: auto).",
    "model feature test"};
inline constexpr MetricDef kPredictionDriftThreshold{
    "aiq_prediction_drift_threshold", MetricType::Gauge,
    "The threshold of the prediction drift test.", "model test"};
inline constexpr MetricDef kFeatureMissingRatio{
    "aiq_feature_missing_ratio", MetricType::Gauge,
    "Share of the window's predictions without a value for the feature.",
    "model version feature"};
inline constexpr MetricDef kFeatureNewCategoryRatio{
    "aiq_feature_new_category_ratio", MetricType::Gauge,
    "Share of values not seen in the reference.", "model version feature"};
inline constexpr MetricDef kFeatureOutOfRangeRatio{
    "aiq_feature_out_of_range_ratio", MetricType::Gauge,
    "Share of values outside the reference's [min, max].",
    "model version feature"};
inline constexpr MetricDef kReferenceRows{
    "aiq_reference_rows", MetricType::Gauge,
    "Rows in the model's reference data.", "model"};
inline constexpr MetricDef kBaselineAccuracy{
    "aiq_baseline_accuracy", MetricType::Gauge,
    "Accuracy of the reference's predictions.", "model"};
inline constexpr MetricDef kBaselinePrecision{
    "aiq_baseline_precision", MetricType::Gauge,
    "Precision of the reference's predictions.", "model average"};
inline constexpr MetricDef kBaselineRecall{
    "aiq_baseline_recall", MetricType::Gauge,
    "Recall of the reference's predictions.", "model average"};
inline constexpr MetricDef kBaselineF1{"aiq_baseline_f1", MetricType::Gauge,
                                       "F1 of the reference's predictions.",
                                       "model average"};
inline constexpr MetricDef kBaselineMae{"aiq_baseline_mae", MetricType::Gauge,
                                        "MAE of the reference.", "model"};
inline constexpr MetricDef kBaselineRmse{"aiq_baseline_rmse", MetricType::Gauge,
                                         "RMSE of the reference.", "model"};
inline constexpr MetricDef kBaselineR2{"aiq_baseline_r2", MetricType::Gauge,
                                       "R2 of the reference.", "model"};
inline constexpr MetricDef kBaselineMape{"aiq_baseline_mape", MetricType::Gauge,
                                         "MAPE of the reference.", "model"};

// --- Streaming quality (metrics/quality_metrics.h) -------------------------
inline constexpr MetricDef kWindowSamples{
    "aiq_window_samples", MetricType::Gauge,
    "Samples in the quality window, by kind.", "model version kind"};
inline constexpr MetricDef kAccuracy{
    "aiq_accuracy", MetricType::Gauge,
    "Accuracy over the window's labelled samples.", "model version"};
inline constexpr MetricDef kPrecision{"aiq_precision", MetricType::Gauge,
                                      "Precision over the window, by average.",
                                      "model version average"};
inline constexpr MetricDef kRecall{"aiq_recall", MetricType::Gauge,
                                   "Recall over the window, by average.",
                                   "model version average"};
inline constexpr MetricDef kF1{"aiq_f1", MetricType::Gauge,
                               "F1 score over the window, by average.",
                               "model version average"};
inline constexpr MetricDef kClassF1{"aiq_class_f1", MetricType::Gauge,
                                    "Per-class F1 score over the window.",
                                    "model version class"};
inline constexpr MetricDef kExpectedCalibrationError{
    "aiq_expected_calibration_error", MetricType::Gauge,
    "Expected calibration error (10 equal-width confidence bins).",
    "model version"};
inline constexpr MetricDef kBrierScore{
    "aiq_brier_score", MetricType::Gauge,
    "Multiclass Brier score over the window.", "model version"};
inline constexpr MetricDef kLowConfidenceRatio{
    "aiq_low_confidence_ratio", MetricType::Gauge,
    "Share of the window's predictions with confidence below the model's "
    "low_confidence_threshold.",
    "model version"};
inline constexpr MetricDef kConfidence{
    "aiq_confidence", MetricType::Histogram,
    "Confidence of the window's predictions.", "model version"};
inline constexpr MetricDef kMae{"aiq_mae", MetricType::Gauge,
                                "Mean absolute error over the window.",
                                "model version"};
inline constexpr MetricDef kRmse{"aiq_rmse", MetricType::Gauge,
                                 "Root mean squared error over the window.",
                                 "model version"};
inline constexpr MetricDef kR2{"aiq_r2", MetricType::Gauge,
                               "Coefficient of determination over the window.",
                               "model version"};
inline constexpr MetricDef kMape{
    "aiq_mape", MetricType::Gauge,
    "Mean absolute percentage error over the window.", "model version"};
inline constexpr MetricDef kEstimatedAccuracy{
    "aiq_estimated_accuracy", MetricType::Gauge,
    "Accuracy estimated from calibrated confidence, without labels.",
    "model version"};
inline constexpr MetricDef kConceptDriftDetectionsTotal{
    "aiq_concept_drift_detections_total", MetricType::Counter,
    "Concept drifts detected on the error stream.", "model version detector"};
inline constexpr MetricDef kConceptDriftWarning{
    "aiq_concept_drift_warning", MetricType::Gauge,
    "1 while a concept-drift detector warns.", "model version detector"};
inline constexpr MetricDef kSegmentAccuracy{
    "aiq_segment_accuracy", MetricType::Gauge,
    "Accuracy within a segment value.", "model version attribute segment"};
inline constexpr MetricDef kSegmentPositiveRate{
    "aiq_segment_positive_rate", MetricType::Gauge,
    "Share of a segment value's predictions that are the positive class.",
    "model version attribute segment"};
inline constexpr MetricDef kSegmentTpr{
    "aiq_segment_tpr", MetricType::Gauge,
    "True positive rate within a segment value.",
    "model version attribute segment"};
inline constexpr MetricDef kDemographicParityDifference{
    "aiq_demographic_parity_difference", MetricType::Gauge,
    "Max minus min positive rate across a segment attribute's values.",
    "model version attribute"};
inline constexpr MetricDef kEqualOpportunityDifference{
    "aiq_equal_opportunity_difference", MetricType::Gauge,
    "Max minus min true positive rate across a segment attribute's values.",
    "model version attribute"};

// --- Review sampling (metrics/review_metrics.h) ----------------------------
inline constexpr MetricDef kReviewSamplesTotal{
    "aiq_review_samples_total", MetricType::Counter,
    "Events selected for human review (review log), by reason.",
    "model reason"};
inline constexpr MetricDef kReviewWriteErrorsTotal{
    "aiq_review_write_errors_total", MetricType::Counter,
    "Review log lines lost or rotations failed (disk full, permissions).", ""};

// --- Durable state (metrics/state_metrics.h; only with state.dir) ---------
inline constexpr MetricDef kStateLogBytesTotal{
    "aiq_state_log_bytes_total", MetricType::Counter,
    "Bytes of state log records appended since start.", ""};
inline constexpr MetricDef kStateLogRecordsTotal{
    "aiq_state_log_records_total", MetricType::Counter,
    "State log records appended since start (one per request).", ""};
inline constexpr MetricDef kStateFsyncsTotal{
    "aiq_state_fsyncs_total", MetricType::Counter,
    "Group-commit fsyncs of the state log, each covering one or more "
    "requests.",
    ""};
inline constexpr MetricDef kStateWriteErrorsTotal{
    "aiq_state_write_errors_total", MetricType::Counter,
    "State log appends or fsyncs that failed (the requests got 503).", ""};
inline constexpr MetricDef kStateStoreBytes{
    "aiq_state_store_bytes", MetricType::Gauge,
    "Bytes on disk under the state directory.", ""};
inline constexpr MetricDef kStateJoinMemoryBytes{
    "aiq_state_join_memory_bytes", MetricType::Gauge,
    "Memory the on-disk join tables use (RocksDB memtables and block cache), "
    "bounded by state.join_memory_bytes.",
    ""};
inline constexpr MetricDef kStateJoinDiskBytes{
    "aiq_state_join_disk_bytes", MetricType::Gauge,
    "Bytes of the on-disk join tables' live files.", ""};
inline constexpr MetricDef kStateDiskFreeBytes{
    "aiq_state_disk_free_bytes", MetricType::Gauge,
    "Bytes available on the state directory's file system.", ""};
inline constexpr MetricDef kStateCheckpointsTotal{
    "aiq_state_checkpoints_total", MetricType::Counter,
    "Checkpoints written since start.", ""};
inline constexpr MetricDef kStateCheckpointFailuresTotal{
    "aiq_state_checkpoint_failures_total", MetricType::Counter,
    "Checkpoints that failed (disk full, I/O error).", ""};
inline constexpr MetricDef kStateCheckpointDurationSeconds{
    "aiq_state_checkpoint_duration_seconds", MetricType::Gauge,
    "Time the last successful checkpoint took.", ""};
inline constexpr MetricDef kStateCheckpointAgeSeconds{
    "aiq_state_checkpoint_age_seconds", MetricType::Gauge,
    "Seconds since the last successful checkpoint (since start when none).",
    ""};
inline constexpr MetricDef kStateCheckpointBytes{
    "aiq_state_checkpoint_bytes", MetricType::Gauge,
    "Size of the last checkpoint's payload.", ""};
inline constexpr MetricDef kStateRecoveredRecords{
    "aiq_state_recovered_records", MetricType::Gauge,
    "State log records replayed at start.", ""};
inline constexpr MetricDef kStateCorruptRecords{
    "aiq_state_corrupt_records", MetricType::Gauge,
    "Damaged log records and checkpoint files skipped at start.", ""};
inline constexpr MetricDef kStateRestoreDurationSeconds{
    "aiq_state_restore_duration_seconds", MetricType::Gauge,
    "Time start-up took to load the checkpoint and replay the log.", ""};
inline constexpr MetricDef kStateIdempotentReplaysTotal{
    "aiq_state_idempotent_replays_total", MetricType::Counter,
    "Requests answered from a remembered Idempotency-Key (nothing applied).",
    ""};

// Every entry above, grouped as docs/metrics.md groups them.
inline constexpr const MetricDef* kCatalogue[] = {
    &kExporterBuildInfo,
    &kExporterModels,
    &kExporterHttpRequestsTotal,
    &kExporterEventsReceivedTotal,
    &kExporterEventsRejectedTotal,
    &kExporterOtlpIgnoredTotal,
    &kExporterScrapeDurationSeconds,
    &kProcessCpuSecondsTotal,
    &kProcessResidentMemoryBytes,
    &kProcessVirtualMemoryBytes,
    &kProcessStartTimeSeconds,
    &kProcessOpenFds,
    &kProcessMaxFds,
    &kPredictionsTotal,
    &kPredictionErrorsTotal,
    &kPredictionLatencySeconds,
    &kTokensTotal,
    &kCostTotal,
    &kCostBudget,
    &kTokenBudget,
    &kTimeToFirstTokenSeconds,
    &kTimePerOutputTokenSeconds,
    &kEvaluationScore,
    &kEvaluationsTotal,
    &kFeedbackScore,
    &kOutcomeValueTotal,
    &kSafetyViolationsTotal,
    &kLabelsTotal,
    &kLabelsUnmatchedTotal,
    &kLateEventsTotal,
    &kFeedbackUnmatchedTotal,
    &kLabelDelaySeconds,
    &kJoinPending,
    &kJoinEntries,
    &kJoinCapacity,
    &kJoinEvictedTotal,
    &kFeatureTypeErrorsTotal,
    &kDriftScore,
    &kDriftPValue,
    &kFeatureDrifted,
    &kDriftedFeaturesRatio,
    &kDatasetDrift,
    &kPredictionDriftScore,
    &kPredictionDriftPValue,
    &kPredictionDrifted,
    &kReconstructionError,
    &kReconstructionErrorUpperThreshold,
    &kReconstructionErrorLowerThreshold,
    &kDriftThreshold,
    &kPredictionDriftThreshold,
    &kFeatureMissingRatio,
    &kFeatureNewCategoryRatio,
    &kFeatureOutOfRangeRatio,
    &kReferenceRows,
    &kBaselineAccuracy,
    &kBaselinePrecision,
    &kBaselineRecall,
    &kBaselineF1,
    &kBaselineMae,
    &kBaselineRmse,
    &kBaselineR2,
    &kBaselineMape,
    &kWindowSamples,
    &kAccuracy,
    &kPrecision,
    &kRecall,
    &kF1,
    &kClassF1,
    &kExpectedCalibrationError,
    &kBrierScore,
    &kLowConfidenceRatio,
    &kConfidence,
    &kMae,
    &kRmse,
    &kR2,
    &kMape,
    &kEstimatedAccuracy,
    &kConceptDriftDetectionsTotal,
    &kConceptDriftWarning,
    &kSegmentAccuracy,
    &kSegmentPositiveRate,
    &kSegmentTpr,
    &kDemographicParityDifference,
    &kEqualOpportunityDifference,
    &kReviewSamplesTotal,
    &kReviewWriteErrorsTotal,
    &kStateLogBytesTotal,
    &kStateLogRecordsTotal,
    &kStateFsyncsTotal,
    &kStateWriteErrorsTotal,
    &kStateStoreBytes,
    &kStateJoinMemoryBytes,
    &kStateJoinDiskBytes,
    &kStateDiskFreeBytes,
    &kStateCheckpointsTotal,
    &kStateCheckpointFailuresTotal,
    &kStateCheckpointDurationSeconds,
    &kStateCheckpointAgeSeconds,
    &kStateCheckpointBytes,
    &kStateRecoveredRecords,
    &kStateCorruptRecords,
    &kStateRestoreDurationSeconds,
    &kStateIdempotentReplaysTotal,
};

// The entry named `name`, or nullptr.
const MetricDef* FindMetric(std::string_view name);

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_CATALOGUE_H_
