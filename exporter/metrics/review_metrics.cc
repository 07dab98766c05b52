#include "exporter/metrics/review_metrics.h"

#include <string>
#include <utility>

#include "exporter/metrics/family_builder.h"

namespace aiq::metrics {

void AppendReviewFamilies(const review::ReviewCounts& counts,
                          std::vector<prometheus::MetricFamily>& families) {
  FamilyBuilder samples(kReviewSamplesTotal);
  for (const review::ReviewCounts::Model& m : counts.models) {
    for (int r = 0; r < review::kNumReasons; ++r) {
      samples.Counter(
          {{"model", m.model},
           {"reason",
            std::string(review::ReasonName(static_cast<review::Reason>(r)))}},
          static_cast<double>(m.samples[static_cast<size_t>(r)]));
    }
  }
  if (!samples.empty()) families.push_back(std::move(samples).Build());

  FamilyBuilder errors(kReviewWriteErrorsTotal);
  errors.Counter({}, static_cast<double>(counts.write_errors));
  families.push_back(std::move(errors).Build());
}

}  // namespace aiq::metrics
