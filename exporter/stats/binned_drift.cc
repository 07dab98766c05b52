#include "exporter/stats/binned_drift.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "absl/strings/str_cat.h"
#include "exporter/stats/summation.h"

namespace aiq::stats {
namespace {

// numpy's _lerp: a + (b - a) t below t = 0.5, b - (b - a)(1 - t) above, which
// keeps the result monotone and exact at the ends.
double Lerp(double a, double b, double t) {
  const double diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

absl::Status CheckCounts(std::span<const int64_t> reference,
                         std::span<const int64_t> current,
                         std::string_view what, int64_t* ref_total,
                         int64_t* cur_total) {
  if (reference.size() != current.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": reference has ", reference.size(),
                     " bins, current has ", current.size()));
  }
  if (reference.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": no bins"));
  }
  *ref_total = *cur_total = 0;
  for (size_t i = 0; i < reference.size(); ++i) {
    if (reference[i] < 0 || current[i] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(what), ": negative count in bin ", i));
    }
    *ref_total += reference[i];
    *cur_total += current[i];
  }
  if (*ref_total == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": empty reference"));
  }
  if (*cur_total == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(what), ": empty current"));
  }
  return absl::OkStatus();
}

std::vector<double> Proportions(std::span<const int64_t> counts,
                                int64_t total) {
  std::vector<double> p(counts.size());
  const double n = static_cast<double>(total);
  for (size_t i = 0; i < counts.size(); ++i) {
    p[i] = static_cast<double>(counts[i]) / n;
  }
  return p;
}

// scipy.special.rel_entr for x, y >= 0 with x > 0 -> y > 0.
double RelEntr(double x, double y) {
  if (x > 0 && y > 0) return x * std::log(x / y);
  if (x == 0 && y >= 0) return 0;
  return std::numeric_limits<double>::infinity();
}

}  // namespace

// numpy.percentile(..., method="linear"), numpy 1.24 _quantile: virtual
// index (n - 1) * q/100, neighbours floor/floor + 1 clipped to the ends.
double PercentileSorted(std::span<const double> sorted, double q) {
  const size_t n = sorted.size();
  const double virtual_index = static_cast<double>(n - 1) * (q / 100);
  if (virtual_index >= static_cast<double>(n - 1)) return sorted[n - 1];
  if (virtual_index <= 0) return sorted[0];
  const double previous = std::floor(virtual_index);
  const size_t i = static_cast<size_t>(previous);
  return Lerp(sorted[i], sorted[i + 1], virtual_index - previous);
}

absl::StatusOr<QuantileBins> MakeQuantileBins(
    std::span<const double> reference_sorted, int num_bins) {
  if (num_bins < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantile bins: num_bins must be >= 1, got ", num_bins));
  }
  if (absl::Status s =
          CheckFiniteNonEmpty(reference_sorted, "quantile bins: reference");
      !s.ok()) {
    return s;
  }
  if (!std::is_sorted(reference_sorted.begin(), reference_sorted.end())) {
    return absl::InvalidArgumentError(
        "quantile bins: reference must be sorted ascending");
  }
  QuantileBins bins;
  bins.edges_.resize(static_cast<size_t>(num_bins) + 1);
  // Percentile points as numpy.arange(0, 101, 100 / num_bins) would give for
  // the default 10 bins: integral multiples, divided by 100 inside.
  for (int i = 1; i < num_bins; ++i) {
    const double q = 100.0 * i / num_bins;
    bins.edges_[static_cast<size_t>(i)] = PercentileSorted(reference_sorted, q);
  }
  bins.edges_.front() = -std::numeric_limits<double>::infinity();
  bins.edges_.back() = std::numeric_limits<double>::infinity();
  return bins;
}

// numpy.histogram with explicit edges counts bin i as
// #(x < e[i+1]) - #(x < e[i]) (last: #(x <= e[last]) - ...), so x lands in
// the last i with e[i] <= x: upper_bound - 1. Zero-width bins stay empty.
int QuantileBins::BinOf(double x) const {
  const auto it = std::upper_bound(edges_.begin(), edges_.end(), x);
  const int bin = static_cast<int>(it - edges_.begin()) - 1;
  return std::clamp(bin, 0, num_bins() - 1);
}

std::vector<int64_t> QuantileBins::Count(std::span<const double> values) const {
  std::vector<int64_t> counts(static_cast<size_t>(num_bins()), 0);
  AddCounts(values, counts);
  return counts;
}

void QuantileBins::AddCounts(std::span<const double> values,
                             std::span<int64_t> counts) const {
  for (double x : values) ++counts[static_cast<size_t>(BinOf(x))];
}

double PsiFromProportions(std::span<const double> reference,
                          std::span<const double> current) {
  std::vector<double> terms(reference.size());
  for (size_t i = 0; i < reference.size(); ++i) {
    const double p = reference[i] == 0 ? kPsiZeroProportion : reference[i];
    const double q = current[i] == 0 ? kPsiZeroProportion : current[i];
    terms[i] = (q - p) * std::log(q / p);
  }
  return NumpySum(terms);
}

// scipy.spatial.distance.jensenshannon: renormalize, m = (p + q) / 2,
// sqrt((sum rel_entr(p, m) + sum rel_entr(q, m)) / 2).
double JensenShannonFromProportions(std::span<const double> reference,
                                    std::span<const double> current) {
  const size_t k = reference.size();
  const double sp = NumpySum(reference);
  const double sq = NumpySum(current);
  std::vector<double> left(k), right(k);
  for (size_t i = 0; i < k; ++i) {
    const double p = reference[i] / sp;
    const double q = current[i] / sq;
    const double m = (p + q) / 2.0;
    left[i] = RelEntr(p, m);
    right[i] = RelEntr(q, m);
  }
  const double js = NumpySum(left) + NumpySum(right);
  // Rounding can leave a tiny negative divergence for identical inputs.
  return std::sqrt(std::max(js / 2.0, 0.0));
}

absl::StatusOr<double> PsiFromCounts(std::span<const int64_t> reference,
                                     std::span<const int64_t> current) {
  int64_t nr = 0, nc = 0;
  if (absl::Status s = CheckCounts(reference, current, "psi", &nr, &nc);
      !s.ok()) {
    return s;
  }
  return PsiFromProportions(Proportions(reference, nr),
                            Proportions(current, nc));
}

absl::StatusOr<double> JensenShannonFromCounts(
    std::span<const int64_t> reference, std::span<const int64_t> current) {
  int64_t nr = 0, nc = 0;
  if (absl::Status s =
          CheckCounts(reference, current, "jensen_shannon", &nr, &nc);
      !s.ok()) {
    return s;
  }
  return JensenShannonFromProportions(Proportions(reference, nr),
                                      Proportions(current, nc));
}

}  // namespace aiq::stats
