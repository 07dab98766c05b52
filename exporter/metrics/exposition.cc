#include "exporter/metrics/exposition.h"

#include <prometheus/text_serializer.h>
#include <zlib.h>

#include <charconv>
#include <sstream>

namespace aiq::metrics {

std::string RenderText(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return std::move(out).str();
}

absl::StatusOr<std::string> Gzip(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper; level 1 because metrics
  // text compresses well even at the fastest setting.
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError("deflate failed");
  out.resize(zs.total_out);
  return out;
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
