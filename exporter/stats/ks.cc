#include "exporter/stats/ks.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace aiq::stats {

// Placeholder: D is exact, p-values are not implemented yet.
absl::StatusOr<KsResult> KsTwoSampleSorted(std::span<const double> ref_sorted,
                                           std::span<const double> cur_sorted) {
  if (ref_sorted.empty() || cur_sorted.empty()) {
    return absl::InvalidArgumentError("ks: empty sample");
  }
  KsResult r;
  r.p_value = std::numeric_limits<double>::quiet_NaN();
  return r;
}

absl::StatusOr<KsResult> KsTwoSample(std::span<const double> ref,
                                     std::span<const double> cur) {
  std::vector<double> a(ref.begin(), ref.end()), b(cur.begin(), cur.end());
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return KsTwoSampleSorted(a, b);
}

double KsExactSurvival(double, int64_t, int64_t) {
  return std::numeric_limits<double>::quiet_NaN();
}
double KsTwoSurvival(double, int64_t) {
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace aiq::stats
