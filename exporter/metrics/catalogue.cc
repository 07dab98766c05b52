#include "exporter/metrics/catalogue.h"

#include "exporter/util/enum_names.h"

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

namespace {

constexpr auto kMetricTypeNames = util::MakeEnumNames<MetricType>({
    {MetricType::Counter, "counter"},
    {MetricType::Gauge, "gauge"},
    {MetricType::Histogram, "histogram"},
    {MetricType::Summary, "summary"},
    {MetricType::Untyped, "untyped"},
});

}  // namespace

std::string_view TypeName(prometheus::MetricType type) {
  return kMetricTypeNames.Name(type);
}

const MetricDef* FindMetric(std::string_view name) {
  for (const MetricDef* d : kCatalogue) {
    if (d->name == name) return d;
  }
  return nullptr;
}

}  // namespace aiq::metrics
