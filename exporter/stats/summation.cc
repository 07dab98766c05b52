#include "exporter/stats/summation.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "absl/strings/str_cat.h"

namespace aiq::stats {

// Neumaier's variant of Kahan summation: the compensation also captures the
// case |x| > |sum| that plain Kahan loses.
void CompensatedSum::Add(double x) {
  const double t = sum_ + x;
  if (!std::isfinite(t)) {  // overflow/inf: no meaningful compensation
    sum_ = t;
    compensation_ = 0;
    return;
  }
  if (std::abs(sum_) >= std::abs(x)) {
    compensation_ += (sum_ - t) + x;
  } else {
    compensation_ += (x - t) + sum_;
  }
  sum_ = t;
}

void CompensatedSum::Merge(const CompensatedSum& other) {
  Add(other.sum_);
  Add(other.compensation_);
}

void CompensatedSum::Unmerge(const CompensatedSum& other) {
  Subtract(other.sum_);
  Subtract(other.compensation_);
}

void CompensatedSum::EncodeTo(util::BinaryWriter& w) const {
  w.Double(sum_);
  w.Double(compensation_);
}

absl::Status CompensatedSum::DecodeFrom(util::BinaryReader& r) {
  const double sum = r.Double("compensated sum");
  const double compensation = r.Double("compensated sum compensation");
  if (!r.ok()) return r.status();
  sum_ = sum;
  compensation_ = compensation;
  return absl::OkStatus();
}

absl::Status CheckFinite(std::span<const double> values,
                         std::string_view what) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          std::string(what), ": non-finite value ", values[i], " at index ", i,
          " (NaN and infinities are not accepted; drop missing values)"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFiniteNonEmpty(std::span<const double> values,
                                 std::string_view what) {
  if (values.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": empty input"));
  }
  return CheckFinite(values, what);
}

double Mean(std::span<const double> values) {
  if (values.empty()) return 0;
  const double n = static_cast<double>(values.size());
  CompensatedSum s;
  for (double x : values) s.Add(x);
  if (std::isfinite(s.Value())) return s.Value() / n;
  // The sum overflowed (values near DBL_MAX): average pre-scaled terms.
  CompensatedSum scaled;
  for (double x : values) scaled.Add(x / n);
  return scaled.Value();
}

double StdDevPopulation(std::span<const double> values, double mean) {
  if (values.empty()) return 0;
  double max_dev = 0;
  for (double x : values) max_dev = std::max(max_dev, std::abs(x - mean));
  if (max_dev == 0) return 0;
  if (!std::isfinite(max_dev)) {
    // x - mean overflowed; scale before subtracting.
    const double s = std::max(std::abs(mean), 1.0);
    std::vector<double> scaled(values.begin(), values.end());
    for (double& x : scaled) x /= s;
    return s * StdDevPopulation(scaled, mean / s);
  }
  // Plain squares unless they could overflow (or underflow to nothing):
  // identical to numpy's sum((x - mean)^2) / n in the usual range.
  const bool rescale = max_dev > 1e150 || max_dev < 1e-150;
  const double scale = rescale ? max_dev : 1.0;
  CompensatedSum ss;
  for (double x : values) {
    const double d = (x - mean) / scale;
    ss.Add(d * d);
  }
  return scale * std::sqrt(ss.Value() / static_cast<double>(values.size()));
}

// numpy/core/src/umath/loops_utils.h.src, pairwise_sum: below 8 terms a
// plain loop, up to 128 eight interleaved partial sums, above that split.
double NumpySum(std::span<const double> a) {
  const size_t n = a.size();
  if (n < 8) {
    double res = 0.;
    for (double x : a) res += x;
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (size_t j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double res =
        ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return NumpySum(a.subspan(0, n2)) + NumpySum(a.subspan(n2));
}

}  // namespace aiq::stats
