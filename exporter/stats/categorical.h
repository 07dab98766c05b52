// Drift statistics for categorical features (and numeric features with few
// distinct values, tested as categories): chi-square test of homogeneity,
// two-proportion z-test, PSI and Jensen–Shannon per category, new categories.
// Inputs are category counts, which a streaming window can add and subtract
// per time bucket (CategoryCounts::Merge / Unmerge).
//
// Example, given `const std::vector<std::string>& reference_column` and
// `const std::vector<std::string>& current_column`:
//   aiq::stats::CategoryCounts ref, cur;
//   for (const std::string& v : reference_column) ref.Add(v);
//   for (const std::string& v : current_column) cur.Add(v);
//   absl::StatusOr<aiq::stats::CategoricalDrift> d =
//       aiq::stats::CompareCategories(ref, cur);
//   // d->chi_square.p_value, d->psi, d->jensen_shannon, d->new_categories
//   absl::StatusOr<aiq::stats::ZTestResult> z =
//       aiq::stats::ZTestCategories(ref, cur);   // binary features only
//
// Numeric values used as categories get keys from NumericCategoryKey() and
// CategoryOrder::kNumeric, so ordering (z-test "success", new-category
// sorting) is numeric rather than lexicographic.
#ifndef AIQ_EXPORTER_STATS_CATEGORICAL_H_
#define AIQ_EXPORTER_STATS_CATEGORICAL_H_

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/util/binary_codec.h"

namespace aiq::stats {

// Counts per category key (a bag). Keys with a zero count are erased, so a
// window that expired all its buckets is empty again.
class CategoryCounts {
 public:
  using Map = std::map<std::string, int64_t, std::less<>>;

  void Add(std::string_view key, int64_t n = 1);
  // Adds one to `key` if it is counted already or fewer than
  // `max_categories` keys are; else to `overflow_key`. One lookup for a key
  // already present (the hot path of a drift window).
  void AddBounded(std::string_view key, int64_t max_categories,
                  std::string_view overflow_key);
  // Removing more than was added is a programming error; the count is
  // clamped at zero (and the key erased) rather than going negative.
  void Subtract(std::string_view key, int64_t n = 1);
  void Merge(const CategoryCounts& other);
  void Unmerge(const CategoryCounts& other);

  int64_t count(std::string_view key) const;
  int64_t total() const { return total_; }
  int64_t num_categories() const { return static_cast<int64_t>(map_.size()); }
  bool empty() const { return total_ == 0; }
  const Map& counts() const { return map_; }

  // The (key, count) pairs in key order.
  void EncodeTo(util::BinaryWriter& w) const;
  // DataLoss on truncated input, a count <= 0 or keys out of order;
  // unchanged on error.
  absl::Status DecodeFrom(util::BinaryReader& r);

 private:
  Map map_;
  int64_t total_ = 0;
};

// Shortest round-trip decimal text of a finite double ("2", "0.5", "-1e+300")
// so distinct values never collide as category keys.
std::string NumericCategoryKey(double value);

enum class CategoryOrder {
  kLexicographic,  // string keys
  kNumeric,        // keys made by NumericCategoryKey(), ordered by value
};

struct ChiSquareResult {
  double statistic = 0;
  double p_value = 1;
  int dof = 0;  // K - 1 over the union of categories
};

struct ZTestResult {
  double statistic = 0;  // (p_ref - p_cur) / se, pooled se
  double p_value = 1;    // two-sided
};

struct CategoricalDrift {
  ChiSquareResult chi_square;
  double psi = 0;
  double jensen_shannon = 0;
  // In current but not in reference, sorted in the given CategoryOrder.
  std::vector<std::string> new_categories;
};

// Union of the keys of both, sorted in `order`, with aligned count vectors.
struct AlignedCounts {
  std::vector<std::string> keys;
  std::vector<int64_t> reference;
  std::vector<int64_t> current;
};
AlignedCounts AlignCategories(const CategoryCounts& reference,
                              const CategoryCounts& current,
                              CategoryOrder order);

// scipy.stats.chi2_contingency(np.array([reference, current]),
// correction=False) on a 2 x K table (K >= 1, every column with a positive
// total, each row total positive). K == 1 gives statistic 0, p 1, dof 0.
absl::StatusOr<ChiSquareResult> ChiSquareFromCounts(
    std::span<const int64_t> reference, std::span<const int64_t> current);

// P(X >= x) for X ~ chi-square(dof), Boost.Math complement (accurate far in
// the tail, e.g. 1e-36).
double ChiSquareSurvival(double x, int dof);

// Pooled two-proportion z-test: p = (s_r + s_c) / (n_r + n_c),
// se = sqrt(p (1 - p) (1/n_r + 1/n_c)), z = (s_r/n_r - s_c/n_c) / se,
// p-value = 2 * (1 - Phi(|z|)) via Boost.Math's normal complement. se == 0
// (both samples all-success or all-failure) gives z = 0, p = 1.
absl::StatusOr<ZTestResult> TwoProportionZTest(int64_t reference_successes,
                                               int64_t reference_total,
                                               int64_t current_successes,
                                               int64_t current_total);

// Z-test on a binary feature, Evidently's convention: "success" is every
// value except the smallest key of the union of categories in `order` (for
// two values: the greater one, "yes" over "no", 1 over 0, as the oracle).
// A single category in the union gives z = 0, p = 1.
absl::StatusOr<ZTestResult> ZTestCategories(
    const CategoryCounts& reference, const CategoryCounts& current,
    CategoryOrder order = CategoryOrder::kLexicographic);

// Chi-square, PSI and Jensen–Shannon over the union of categories, plus the
// new categories. Either side empty is InvalidArgument.
absl::StatusOr<CategoricalDrift> CompareCategories(
    const CategoryCounts& reference, const CategoryCounts& current,
    CategoryOrder order = CategoryOrder::kLexicographic);

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_CATEGORICAL_H_
