#include "exporter/metrics/exposition.h"

#include <prometheus/text_serializer.h>

#include <charconv>
#include <sstream>

namespace aiq::metrics {

std::string RenderText(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return std::move(out).str();
}

bool AcceptsGzip(std::string_view accept_encoding) {
  // Comma-separated codings with optional ";q=" weights; q=0 refuses.
  size_t start = 0;
  while (start <= accept_encoding.size()) {
    size_t end = accept_encoding.find(',', start);
    if (end == std::string_view::npos) end = accept_encoding.size();
    std::string_view item = accept_encoding.substr(start, end - start);
    start = end + 1;
    const size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && coding.front() == ' ') coding.remove_prefix(1);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (coding != "gzip" && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    const size_t q = item.find("q=", semi);
    if (q == std::string_view::npos) return true;
    double weight = 1;
    std::string_view w = item.substr(q + 2);
    std::from_chars(w.data(), w.data() + w.size(), weight);
    return weight > 0;
  }
  return false;
}

}  // namespace aiq::metrics
