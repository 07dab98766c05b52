// Two-sample two-sided Kolmogorov–Smirnov test, with p-values as
// scipy.stats.ks_2samp(alternative="two-sided", method="auto") computes them
// (scipy 1.10): the exact null distribution when max(n, m) <= 10000, and
// otherwise the finite-n one-sample distribution kstwo.sf(D, round(n*m/(n+m))).
//
// Example, given `std::vector<double> ref` and `std::vector<double> cur`:
//   #include <algorithm>
//   std::sort(ref.begin(), ref.end());
//   std::sort(cur.begin(), cur.end());
//   absl::StatusOr<aiq::stats::KsResult> r =
//       aiq::stats::KsTwoSampleSorted(ref, cur);
//   if (r.ok() && r->p_value <= 0.05) { /* drift */ }
//
// Inputs must be finite; an empty sample is an InvalidArgument error.
#ifndef AIQ_EXPORTER_STATS_KS_H_
#define AIQ_EXPORTER_STATS_KS_H_

#include <cstdint>
#include <span>

#include "absl/status/statusor.h"

namespace aiq::stats {

enum class KsMode { kExact, kAsymptotic };

struct KsResult {
  double statistic = 0;  // D = sup |F_ref(x) - F_cur(x)|
  double p_value = 1;
  KsMode mode = KsMode::kExact;
};

// How the p-value is computed. kAuto is scipy's method="auto" (exact when
// max(n, m) <= 10000). kAsymptotic always uses kstwo.sf: the streaming
// exporter's choice when the current values are themselves a random sample
// of a larger window, where an exact p-value for the sample would cost up
// to O(n*m) without being more meaningful.
enum class KsMethod { kAuto, kAsymptotic };

// Both spans sorted ascending. O(n + m) for D plus the p-value's cost.
absl::StatusOr<KsResult> KsTwoSampleSorted(std::span<const double> ref_sorted,
                                           std::span<const double> cur_sorted,
                                           KsMethod method = KsMethod::kAuto);

// Copies and sorts, then calls KsTwoSampleSorted. O((n+m) log(n+m)).
absl::StatusOr<KsResult> KsTwoSample(std::span<const double> ref,
                                     std::span<const double> cur);

// P(D >= d) under H0 for samples of sizes n and m, as scipy's
// _compute_prob_outside_square / _count_paths_outside_method (exact).
// d is first rounded to a multiple of 1/lcm(n, m) as scipy does. Returns NaN
// where scipy's exact attempt fails (it then falls back to kstwo.sf).
// Memory O(max(n, m)); time O(n + m) for n == m, else O(d * n * m).
double KsExactSurvival(double d, int64_t n, int64_t m);

// Survival function of the one-sample two-sided KS statistic for sample
// size n (scipy.stats.kstwo.sf), Simard & L'Ecuyer (2011).
double KsTwoSurvival(double d, int64_t n);

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_KS_H_
