// The CSV reader (reference files and uploads) on arbitrary text: a
// dataset whose columns all have one value per row, or an error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "exporter/data/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  aiq::data::CsvOptions options;
  options.column_types["x"] = aiq::stats::FeatureKind::kNumeric;
  options.column_types["c"] = aiq::stats::FeatureKind::kCategorical;
  absl::StatusOr<aiq::data::Dataset> ds =
      aiq::data::ParseCsv(text, "fuzz", options);
  if (!ds.ok()) return 0;
  for (const aiq::data::Column& c : ds->columns()) {
    if (c.size() != ds->num_rows()) std::abort();
    for (size_t row = 0; row < c.size(); ++row) {
      if (c.IsMissing(row) != c.ValueAsString(row).empty() &&
          c.type == aiq::stats::FeatureKind::kNumeric) {
        std::abort();
      }
    }
  }
  return 0;
}
