// Population Stability Index and Jensen–Shannon distance from aligned bin (or
// category) counts, plus the reference-quantile bins numeric features use.
// Everything is a function of counts, so a streaming window only keeps one
// small count vector per time bucket and adds/subtracts buckets.
//
// Example, given `const std::vector<double>& ref_sorted` (sorted, finite)
// and `const std::vector<double>& current`:
//   absl::StatusOr<aiq::stats::QuantileBins> bins =
//       aiq::stats::MakeQuantileBins(ref_sorted);
//   std::vector<int64_t> p = bins->Count(ref_sorted);
//   std::vector<int64_t> q = bins->Count(current);
//   absl::StatusOr<double> psi = aiq::stats::PsiFromCounts(p, q);
//   absl::StatusOr<double> js = aiq::stats::JensenShannonFromCounts(p, q);
//
// Definitions (docs/statistics.md):
//  - bins: edges = numpy.percentile(reference, [0, 10, ..., 100]) (linear
//    interpolation), first/last edge replaced by -inf/+inf; a value x falls
//    in bin i when edges[i] <= x < edges[i+1] (last bin closed), exactly as
//    numpy.histogram with explicit edges: duplicate edges (ties, constant
//    reference) give empty zero-width bins, not merged bins.
//  - PSI = sum_i (q_i - p_i) * ln(q_i / p_i) over proportions, where a zero
//    proportion is replaced by 1e-4 (Evidently's convention).
//  - JS = scipy.spatial.distance.jensenshannon(p, q) (natural log): the
//    square root of the divergence, on the raw proportions.
#ifndef AIQ_EXPORTER_STATS_BINNED_DRIFT_H_
#define AIQ_EXPORTER_STATS_BINNED_DRIFT_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace aiq::stats {

inline constexpr double kPsiZeroProportion = 1e-4;
inline constexpr int kDefaultPsiBins = 10;

// numpy.percentile(sorted, q) with the default "linear" method; q in
// [0, 100]. `sorted` must be non-empty and ascending.
double PercentileSorted(std::span<const double> sorted, double q);

class QuantileBins {
 public:
  // num_bins + 1 edges; front() == -inf, back() == +inf.
  const std::vector<double>& edges() const { return edges_; }
  int num_bins() const { return static_cast<int>(edges_.size()) - 1; }

  // Bin of a finite value (numpy.histogram semantics, see above). O(log b).
  int BinOf(double x) const;

  // Histogram of `values` (finite; not checked here). O(n log b).
  std::vector<int64_t> Count(std::span<const double> values) const;
  // Adds the histogram of `values` into `counts` (size num_bins()).
  void AddCounts(std::span<const double> values,
                 std::span<int64_t> counts) const;

 private:
  friend absl::StatusOr<QuantileBins> MakeQuantileBins(
      std::span<const double> reference_sorted, int num_bins);
  std::vector<double> edges_;
};

// Reference must be sorted ascending, finite, non-empty.
absl::StatusOr<QuantileBins> MakeQuantileBins(
    std::span<const double> reference_sorted, int num_bins = kDefaultPsiBins);

// Both vectors aligned (same bin/category at the same index), non-negative,
// each with a positive total; InvalidArgument otherwise.
absl::StatusOr<double> PsiFromCounts(std::span<const int64_t> reference,
                                     std::span<const int64_t> current);
absl::StatusOr<double> JensenShannonFromCounts(
    std::span<const int64_t> reference, std::span<const int64_t> current);

// Same on proportions that already sum to 1 (callers that hold weights).
double PsiFromProportions(std::span<const double> reference,
                          std::span<const double> current);
double JensenShannonFromProportions(std::span<const double> reference,
                                    std::span<const double> current);

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_BINNED_DRIFT_H_
