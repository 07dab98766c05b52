// The kind of a feature (or a dataset column), shared by the config, the
// statistics and the datasets, with its wire names ("numeric",
// "categorical", "boolean": config values and report fields).
//
// Example:
//   aiq::stats::FeatureKind k =
//       aiq::stats::kFeatureKindNames.Parse("boolean").value();
//   bool as_categories = !aiq::stats::IsNumeric(k);      // true
//   const char* name = aiq::stats::FeatureKindName(k);   // "boolean"
//
// Booleans differ from categories only at ingest (a JSON true/false is
// expected); statistics test them as categories, and a dataset column asked
// to be boolean is read as a categorical column.
#ifndef AIQ_EXPORTER_STATS_FEATURE_KIND_H_
#define AIQ_EXPORTER_STATS_FEATURE_KIND_H_

#include "exporter/util/enum_names.h"

namespace aiq::stats {

enum class FeatureKind { kNumeric, kCategorical, kBoolean };

inline constexpr auto kFeatureKindNames = util::MakeEnumNames<FeatureKind>({
    {FeatureKind::kNumeric, "numeric"},
    {FeatureKind::kCategorical, "categorical"},
    {FeatureKind::kBoolean, "boolean"},
});

inline const char* FeatureKindName(FeatureKind kind) {
  return kFeatureKindNames.Name(kind);
}

// Numeric features get numeric tests; the others are tested as categories.
constexpr bool IsNumeric(FeatureKind kind) {
  return kind == FeatureKind::kNumeric;
}

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_FEATURE_KIND_H_
