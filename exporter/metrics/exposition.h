// Serializes metric families in the Prometheus text format (version 0.0.4,
// via prometheus-cpp's TextSerializer), and tells whether a client takes
// gzip (util/gzip.h compresses).
//
// Example, given `const std::vector<prometheus::MetricFamily>& families`:
//   std::string body = aiq::metrics::RenderText(families);
//   bool gzip = aiq::metrics::AcceptsGzip("gzip, br");  // true
#ifndef AIQ_EXPORTER_METRICS_EXPOSITION_H_
#define AIQ_EXPORTER_METRICS_EXPOSITION_H_

#include <prometheus/metric_family.h>

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace aiq::metrics {

inline constexpr char kTextContentType[] =
    "text/plain; version=0.0.4; charset=utf-8";

std::string RenderText(const std::vector<prometheus::MetricFamily>& families);

// Whether an Accept-Encoding header value allows gzip.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_EXPOSITION_H_
