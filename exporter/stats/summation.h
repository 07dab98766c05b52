// Small numeric building blocks shared by the statistics modules: a
// compensated (Neumaier) sum that supports adding and removing terms, and
// input validation with uniform error messages.
//
// Example, given `const std::vector<double>& xs`:
//   aiq::stats::CompensatedSum s;
//   for (double x : xs) s.Add(x);
//   s.Subtract(xs.front());           // expire a term (sliding windows)
//   double total = s.Value();
//
//   absl::Status st = aiq::stats::CheckFiniteNonEmpty(xs, "psi: current");
//
// Why Neumaier: windows are built by adding and removing many buckets; plain
// summation drifts, and the compensated sum keeps the error at O(eps) of the
// sum of magnitudes independent of the number of terms (Neumaier 1974,
// "Rundungsfehleranalyse einiger Verfahren zur Summation endlicher Summen").
#ifndef AIQ_EXPORTER_STATS_SUMMATION_H_
#define AIQ_EXPORTER_STATS_SUMMATION_H_

#include <span>
#include <string_view>

#include "absl/status/status.h"
#include "exporter/util/binary_codec.h"

namespace aiq::stats {

class CompensatedSum {
 public:
  void Add(double x);
  void Subtract(double x) { Add(-x); }
  void Merge(const CompensatedSum& other);
  void Unmerge(const CompensatedSum& other);
  double Value() const { return sum_ + compensation_; }
  void Reset() { sum_ = compensation_ = 0; }

  // Both parts, bit-exact, so a decoded sum continues exactly as this one.
  void EncodeTo(util::BinaryWriter& w) const;
  // DataLoss (the reader's status) on truncated input; unchanged on error.
  absl::Status DecodeFrom(util::BinaryReader& r);

 private:
  double sum_ = 0;
  double compensation_ = 0;
};

// InvalidArgument "<what>: empty input" / "<what>: non-finite value <v> at
// index <i>" (NaN and +-Inf are rejected everywhere in aiq::stats).
absl::Status CheckFiniteNonEmpty(std::span<const double> values,
                                 std::string_view what);
absl::Status CheckFinite(std::span<const double> values, std::string_view what);

// Mean and population standard deviation (numpy's default ddof = 0), two
// passes with Neumaier sums; rescales internally so values near 1e308 do not
// overflow. Input must be finite and non-empty (checked by the callers).
double Mean(std::span<const double> values);
double StdDevPopulation(std::span<const double> values, double mean);

// numpy's float64 sum (pairwise, 8-way unrolled, blocks of 128): the same
// rounding as np.sum, for short vectors where we mirror numpy exactly.
double NumpySum(std::span<const double> values);

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_SUMMATION_H_
