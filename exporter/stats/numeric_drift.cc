#include "exporter/stats/numeric_drift.h"

#include <algorithm>
#include <cstddef>

#include "exporter/stats/summation.h"
#include "exporter/stats/wasserstein.h"

namespace aiq::stats {

absl::StatusOr<NumericReference> MakeNumericReference(
    std::span<const double> values) {
  if (absl::Status s = CheckFiniteNonEmpty(values, "numeric reference");
      !s.ok()) {
    return s;
  }
  NumericReference ref;
  ref.sorted.assign(values.begin(), values.end());
  std::sort(ref.sorted.begin(), ref.sorted.end());
  absl::StatusOr<QuantileBins> bins = MakeQuantileBins(ref.sorted);
  if (!bins.ok()) return bins.status();
  ref.bins = *std::move(bins);
  ref.bin_counts = ref.bins.Count(ref.sorted);
  ref.mean = Mean(ref.sorted);
  ref.std_dev = StdDevPopulation(ref.sorted, ref.mean);
  ref.unique_count = 1;
  for (size_t i = 1; i < ref.sorted.size(); ++i) {
    if (ref.sorted[i] != ref.sorted[i - 1]) ++ref.unique_count;
  }
  return ref;
}

absl::StatusOr<double> NumericPsi(const NumericReference& reference,
                                  std::span<const int64_t> current_counts) {
  return PsiFromCounts(reference.bin_counts, current_counts);
}

absl::StatusOr<double> NumericJensenShannon(
    const NumericReference& reference,
    std::span<const int64_t> current_counts) {
  return JensenShannonFromCounts(reference.bin_counts, current_counts);
}

absl::StatusOr<NumericDrift> CompareNumericSorted(
    const NumericReference& reference, std::span<const double> current_sorted,
    KsMethod ks_method, std::span<const int64_t> current_bin_counts) {
  if (reference.sorted.empty()) {
    return absl::InvalidArgumentError("numeric drift: empty reference");
  }
  if (absl::Status s =
          CheckFiniteNonEmpty(current_sorted, "numeric drift: current");
      !s.ok()) {
    return s;
  }
  if (!std::is_sorted(current_sorted.begin(), current_sorted.end())) {
    return absl::InvalidArgumentError(
        "numeric drift: current must be sorted ascending");
  }
  NumericDrift d;
  absl::StatusOr<KsResult> ks =
      KsTwoSampleSorted(reference.sorted, current_sorted, ks_method);
  if (!ks.ok()) return ks.status();
  d.ks = *ks;
  std::vector<int64_t> binned;
  if (current_bin_counts.empty()) {
    binned = reference.bins.Count(current_sorted);
    current_bin_counts = binned;
  }
  const std::span<const int64_t> counts = current_bin_counts;
  absl::StatusOr<double> psi = NumericPsi(reference, counts);
  if (!psi.ok()) return psi.status();
  d.psi = *psi;
  absl::StatusOr<double> js = NumericJensenShannon(reference, counts);
  if (!js.ok()) return js.status();
  d.jensen_shannon = *js;
  absl::StatusOr<double> w =
      WassersteinDistanceSorted(reference.sorted, current_sorted);
  if (!w.ok()) return w.status();
  d.wasserstein = *w;
  d.wasserstein_normed = NormedWasserstein(*w, reference.std_dev);
  return d;
}

absl::StatusOr<NumericDrift> CompareNumeric(const NumericReference& reference,
                                            std::span<const double> current) {
  if (absl::Status s = CheckFiniteNonEmpty(current, "numeric drift: current");
      !s.ok()) {
    return s;
  }
  std::vector<double> sorted(current.begin(), current.end());
  std::sort(sorted.begin(), sorted.end());
  return CompareNumericSorted(reference, sorted);
}

}  // namespace aiq::stats
