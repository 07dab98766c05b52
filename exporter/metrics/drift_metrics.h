// Drift, data-quality and baseline metric families (docs/metrics.md,
// "Quality and drift") from model snapshots. Statistics a window cannot
// support yet (fewer than window.min_samples values) have no sample.
//
// Example, given `const model::ModelRegistry& registry`:
//   #include "exporter/model/model_registry.h"
//   std::vector<prometheus::MetricFamily> f =
//       aiq::metrics::DriftFamilies(registry.Snapshot());
#ifndef AIQ_EXPORTER_METRICS_DRIFT_METRICS_H_
#define AIQ_EXPORTER_METRICS_DRIFT_METRICS_H_

#include <prometheus/metric_family.h>

#include <vector>

#include "exporter/model/model_state.h"

namespace aiq::metrics {

std::vector<prometheus::MetricFamily> DriftFamilies(
    const std::vector<model::ModelSnapshot>& models);

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_DRIFT_METRICS_H_
