#include "exporter/metrics/catalogue.h"

namespace aiq::metrics {

std::vector<std::string_view> MetricDef::LabelNames() const {
  std::vector<std::string_view> out;
  for (std::string_view rest = labels; !rest.empty();) {
    const size_t space = rest.find(' ');
    out.push_back(rest.substr(0, space));
    if (space == std::string_view::npos) break;
    rest.remove_prefix(space + 1);
  }
  return out;
}

std::string_view TypeName(prometheus::MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Histogram:
      return "histogram";
    case MetricType::Summary:
      return "summary";
    case MetricType::Untyped:
      return "untyped";
  }
  return "untyped";
}

const MetricDef* FindMetric(std::string_view name) {
  for (const MetricDef* d : kCatalogue) {
    if (d->name == name) return d;
  }
  return nullptr;
}

}  // namespace aiq::metrics
