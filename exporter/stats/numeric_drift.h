// Drift statistics for a numeric feature against a precomputed reference
// profile: KS (via ks.h), PSI and Jensen–Shannon on reference-decile bins,
// Wasserstein and normed Wasserstein.
//
// Example, given `std::span<const double> reference_values` and
// `std::span<const double> current_values`:
//   absl::StatusOr<aiq::stats::NumericReference> ref =
//       aiq::stats::MakeNumericReference(reference_values);  // once
//   absl::StatusOr<aiq::stats::NumericDrift> d =
//       aiq::stats::CompareNumeric(*ref, current_values);
//   // d->ks.p_value, d->psi, d->jensen_shannon, d->wasserstein, ...
//
// Streaming: PSI/JS need only ref.bin_counts and the current window's bin
// counts (ref.bins.AddCounts per bucket; buckets add and subtract); KS and
// Wasserstein need the current window's values sorted
// (CompareNumericSorted; merge sorted buckets in O(n)).
// Missing values must be removed by the caller; NaN/Inf are rejected.
#ifndef AIQ_EXPORTER_STATS_NUMERIC_DRIFT_H_
#define AIQ_EXPORTER_STATS_NUMERIC_DRIFT_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/stats/binned_drift.h"
#include "exporter/stats/ks.h"

namespace aiq::stats {

// Everything the numeric statistics need from the reference, computed once.
struct NumericReference {
  std::vector<double> sorted;       // reference values, ascending
  QuantileBins bins;                // decile bins (binned_drift.h)
  std::vector<int64_t> bin_counts;  // reference histogram over `bins`
  double mean = 0;
  double std_dev = 0;        // ddof = 0
  int64_t unique_count = 0;  // distinct values
  int64_t size() const { return static_cast<int64_t>(sorted.size()); }
};

// Non-empty, finite values in any order.
absl::StatusOr<NumericReference> MakeNumericReference(
    std::span<const double> values);

struct NumericDrift {
  KsResult ks;
  double psi = 0;
  double jensen_shannon = 0;
  double wasserstein = 0;
  double wasserstein_normed = 0;
};

// Current: non-empty, finite, any order. O(m log m).
absl::StatusOr<NumericDrift> CompareNumeric(const NumericReference& reference,
                                            std::span<const double> current);
// Current sorted ascending. O(n + m) plus the KS p-value. PSI and JS come
// from `current_bin_counts` (counts over reference.bins) when given — a
// streaming window keeps exact counts even when `current_sorted` is only a
// sample of it — and from binning `current_sorted` otherwise.
absl::StatusOr<NumericDrift> CompareNumericSorted(
    const NumericReference& reference, std::span<const double> current_sorted,
    KsMethod ks_method = KsMethod::kAuto,
    std::span<const int64_t> current_bin_counts = {});

// PSI and JS alone from the current window's histogram over reference.bins.
absl::StatusOr<double> NumericPsi(const NumericReference& reference,
                                  std::span<const int64_t> current_counts);
absl::StatusOr<double> NumericJensenShannon(
    const NumericReference& reference, std::span<const int64_t> current_counts);

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_NUMERIC_DRIFT_H_
