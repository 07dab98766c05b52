// 1-D first Wasserstein (earth mover's) distance between two samples, as
// scipy.stats.wasserstein_distance(u, v) (unweighted): the integral of
// |F_u(x) - F_v(x)| over x, evaluated exactly between consecutive points of
// the merged sorted sample. O(n + m) on sorted inputs.
//
// Example, given `std::span<const double> ref`,
// `std::span<const double> cur` and `double ref_std_ddof0`:
//   absl::StatusOr<double> w = aiq::stats::WassersteinDistance(ref, cur);
//   double normed = aiq::stats::NormedWasserstein(*w, ref_std_ddof0);
//
// The "normed" variant (Evidently's default large-sample numeric drift test)
// divides by max(std(reference, ddof = 0), 0.001).
#ifndef AIQ_EXPORTER_STATS_WASSERSTEIN_H_
#define AIQ_EXPORTER_STATS_WASSERSTEIN_H_

#include <span>

#include "absl/status/statusor.h"

namespace aiq::stats {

inline constexpr double kWassersteinMinStd = 0.001;

// Inputs sorted ascending; non-empty; finite (validated, O(n + m)).
absl::StatusOr<double> WassersteinDistanceSorted(std::span<const double> u,
                                                 std::span<const double> v);
// Copies and sorts. O((n + m) log(n + m)).
absl::StatusOr<double> WassersteinDistance(std::span<const double> u,
                                           std::span<const double> v);

inline double NormedWasserstein(double distance, double reference_std) {
  return distance / (reference_std > kWassersteinMinStd ? reference_std
                                                        : kWassersteinMinStd);
}

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_WASSERSTEIN_H_
