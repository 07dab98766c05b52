// Turns model snapshots into the aiq_* metric families of docs/metrics.md.
//
// Example, given `const model::ModelRegistry& registry`:
//   #include "exporter/model/model_registry.h"
//   std::vector<prometheus::MetricFamily> families =
//       aiq::metrics::ModelFamilies(registry.Snapshot());
#ifndef AIQ_EXPORTER_METRICS_MODEL_METRICS_H_
#define AIQ_EXPORTER_METRICS_MODEL_METRICS_H_

#include <prometheus/metric_family.h>

#include <vector>

#include "exporter/model/model_state.h"

namespace aiq::metrics {

// Families are emitted even when empty of samples only if they carry data;
// a series exists once its (model, version, ...) label set is known.
std::vector<prometheus::MetricFamily> ModelFamilies(
    const std::vector<model::ModelSnapshot>& models);

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_MODEL_METRICS_H_
