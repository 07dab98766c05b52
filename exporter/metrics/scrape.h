// One /metrics scrape: which metric families are exposed, in which order
// (self-metrics, process, operational, drift, quality, review), each built
// from its catalogue entry (metrics/catalogue.h).
//
// Example, given `const SelfMetrics& self`, `const config::Config& config`,
// `const model::ModelRegistry& registry` and `const review::ReviewLog* log`:
//   #include "exporter/metrics/exposition.h"
//   #include "exporter/model/model_registry.h"
//   const std::vector<model::ModelSnapshot> snapshots = registry.Snapshot();
//   std::optional<review::ReviewCounts> counts;
//   if (log != nullptr) counts = log->Counts();
//   std::vector<prometheus::MetricFamily> families = aiq::metrics::Scrape(
//       {.self = self, .config = config, .models = snapshots,
//        .review = counts ? &*counts : nullptr});
//   std::string body = aiq::metrics::RenderText(families);
#ifndef AIQ_EXPORTER_METRICS_SCRAPE_H_
#define AIQ_EXPORTER_METRICS_SCRAPE_H_

#include <prometheus/metric_family.h>

#include <vector>

#include "exporter/config/config.h"
#include "exporter/metrics/self_metrics.h"
#include "exporter/metrics/state_metrics.h"
#include "exporter/model/model_state.h"
#include "exporter/review/review_log.h"

namespace aiq::metrics {

struct ScrapeSources {
  const SelfMetrics& self;
  const config::Config& config;
  // Every model's snapshot; each names a model of `config`.
  const std::vector<model::ModelSnapshot>& models;
  const review::ReviewCounts* review = nullptr;  // nullptr: review is off
  const StateCounts* state = nullptr;            // nullptr: no state.dir
  // The process_* families (false in a replay, where they would describe
  // the replaying process).
  bool process = true;
};

std::vector<prometheus::MetricFamily> Scrape(const ScrapeSources& sources);

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_SCRAPE_H_
