#include "exporter/metrics/model_metrics.h"

#include "exporter/metrics/family_builder.h"

namespace aiq::metrics {
namespace {

void Add(std::vector<prometheus::MetricFamily>& out, FamilyBuilder&& f) {
  if (!f.empty()) out.push_back(std::move(f).Build());
}

Labels ModelVersion(const model::ModelSnapshot& m, const std::string& v) {
  return {{"model", m.name}, {"version", v}};
}

}  // namespace

std::vector<prometheus::MetricFamily> ModelFamilies(
    const std::vector<model::ModelSnapshot>& models) {
  FamilyBuilder predictions(kPredictionsTotal);
  FamilyBuilder errors(kPredictionErrorsTotal);
  FamilyBuilder latency(kPredictionLatencySeconds);
  FamilyBuilder tokens(kTokensTotal);
  FamilyBuilder cost(kCostTotal);
  FamilyBuilder cost_budget(kCostBudget);
  FamilyBuilder token_budget(kTokenBudget);
  FamilyBuilder ttft(kTimeToFirstTokenSeconds);
  FamilyBuilder tpot(kTimePerOutputTokenSeconds);
  FamilyBuilder evaluation_score(kEvaluationScore);
  FamilyBuilder evaluations(kEvaluationsTotal);
  FamilyBuilder feedback(kFeedbackScore);
  FamilyBuilder outcome(kOutcomeValueTotal);
  FamilyBuilder safety(kSafetyViolationsTotal);
  FamilyBuilder labels(kLabelsTotal);
  FamilyBuilder unmatched(kLabelsUnmatchedTotal);
  FamilyBuilder feedback_unmatched(kFeedbackUnmatchedTotal);
  FamilyBuilder late(kLateEventsTotal);
  FamilyBuilder delay(kLabelDelaySeconds);
  FamilyBuilder pending(kJoinPending);
  FamilyBuilder entries(kJoinEntries);
  FamilyBuilder capacity(kJoinCapacity);
  FamilyBuilder evicted(kJoinEvictedTotal);
  FamilyBuilder type_errors(kFeatureTypeErrorsTotal);

  for (const model::ModelSnapshot& m : models) {
    const Labels model_only = {{"model", m.name}};
    const bool llm = m.task == config::Task::kGeneration;
    for (size_t v = 0; v < m.versions.size(); ++v) {
      const model::VersionStats& s = m.per_version[v];
      const Labels mv = ModelVersion(m, m.versions[v]);
      predictions.Counter(mv, static_cast<double>(s.predictions));
      for (size_t r = 0; r < s.errors_by_reason.size(); ++r) {
        if (s.errors_by_reason[r] == 0) continue;
        errors.Counter(With(mv, "reason", m.error_reasons[r]),
                       static_cast<double>(s.errors_by_reason[r]));
      }
      latency.Histogram(mv, s.latency.bounds(), s.latency.counts(),
                        s.latency.sum());
      if (llm || s.prompt_tokens + s.completion_tokens > 0) {
        tokens.Counter(With(mv, "type", "prompt"),
                       static_cast<double>(s.prompt_tokens));
        tokens.Counter(With(mv, "type", "completion"),
                       static_cast<double>(s.completion_tokens));
        cost.Counter(mv, s.cost);
      }
      // LLM models export streaming latency from the start; others only
      // once a call reported it.
      for (auto [family, h] : {std::pair{&ttft, &s.time_to_first_token},
                               std::pair{&tpot, &s.time_per_output_token}}) {
        if (llm || h->count() > 0) {
          family->Histogram(mv, h->bounds(), h->counts(), h->sum());
        }
      }
      for (size_t e = 0; e < s.evaluation_scores.size(); ++e) {
        const model::Histogram& h = s.evaluation_scores[e];
        evaluation_score.Histogram(With(mv, "evaluator", m.evaluators[e]),
                                   h.bounds(), h.counts(), h.sum());
      }
      feedback.Histogram(mv, s.feedback.bounds(), s.feedback.counts(),
                         s.feedback.sum());
      outcome.Counter(mv, s.outcome_value);
      // Declared safety categories are exported from the start at 0, so an
      // alert on their increase works for the very first violation.
      for (size_t c = 0; c < m.safety_categories.size(); ++c) {
        const uint64_t n =
            c < s.safety_by_category.size() ? s.safety_by_category[c] : 0;
        safety.Counter(With(mv, "category", m.safety_categories[c]),
                       static_cast<double>(n));
      }
      labels.Counter(mv, static_cast<double>(s.labels));
      delay.Histogram(mv, s.label_delay.bounds(), s.label_delay.counts(),
                      s.label_delay.sum());
    }
    if (m.unmatched_feedback.feedback.count() > 0) {
      const model::VersionStats& u = m.unmatched_feedback;
      const Labels mv = ModelVersion(m, config::kUnknownVersion);
      feedback.Histogram(mv, u.feedback.bounds(), u.feedback.counts(),
                         u.feedback.sum());
      outcome.Counter(mv, u.outcome_value);
    }
    for (size_t e = 0; e < m.evaluations.size(); ++e) {
      const std::vector<uint64_t>& by_label = m.evaluations[e];
      for (size_t l = 0; l < by_label.size(); ++l) {
        if (by_label[l] == 0) continue;
        evaluations.Counter(
            {{"model", m.name},
             {"evaluator", m.evaluators[e]},
             {"label", l == 0 ? std::string() : m.evaluation_labels[l - 1]}},
            static_cast<double>(by_label[l]));
      }
    }
    if (m.cost_budget_per_day)
      cost_budget.Gauge(model_only, *m.cost_budget_per_day);
    if (m.token_budget_per_day) {
      token_budget.Gauge(model_only, *m.token_budget_per_day);
    }
    for (size_t f = 0; f < m.feature_type_errors.size(); ++f) {
      for (size_t r = 0; r < ingest::kNumTypeErrorReasons; ++r) {
        if (m.feature_type_errors[f][r] == 0) continue;
        type_errors.Counter(
            {{"model", m.name},
             {"feature", m.features[f]},
             {"reason", ingest::TypeErrorReasonName(
                            static_cast<ingest::TypeErrorReason>(r))}},
            static_cast<double>(m.feature_type_errors[f][r]));
      }
    }
    unmatched.Counter(model_only, static_cast<double>(m.labels_unmatched));
    feedback_unmatched.Counter(model_only,
                               static_cast<double>(m.feedback_unmatched));
    // Only the windowed kinds, always (0 when none was late).
    for (ingest::EventKind kind :
         {ingest::EventKind::kPrediction, ingest::EventKind::kLabel}) {
      late.Counter(
          {{"model", m.name}, {"kind", ingest::EventKindName(kind)}},
          static_cast<double>(m.late_events[static_cast<size_t>(kind)]));
    }
    pending.Gauge(model_only, static_cast<double>(m.join_pending));
    entries.Gauge(model_only, static_cast<double>(m.join_entries));
    capacity.Gauge(model_only, static_cast<double>(m.join_capacity));
    evicted.Counter(model_only, static_cast<double>(m.join_evicted));
  }

  std::vector<prometheus::MetricFamily> out;
  for (FamilyBuilder* f : {&predictions,
                           &errors,
                           &latency,
                           &tokens,
                           &cost,
                           &cost_budget,
                           &token_budget,
                           &ttft,
                           &tpot,
                           &evaluation_score,
                           &evaluations,
                           &feedback,
                           &outcome,
                           &safety,
                           &labels,
                           &unmatched,
                           &feedback_unmatched,
                           &late,
                           &delay,
                           &pending,
                           &entries,
                           &capacity,
                           &evicted,
                           &type_errors}) {
    Add(out, std::move(*f));
  }
  return out;
}

}  // namespace aiq::metrics
