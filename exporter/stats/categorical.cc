#include "exporter/stats/categorical.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/math/distributions/chi_squared.hpp"
#include "boost/math/distributions/normal.hpp"
#include "exporter/stats/binned_drift.h"
#include "exporter/stats/summation.h"

namespace aiq::stats {
namespace {

double KeyValue(const std::string& key) {
  double v = 0;
  const auto [ptr, ec] =
      std::from_chars(key.data(), key.data() + key.size(), v);
  // Keys that are not numbers (not from NumericCategoryKey) sort last.
  if (ec != std::errc() || ptr != key.data() + key.size()) {
    return std::numeric_limits<double>::infinity();
  }
  return v;
}

void SortKeys(std::vector<std::string>& keys, CategoryOrder order) {
  if (order == CategoryOrder::kLexicographic) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  std::vector<std::pair<double, std::string>> tagged;
  tagged.reserve(keys.size());
  for (std::string& k : keys) tagged.emplace_back(KeyValue(k), std::move(k));
  std::sort(tagged.begin(), tagged.end());
  for (size_t i = 0; i < keys.size(); ++i)
    keys[i] = std::move(tagged[i].second);
}

}  // namespace

void CategoryCounts::Add(std::string_view key, int64_t n) {
  if (n <= 0) {
    if (n < 0) Subtract(key, -n);
    return;
  }
  auto it = map_.find(key);
  if (it == map_.end()) it = map_.emplace(std::string(key), 0).first;
  it->second += n;
  total_ += n;
}

void CategoryCounts::AddBounded(std::string_view key, int64_t max_categories,
                                std::string_view overflow_key) {
  auto it = map_.lower_bound(key);
  if (it == map_.end() || it->first != key) {
    if (num_categories() >= max_categories) {
      Add(overflow_key);
      return;
    }
    it = map_.emplace_hint(it, std::string(key), 0);
  }
  ++it->second;
  ++total_;
}

void CategoryCounts::Subtract(std::string_view key, int64_t n) {
  if (n <= 0) {
    if (n < 0) Add(key, -n);
    return;
  }
  auto it = map_.find(key);
  if (it == map_.end()) return;
  const int64_t removed = std::min(n, it->second);
  it->second -= removed;
  total_ -= removed;
  if (it->second == 0) map_.erase(it);
}

void CategoryCounts::Merge(const CategoryCounts& other) {
  for (const auto& [k, c] : other.map_) Add(k, c);
}

void CategoryCounts::Unmerge(const CategoryCounts& other) {
  for (const auto& [k, c] : other.map_) Subtract(k, c);
}

int64_t CategoryCounts::count(std::string_view key) const {
  auto it = map_.find(key);
  return it == map_.end() ? 0 : it->second;
}

void CategoryCounts::EncodeTo(util::BinaryWriter& w) const {
  w.Varint(map_.size());
  for (const auto& [key, n] : map_) {
    w.String(key);
    w.Signed(n);
  }
}

absl::Status CategoryCounts::DecodeFrom(util::BinaryReader& r) {
  // Each pair takes at least two bytes (empty key length, count).
  const size_t n = r.Count("category count entries", 2);
  Map map;
  int64_t total = 0;
  for (size_t i = 0; i < n && r.ok(); ++i) {
    std::string key = r.String("category key");
    const int64_t count = r.Int("category count", 1, INT64_MAX - total);
    if (!r.ok()) break;
    if (!map.empty() && !(map.rbegin()->first < key)) {
      r.Fail("category key", "keys not in strictly ascending order");
      break;
    }
    total += count;
    map.emplace_hint(map.end(), std::move(key), count);
  }
  if (!r.ok()) return r.status();
  map_ = std::move(map);
  total_ = total;
  return absl::OkStatus();
}

std::string NumericCategoryKey(double value) {
  if (value == 0) value = 0;  // -0 and 0 are one category
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  return std::string(buf, ptr);
}

AlignedCounts AlignCategories(const CategoryCounts& reference,
                              const CategoryCounts& current,
                              CategoryOrder order) {
  AlignedCounts out;
  for (const auto& [k, c] : reference.counts()) out.keys.push_back(k);
  for (const auto& [k, c] : current.counts()) {
    if (reference.count(k) == 0) out.keys.push_back(k);
  }
  SortKeys(out.keys, order);
  out.reference.reserve(out.keys.size());
  out.current.reserve(out.keys.size());
  for (const std::string& k : out.keys) {
    out.reference.push_back(reference.count(k));
    out.current.push_back(current.count(k));
  }
  return out;
}

double ChiSquareSurvival(double x, int dof) {
  if (dof <= 0) return 1;
  if (!(x > 0)) return 1;
  if (std::isinf(x)) return 0;
  boost::math::chi_squared_distribution<double> dist(dof);
  return boost::math::cdf(boost::math::complement(dist, x));
}

// scipy.stats.chi2_contingency(correction=False): expected = row_i * col_j /
// total, statistic = sum over the flattened (row-major) table of
// (observed - expected)^2 / expected, p = chi2.sf(statistic, K - 1).
absl::StatusOr<ChiSquareResult> ChiSquareFromCounts(
    std::span<const int64_t> reference, std::span<const int64_t> current) {
  const size_t k = reference.size();
  if (current.size() != k) {
    return absl::InvalidArgumentError(absl::StrCat(
        "chi_square: reference has ", k, " categories, current has ",
        current.size(), " (counts must be aligned)"));
  }
  if (k == 0) return absl::InvalidArgumentError("chi_square: no categories");
  int64_t rows[2] = {0, 0};
  for (size_t j = 0; j < k; ++j) {
    if (reference[j] < 0 || current[j] < 0) {
      return absl::InvalidArgumentError("chi_square: negative count");
    }
    if (reference[j] + current[j] == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "chi_square: category ", j, " has no observations on either side"));
    }
    rows[0] += reference[j];
    rows[1] += current[j];
  }
  if (rows[0] == 0)
    return absl::InvalidArgumentError("chi_square: empty reference");
  if (rows[1] == 0)
    return absl::InvalidArgumentError("chi_square: empty current");
  ChiSquareResult r;
  r.dof = static_cast<int>(k) - 1;
  if (r.dof == 0) return r;  // scipy: statistic 0, p 1
  const double total = static_cast<double>(rows[0] + rows[1]);
  std::vector<double> terms(2 * k);
  for (int row = 0; row < 2; ++row) {
    std::span<const int64_t> obs = row == 0 ? reference : current;
    for (size_t j = 0; j < k; ++j) {
      const double col = static_cast<double>(reference[j] + current[j]);
      const double expected = static_cast<double>(rows[row]) * col / total;
      const double d = static_cast<double>(obs[j]) - expected;
      terms[static_cast<size_t>(row) * k + j] = d * d / expected;
    }
  }
  r.statistic = NumpySum(terms);
  r.p_value = ChiSquareSurvival(r.statistic, r.dof);
  return r;
}

