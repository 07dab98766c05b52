#include "exporter/stats/wasserstein.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "exporter/stats/summation.h"

namespace aiq::stats {

// scipy.stats._stats_py._cdf_distance(1, u, v): sum over consecutive points
// x_k < x_{k+1} of the merged sample of |F_u(x_k) - F_v(x_k)| (x_{k+1} - x_k),
// with F(x) = #(sample <= x) / size. Walking both sorted samples at once
// gives the same terms in the same order in O(n + m); tied points contribute
// zero-width terms, skipped here. A Neumaier sum stands in for numpy's
// pairwise sum (both far inside 1e-12 relative; all terms are >= 0).
absl::StatusOr<double> WassersteinDistanceSorted(std::span<const double> u,
                                                 std::span<const double> v) {
  if (absl::Status s = CheckFiniteNonEmpty(u, "wasserstein: first sample");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckFiniteNonEmpty(v, "wasserstein: second sample");
      !s.ok()) {
    return s;
  }
  if (!std::is_sorted(u.begin(), u.end()) ||
      !std::is_sorted(v.begin(), v.end())) {
    return absl::InvalidArgumentError(
        "wasserstein: samples must be sorted ascending");
  }
  const size_t n = u.size(), m = v.size();
  const double dn = static_cast<double>(n), dm = static_cast<double>(m);
  size_t i = 0, j = 0;
  CompensatedSum total;
  while (i < n || j < m) {
    const double x = (j == m || (i < n && u[i] <= v[j])) ? u[i] : v[j];
    while (i < n && u[i] <= x) ++i;
    while (j < m && v[j] <= x) ++j;
    if (i == n && j == m) break;
    const double next = (j == m || (i < n && u[i] <= v[j])) ? u[i] : v[j];
    const double cdf_gap =
        std::abs(static_cast<double>(i) / dn - static_cast<double>(j) / dm);
    total.Add(cdf_gap * (next - x));
  }
  return total.Value();
}

absl::StatusOr<double> WassersteinDistance(std::span<const double> u,
                                           std::span<const double> v) {
  // Validate before sorting: NaN would break the sort's ordering.
  if (absl::Status s = CheckFiniteNonEmpty(u, "wasserstein: first sample");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckFiniteNonEmpty(v, "wasserstein: second sample");
      !s.ok()) {
    return s;
  }
  std::vector<double> a(u.begin(), u.end()), b(v.begin(), v.end());
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return WassersteinDistanceSorted(a, b);
}

}  // namespace aiq::stats
