// Categorical drift against every `categorical` and `z_test` case of the
// scipy oracle, plus edge cases and the streaming (merge/unmerge) form.
#include "exporter/stats/categorical.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "exporter/stats/oracle_test_util.h"
#include "exporter/testing/codec_test_util.h"
#include "exporter/util/binary_codec.h"

namespace aiq::stats {
namespace {

using ::aiq::stats::testing::Cases;
using ::aiq::stats::testing::Near;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Oracle values are strings or numbers; numbers become numeric keys.
CategoryCounts CountsOf(const nlohmann::json& values, CategoryOrder* order) {
  CategoryCounts c;
  *order = CategoryOrder::kLexicographic;
  for (const auto& v : values) {
    if (v.is_number()) {
      *order = CategoryOrder::kNumeric;
      c.Add(NumericCategoryKey(v.get<double>()));
    } else {
      c.Add(v.get<std::string>());
    }
  }
  return c;
}

TEST(CategoricalOracleTest, EveryCategoricalCase) {
  const auto cases = Cases("categorical");
  ASSERT_EQ(cases.size(), 3u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    CategoryOrder order;
    const CategoryCounts ref = CountsOf(c["reference"], &order);
    const CategoryCounts cur = CountsOf(c["current"], &order);
    const auto& e = c["expected"];
    absl::StatusOr<CategoricalDrift> d = CompareCategories(ref, cur, order);
    ASSERT_TRUE(d.ok()) << d.status();
    EXPECT_PRED_FORMAT2(Near, d->chi_square.statistic,
                        e["chi_square"]["statistic"].get<double>());
    EXPECT_PRED_FORMAT2(Near, d->chi_square.p_value,
                        e["chi_square"]["p_value"].get<double>());
    EXPECT_EQ(d->chi_square.dof, e["chi_square"]["dof"].get<int>());
    EXPECT_PRED_FORMAT2(Near, d->psi, e["psi"].get<double>());
    EXPECT_PRED_FORMAT2(Near, d->jensen_shannon,
                        e["jensen_shannon"].get<double>());
    EXPECT_EQ(d->new_categories,
              e["new_categories"].get<std::vector<std::string>>());
  }
}

TEST(CategoricalOracleTest, EveryZTestCase) {
  const auto cases = Cases("z_test");
  ASSERT_EQ(cases.size(), 2u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    CategoryOrder order;
    const CategoryCounts ref = CountsOf(c["reference"], &order);
    const CategoryCounts cur = CountsOf(c["current"], &order);
    absl::StatusOr<ZTestResult> z = ZTestCategories(ref, cur, order);
    ASSERT_TRUE(z.ok()) << z.status();
    EXPECT_PRED_FORMAT2(Near, z->statistic,
                        c["expected"]["statistic"].get<double>());
    EXPECT_PRED_FORMAT2(Near, z->p_value,
                        c["expected"]["p_value"].get<double>());
  }
}

TEST(CategoryCountsTest, MergeUnmergeEqualsBatch) {
  for (const auto& c : Cases("categorical")) {
    CategoryOrder order;
    const CategoryCounts ref = CountsOf(c["reference"], &order);
    const auto cur_values = c["current"].get<std::vector<std::string>>();
    // Window = buckets of 100 values; expire the first, add it back.
    std::vector<CategoryCounts> buckets;
    for (size_t i = 0; i < cur_values.size(); ++i) {
      if (i % 100 == 0) buckets.emplace_back();
      buckets.back().Add(cur_values[i]);
    }
    CategoryCounts window;
    for (const auto& b : buckets) window.Merge(b);
    window.Unmerge(buckets[0]);
    window.Merge(buckets[0]);
    CategoryCounts batch;
    for (const auto& v : cur_values) batch.Add(v);
    EXPECT_EQ(window.counts(), batch.counts());
    EXPECT_EQ(window.total(), batch.total());
    const CategoricalDrift a = *CompareCategories(ref, window);
    const CategoricalDrift b = *CompareCategories(ref, batch);
    EXPECT_EQ(a.chi_square.statistic, b.chi_square.statistic);
    EXPECT_EQ(a.psi, b.psi);
  }
}

TEST(CategoryCountsTest, SubtractErasesAndClamps) {
  CategoryCounts c;
  c.Add("a", 2);
  c.Subtract("a", 5);
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.num_categories(), 0);
  c.Subtract("missing");
  EXPECT_EQ(c.total(), 0);
}

TEST(CategoryCountsTest, AddBoundedSendsNewKeysPastTheBoundToOverflow) {
  CategoryCounts c;
  c.AddBounded("b", 2, "other");
  c.AddBounded("a", 2, "other");
  c.AddBounded("c", 2, "other");  // a third key: overflow
  c.AddBounded("a", 2, "other");  // known keys still count
  c.AddBounded("d", 2, "other");
  EXPECT_EQ(c.count("a"), 2);
  EXPECT_EQ(c.count("b"), 1);
  EXPECT_EQ(c.count("c"), 0);
  EXPECT_EQ(c.count("other"), 2);
  EXPECT_EQ(c.total(), 5);
  EXPECT_EQ(c.num_categories(), 3);
  // Keys stay in order (the codec and the statistics rely on it).
  std::vector<std::string> keys;
  for (const auto& [k, n] : c.counts()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b", "other"}));
}

TEST(CategoricalTest, EmptySidesAreInvalidArgument) {
  CategoryCounts empty, one;
  one.Add("x");
  absl::StatusOr<CategoricalDrift> d = CompareCategories(empty, one);
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(d.status().message(), HasSubstr("empty reference"));
  EXPECT_FALSE(CompareCategories(one, empty).ok());
  EXPECT_FALSE(ZTestCategories(one, empty).ok());
}

TEST(CategoricalTest, SingleCategoryEverywhere) {
  CategoryCounts a, b;
  a.Add("x", 10);
  b.Add("x", 3);
  CategoricalDrift d = *CompareCategories(a, b);
  EXPECT_EQ(d.chi_square.dof, 0);
  EXPECT_EQ(d.chi_square.statistic, 0);
  EXPECT_EQ(d.chi_square.p_value, 1);
  EXPECT_EQ(d.psi, 0);
  EXPECT_EQ(d.jensen_shannon, 0);
  ZTestResult z = *ZTestCategories(a, b);
  EXPECT_EQ(z.p_value, 1);
}

TEST(CategoricalTest, ChiSquareAgainstScipy) {
  // scipy.stats.chi2_contingency([[10,20,30],[5,25,40]], correction=False)
  std::vector<int64_t> r = {10, 20, 30}, c = {5, 25, 40};
  ChiSquareResult x = *ChiSquareFromCounts(r, c);
  EXPECT_PRED_FORMAT2(Near, x.statistic, 2.8987150415721836);
  EXPECT_PRED_FORMAT2(Near, x.p_value, 0.23472104305137598);
  EXPECT_EQ(x.dof, 2);
  // Deep tail stays relative-accurate: scipy chi2.sf(1000, 3).
  EXPECT_PRED_FORMAT2(Near, ChiSquareSurvival(1000, 3),
                      1.7994208765314067e-216);
  std::vector<int64_t> bad = {0, 1, 2}, bad2 = {0, 1, 2};
  EXPECT_FALSE(ChiSquareFromCounts(bad, bad2).ok());  // empty column
}

TEST(CategoricalTest, NumericKeysOrderNumerically) {
  EXPECT_EQ(NumericCategoryKey(2.0), "2");
  EXPECT_EQ(NumericCategoryKey(-0.0), "0");
  EXPECT_EQ(NumericCategoryKey(0.1), "0.1");
  CategoryCounts ref, cur;
  ref.Add(NumericCategoryKey(9));
  cur.Add(NumericCategoryKey(10));
  cur.Add(NumericCategoryKey(-1));
  const AlignedCounts a = AlignCategories(ref, cur, CategoryOrder::kNumeric);
  EXPECT_THAT(a.keys, ElementsAre("-1", "9", "10"));
  const CategoricalDrift d =
      *CompareCategories(ref, cur, CategoryOrder::kNumeric);
  EXPECT_THAT(d.new_categories, ElementsAre("-1", "10"));
}

TEST(ZTestTest, SuccessIsTheGreaterValue) {
  // 'yes' is success: ref 10% yes, cur 50% yes -> z < 0.
  CategoryCounts ref, cur;
  ref.Add("no", 90);
  ref.Add("yes", 10);
  cur.Add("no", 50);
  cur.Add("yes", 50);
  ZTestResult z = *ZTestCategories(ref, cur);
  EXPECT_LT(z.statistic, 0);
  EXPECT_LT(z.p_value, 1e-8);
  EXPECT_FALSE(TwoProportionZTest(5, 4, 1, 2).ok());
  EXPECT_FALSE(TwoProportionZTest(0, 0, 1, 2).ok());
}

using aiq::testing::Decoded;
using aiq::testing::Encoded;
using aiq::testing::ExpectTruncationIsDataLoss;

TEST(CategoryCountsCodecTest, RoundTripsAndRejectsMalformedInput) {
  CategoryCounts c;
  for (const char* k : {"b", "a", "b", "", "zz", "b"}) c.Add(k);
  const std::string bytes = Encoded(c);
  CategoryCounts d = Decoded<CategoryCounts>(bytes);
  EXPECT_EQ(d.counts(), c.counts());
  EXPECT_EQ(d.total(), 6);
  EXPECT_EQ(Encoded(d), bytes);
  d.Subtract("b", 3);
  c.Subtract("b", 3);
  EXPECT_EQ(Encoded(d), Encoded(c));
  CategoryCounts target;
  target.Add("q", 4);
  ExpectTruncationIsDataLoss(bytes, target);

  util::BinaryWriter unsorted;
  unsorted.Varint(2);
  unsorted.String("b");
  unsorted.Signed(1);
  unsorted.String("a");
  unsorted.Signed(1);
  util::BinaryReader r(unsorted.data());
  absl::Status s = target.DecodeFrom(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("ascending"), std::string::npos) << s;
  util::BinaryWriter zero;
  zero.Varint(1);
  zero.String("a");
  zero.Signed(0);
  util::BinaryReader r0(zero.data());
  EXPECT_EQ(target.DecodeFrom(r0).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(target.count("q"), 4);
  EXPECT_EQ(target.total(), 4);
}

}  // namespace
}  // namespace aiq::stats
