// Serializes metric families in the Prometheus text format (version 0.0.4,
// via prometheus-cpp's TextSerializer) and gzips responses when asked.
//
// Example, given `const std::vector<prometheus::MetricFamily>& families`
// and `bool client_accepts_gzip`:
//   std::string body = aiq::metrics::RenderText(families);
//   if (client_accepts_gzip) body = *aiq::metrics::Gzip(body);
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

absl::StatusOr<std::string> Gzip(std::string_view data);

// Whether an Accept-Encoding header value allows gzip.
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_EXPOSITION_H_
