// Prometheus families for review sampling, built from ReviewLog::Counts():
//
//   aiq_review_samples_total{model, reason}  counter  events selected for
//       review, per reason (an event with two reasons counts once in each)
//   aiq_review_write_errors_total            counter  review lines lost or
//       rotations failed (disk full, permissions, ...)
//
// Every configured model gets all four reasons (zeros included) so rate()
// works from the first scrape.
//
// Example, given `const review::ReviewLog* log` (nullptr: review is off):
//   #include "exporter/review/review_log.h"
//   std::vector<prometheus::MetricFamily> families;
//   if (log != nullptr) {
//     aiq::metrics::AppendReviewFamilies(log->Counts(), families);
//   }
#ifndef AIQ_EXPORTER_METRICS_REVIEW_METRICS_H_
#define AIQ_EXPORTER_METRICS_REVIEW_METRICS_H_

#include <prometheus/metric_family.h>

#include <vector>

#include "exporter/review/review_log.h"

namespace aiq::metrics {

void AppendReviewFamilies(const review::ReviewCounts& counts,
                          std::vector<prometheus::MetricFamily>& families);

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_REVIEW_METRICS_H_
