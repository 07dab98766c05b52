// Builds prometheus::MetricFamily values from plain numbers, so collectors
// can expose state they keep themselves (under their own locks) instead of
// mirroring it into prometheus-cpp metric objects on every event. A family's
// name, help and type come from its catalogue entry (metrics/catalogue.h).
//
// Example, given `std::vector<prometheus::MetricFamily>& families`:
//   FamilyBuilder f(kPredictionsTotal);
//   f.Counter({{"model", "m"}, {"version", "v1"}}, 42);
//   families.push_back(std::move(f).Build());
#ifndef AIQ_EXPORTER_METRICS_FAMILY_BUILDER_H_
#define AIQ_EXPORTER_METRICS_FAMILY_BUILDER_H_

#include <prometheus/metric_family.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "exporter/metrics/catalogue.h"

namespace aiq::metrics {

using Labels = std::vector<prometheus::ClientMetric::Label>;

// `labels` plus one more label.
inline Labels With(Labels labels, const char* name, std::string value) {
  labels.push_back({name, std::move(value)});
  return labels;
}

class FamilyBuilder {
 public:
  explicit FamilyBuilder(const MetricDef& def) {
    family_.name = std::string(def.name);
    family_.help = std::string(def.help);
    family_.type = def.type;
  }

  void Counter(Labels labels, double value) {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    m.counter.value = value;
    family_.metric.push_back(std::move(m));
  }

  void Gauge(Labels labels, double value) {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    m.gauge.value = value;
    family_.metric.push_back(std::move(m));
  }

  // `counts[i]` counts observations in (bounds[i-1], bounds[i]]; the last
  // entry those above every bound. Emitted cumulatively with a +Inf bucket.
  void Histogram(Labels labels, const std::vector<double>& bounds,
                 const std::vector<uint64_t>& counts, double sum) {
    prometheus::ClientMetric m;
    m.label = std::move(labels);
    uint64_t cumulative = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      cumulative += counts[i];
      m.histogram.bucket.push_back(
          {cumulative, i < bounds.size()
                           ? bounds[i]
                           : std::numeric_limits<double>::infinity()});
    }
    m.histogram.sample_count = cumulative;
    m.histogram.sample_sum = sum;
    family_.metric.push_back(std::move(m));
  }

  bool empty() const { return family_.metric.empty(); }
  prometheus::MetricFamily Build() && { return std::move(family_); }

 private:
  prometheus::MetricFamily family_;
};

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_FAMILY_BUILDER_H_
