#include "exporter/review/review_metrics.h"

#include <string>
#include <utility>

#include "exporter/metrics/family_builder.h"

namespace aiq::review {

void AppendReviewFamilies(const ReviewCounts& counts,
                          std::vector<prometheus::MetricFamily>& families) {
  metrics::FamilyBuilder samples(
      "aiq_review_samples_total",
      "Events selected for human review (review log), by reason.",
      prometheus::MetricType::Counter);
  for (const ReviewCounts::Model& m : counts.models) {
    for (int r = 0; r < kNumReasons; ++r) {
      samples.Counter(
          {{"model", m.model},
           {"reason", std::string(ReasonName(static_cast<Reason>(r)))}},
          static_cast<double>(m.samples[static_cast<size_t>(r)]));
    }
  }
  if (!samples.empty()) families.push_back(std::move(samples).Build());

  metrics::FamilyBuilder errors(
      "aiq_review_write_errors_total",
      "Review log lines lost or rotations failed (disk full, permissions).",
      prometheus::MetricType::Counter);
  errors.Counter({}, static_cast<double>(counts.write_errors));
  families.push_back(std::move(errors).Build());
}

}  // namespace aiq::review