// Evidently's proportions_diff_z_stat_ind / proportions_diff_z_test, with
// the two-sided p from the normal complement instead of 1 - cdf so tiny
// p-values keep their digits.
absl::StatusOr<ZTestResult> TwoProportionZTest(int64_t reference_successes,
                                               int64_t reference_total,
                                               int64_t current_successes,
                                               int64_t current_total) {
  if (reference_total <= 0 || current_total <= 0) {
    return absl::InvalidArgumentError("z_test: empty sample");
  }
  if (reference_successes < 0 || reference_successes > reference_total ||
      current_successes < 0 || current_successes > current_total) {
    return absl::InvalidArgumentError(
        "z_test: successes must be within [0, total]");
  }
  const double n1 = static_cast<double>(reference_total);
  const double n2 = static_cast<double>(current_total);
  const double p1 = static_cast<double>(reference_successes) / n1;
  const double p2 = static_cast<double>(current_successes) / n2;
  const double pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const double se = std::sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
  ZTestResult r;
  if (!(se > 0)) return r;
  r.statistic = (p1 - p2) / se;
  const boost::math::normal_distribution<double> normal;
  r.p_value = 2 * boost::math::cdf(
                      boost::math::complement(normal, std::abs(r.statistic)));
  return r;
}

absl::StatusOr<ZTestResult> ZTestCategories(const CategoryCounts& reference,
                                            const CategoryCounts& current,
                                            CategoryOrder order) {
  if (reference.empty())
    return absl::InvalidArgumentError("z_test: empty reference");
  if (current.empty())
    return absl::InvalidArgumentError("z_test: empty current");
  const AlignedCounts a = AlignCategories(reference, current, order);
  if (a.keys.size() < 2) return ZTestResult{};
  // Success = not the smallest key.
  return TwoProportionZTest(reference.total() - a.reference[0],
                            reference.total(), current.total() - a.current[0],
                            current.total());
}

absl::StatusOr<CategoricalDrift> CompareCategories(
    const CategoryCounts& reference, const CategoryCounts& current,
    CategoryOrder order) {
  if (reference.empty()) {
    return absl::InvalidArgumentError("categorical drift: empty reference");
  }
  if (current.empty()) {
    return absl::InvalidArgumentError("categorical drift: empty current");
  }
  const AlignedCounts a = AlignCategories(reference, current, order);
  CategoricalDrift d;
  absl::StatusOr<ChiSquareResult> chi =
      ChiSquareFromCounts(a.reference, a.current);
  if (!chi.ok()) return chi.status();
  d.chi_square = *chi;
  absl::StatusOr<double> psi = PsiFromCounts(a.reference, a.current);
  if (!psi.ok()) return psi.status();
  d.psi = *psi;
  absl::StatusOr<double> js = JensenShannonFromCounts(a.reference, a.current);
  if (!js.ok()) return js.status();
  d.jensen_shannon = *js;
  for (size_t i = 0; i < a.keys.size(); ++i) {
    if (a.reference[i] == 0) d.new_categories.push_back(a.keys[i]);
  }
  return d;
}

}  // namespace aiq::stats
