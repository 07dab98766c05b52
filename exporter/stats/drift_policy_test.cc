// Default drift-test selection and decisions, recomputed from the oracle
// datasets' CSV columns and compared with datasets/expected.json (the report
// the `report` command must produce): per-feature statistics, test, score,
// threshold and decision; dataset drift; quality on the current data.
#include "exporter/stats/drift_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <map>
#include <string>
#include <system_error>
#include <vector>

#include "exporter/stats/classification.h"
#include "exporter/stats/oracle_test_util.h"
#include "exporter/testing/oracle_data.h"

namespace aiq::stats {
namespace {

using ::aiq::stats::testing::Near;
using ::aiq::stats::testing::ReadSimpleCsv;
using ::testing::HasSubstr;

bool ParseNumber(const std::string& s, double* v) {
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size();
}

// Non-missing values of a column; numeric when all of them parse.
struct Column {
  bool numeric = true;
  std::vector<double> numbers;
  CategoryCounts categories;
  int64_t missing = 0;
};

Column ReadColumn(const std::vector<std::string>& cells) {
  Column c;
  for (const std::string& s : cells) {
    if (s.empty()) {
      ++c.missing;
      continue;
    }
    double v = 0;
    if (c.numeric && ParseNumber(s, &v)) {
      c.numbers.push_back(v);
    } else {
      c.numeric = false;
    }
    c.categories.Add(s);
  }
  return c;
}

class DatasetDriftTest : public ::testing::TestWithParam<int> {};

TEST_P(DatasetDriftTest, MatchesExpectedReport) {
  nlohmann::json all;
  ASSERT_TRUE(aiq::testdata::LoadOracleJson("datasets/expected.json", &all));
  ASSERT_EQ(all["datasets"].size(), 4u);
  const nlohmann::json& expected =
      all["datasets"][static_cast<size_t>(GetParam())];
  SCOPED_TRACE(expected["reference"].get<std::string>());
  auto ref_csv =
      ReadSimpleCsv("datasets/" + expected["reference"].get<std::string>());
  auto cur_csv =
      ReadSimpleCsv("datasets/" + expected["current"].get<std::string>());
  ASSERT_FALSE(ref_csv.empty() || cur_csv.empty());

  int64_t drifted = 0, total = 0;
  for (const auto& [name, fe] : expected["features"].items()) {
    SCOPED_TRACE(name);
    const Column ref = ReadColumn(ref_csv.at(name));
    const Column cur = ReadColumn(cur_csv.at(name));
    const bool numeric = fe["type"] == "numeric";
    ASSERT_EQ(ref.numeric, numeric);
    EXPECT_PRED_FORMAT2(Near,
                        static_cast<double>(cur.missing) /
                            static_cast<double>(cur_csv.at(name).size()),
                        fe["missing_ratio"].get<double>());
    absl::StatusOr<FeatureReference> fr =
        numeric ? FeatureReference::Numeric(ref.numbers)
                : FeatureReference::Categorical(ref.categories);
    ASSERT_TRUE(fr.ok()) << fr.status();
    absl::StatusOr<FeatureDrift> d = numeric
                                         ? CompareFeature(*fr, cur.numbers)
                                         : CompareFeature(*fr, cur.categories);
    ASSERT_TRUE(d.ok()) << d.status();
    const auto& st = fe["stats"];
    if (numeric) {
      ASSERT_TRUE(d->numeric.has_value());
      EXPECT_PRED_FORMAT2(Near, d->numeric->psi, st["psi"].get<double>());
      EXPECT_PRED_FORMAT2(Near, d->numeric->jensen_shannon,
                          st["jensen_shannon"].get<double>());
      EXPECT_PRED_FORMAT2(Near, d->numeric->wasserstein,
                          st["wasserstein"].get<double>());
      EXPECT_PRED_FORMAT2(Near, d->numeric->wasserstein_normed,
                          st["wasserstein_normed"].get<double>());
      EXPECT_PRED_FORMAT2(Near, d->numeric->ks.statistic,
                          st["ks"]["statistic"].get<double>());
    } else {
      ASSERT_TRUE(d->categorical.has_value());
      EXPECT_PRED_FORMAT2(Near, d->categorical->chi_square.statistic,
                          st["chi_square"]["statistic"].get<double>());
      EXPECT_PRED_FORMAT2(Near, d->categorical->chi_square.p_value,
                          st["chi_square"]["p_value"].get<double>());
      EXPECT_EQ(d->categorical->chi_square.dof,
                st["chi_square"]["dof"].get<int>());
      EXPECT_PRED_FORMAT2(Near, d->categorical->psi, st["psi"].get<double>());
      EXPECT_PRED_FORMAT2(Near, d->categorical->jensen_shannon,
                          st["jensen_shannon"].get<double>());
      EXPECT_EQ(d->categorical->new_categories,
                st["new_categories"].get<std::vector<std::string>>());
    }
    const auto& dr = fe["drift"];
    EXPECT_EQ(DriftTestName(d->drift.test), dr["test"].get<std::string>());
    EXPECT_EQ(d->drift.threshold, dr["threshold"].get<double>());
    // For KS features the score is ks.h's p-value (KsTwoSampleSorted).
    EXPECT_PRED_FORMAT2(Near, d->drift.score, dr["score"].get<double>());
    EXPECT_EQ(d->drift.detected, dr["detected"].get<bool>());
    drifted += d->drift.detected ? 1 : 0;
    ++total;
  }
  const DatasetDrift ds = ComputeDatasetDrift(drifted, total);
  const auto& eds = expected["dataset_drift"];
  EXPECT_EQ(ds.drifted_features, eds["drifted_features"].get<int64_t>());
  EXPECT_EQ(ds.total_features, eds["total_features"].get<int64_t>());
  EXPECT_PRED_FORMAT2(Near, ds.share, eds["share"].get<double>());
  EXPECT_EQ(ds.detected, eds["detected"].get<bool>());

  // Quality: target vs prediction on the current data.
  const auto& t = cur_csv.at(expected["target"].get<std::string>());
  const auto& p = cur_csv.at(expected["prediction"].get<std::string>());
  absl::StatusOr<ClassificationReport> q = EvaluateClassification(t, p);
  ASSERT_TRUE(q.ok()) << q.status();
  const auto& eq = expected["quality"];
  EXPECT_PRED_FORMAT2(Near, q->metrics.accuracy, eq["accuracy"].get<double>());
  EXPECT_PRED_FORMAT2(Near, q->metrics.precision_macro,
                      eq["precision_macro"].get<double>());
  EXPECT_PRED_FORMAT2(Near, q->metrics.recall_macro,
                      eq["recall_macro"].get<double>());
  EXPECT_PRED_FORMAT2(Near, q->metrics.f1_macro, eq["f1_macro"].get<double>());
  EXPECT_PRED_FORMAT2(Near, q->metrics.precision_weighted,
                      eq["precision_weighted"].get<double>());
  EXPECT_PRED_FORMAT2(Near, q->metrics.recall_weighted,
                      eq["recall_weighted"].get<double>());
  EXPECT_PRED_FORMAT2(Near, q->metrics.f1_weighted,
                      eq["f1_weighted"].get<double>());
}

INSTANTIATE_TEST_SUITE_P(OracleDatasets, DatasetDriftTest,
                         ::testing::Range(0, 4));

TEST(ChooseDriftTestTest, DefaultRule) {
  auto test = [](FeatureKind t, int64_t rows, int64_t unique) {
    return ChooseDriftTest(t, rows, unique)->test;
  };
  const FeatureKind num = FeatureKind::kNumeric,
                    cat = FeatureKind::kCategorical;
  EXPECT_EQ(test(num, 1000, 6), DriftTest::kKs);
  EXPECT_EQ(test(num, 1000, 5), DriftTest::kChiSquare);
  EXPECT_EQ(test(num, 1000, 2), DriftTest::kZ);
  EXPECT_EQ(test(cat, 1000, 2), DriftTest::kZ);
  EXPECT_EQ(test(cat, 1000, 3), DriftTest::kChiSquare);
  EXPECT_EQ(test(cat, 1000, 30), DriftTest::kChiSquare);
  EXPECT_EQ(test(num, 1001, 6), DriftTest::kWasserstein);
  EXPECT_EQ(test(num, 1001, 5), DriftTest::kJensenShannon);
  EXPECT_EQ(test(cat, 1001, 2), DriftTest::kJensenShannon);
  EXPECT_TRUE(ChooseDriftTest(num, 1000, 5)->as_categories);
  EXPECT_FALSE(ChooseDriftTest(num, 1000, 6)->as_categories);
  EXPECT_EQ(ChooseDriftTest(num, 10, 10)->threshold, 0.05);
  EXPECT_EQ(ChooseDriftTest(num, 5000, 10)->threshold, 0.1);
}

TEST(ChooseDriftTestTest, Overrides) {
  DriftTestOverride o;
  o.test = DriftTest::kPsi;
  o.threshold = 0.2;
  DriftTestChoice c = *ChooseDriftTest(FeatureKind::kNumeric, 10, 100, o);
  EXPECT_EQ(c.test, DriftTest::kPsi);
  EXPECT_EQ(c.threshold, 0.2);
  EXPECT_FALSE(c.as_categories);
  o.test = DriftTest::kKs;
  absl::StatusOr<DriftTestChoice> bad =
      ChooseDriftTest(FeatureKind::kCategorical, 10, 3, o);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("numeric"));
  o.test = DriftTest::kChiSquare;
  o.threshold.reset();
  c = *ChooseDriftTest(FeatureKind::kNumeric, 5000, 100, o);
  EXPECT_TRUE(c.as_categories);
  EXPECT_EQ(c.threshold, 0.05);
}

TEST(ChooseDriftTestTest, BooleansAreTestedAsCategories) {
  const FeatureKind b = FeatureKind::kBoolean;
  EXPECT_EQ(ChooseDriftTest(b, 1000, 2)->test, DriftTest::kZ);
  EXPECT_TRUE(ChooseDriftTest(b, 1000, 2)->as_categories);
  EXPECT_EQ(ChooseDriftTest(b, 1001, 2)->test, DriftTest::kJensenShannon);
  DriftTestOverride o;
  o.test = DriftTest::kWasserstein;
  absl::StatusOr<DriftTestChoice> bad = ChooseDriftTest(b, 10, 2, o);
  EXPECT_EQ(bad.status().message(),
            "drift test \"wasserstein\" needs a numeric feature; this one is "
            "boolean");
}

TEST(FeatureKindTest, WireNames) {
  EXPECT_STREQ(FeatureKindName(FeatureKind::kNumeric), "numeric");
  EXPECT_STREQ(FeatureKindName(FeatureKind::kCategorical), "categorical");
  EXPECT_STREQ(FeatureKindName(FeatureKind::kBoolean), "boolean");
  EXPECT_EQ(kFeatureKindNames.Parse("boolean"), FeatureKind::kBoolean);
  EXPECT_EQ(kFeatureKindNames.size(), 3u);
}

TEST(DriftDecisionTest, DirectionsAndNames) {
  EXPECT_TRUE(IsDrift(DriftTest::kKs, 0.05, 0.05));
  EXPECT_FALSE(IsDrift(DriftTest::kZ, 0.05, 0.05));
  EXPECT_FALSE(IsDrift(DriftTest::kChiSquare, 0.05, 0.05));
  EXPECT_TRUE(IsDrift(DriftTest::kWasserstein, 0.1, 0.1));
  EXPECT_TRUE(IsDrift(DriftTest::kJensenShannon, 0.1, 0.1));
  EXPECT_FALSE(IsDrift(DriftTest::kPsi, 0.09, 0.1));
  for (DriftTest t :
       {DriftTest::kKs, DriftTest::kZ, DriftTest::kChiSquare,
        DriftTest::kWasserstein, DriftTest::kJensenShannon, DriftTest::kPsi}) {
    EXPECT_EQ(*ParseDriftTest(DriftTestName(t)), t);
  }
  EXPECT_EQ(ParseDriftTest("anderson").status().message(),
            "unknown drift test \"anderson\" (expected one of ks, z, "
            "chi_square, wasserstein, jensen_shannon, psi)");
  EXPECT_EQ(kDriftTestNames.size(), 6u);
}

TEST(DatasetDriftRuleTest, ShareRule) {
  EXPECT_TRUE(ComputeDatasetDrift(3, 6).detected);
  EXPECT_FALSE(ComputeDatasetDrift(2, 6).detected);
  EXPECT_FALSE(ComputeDatasetDrift(0, 0).detected);
  EXPECT_TRUE(ComputeDatasetDrift(1, 4, 0.25).detected);
}

TEST(FeatureReferenceTest, Errors) {
  std::vector<double> empty;
  EXPECT_EQ(FeatureReference::Numeric(empty).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(FeatureReference::Categorical(CategoryCounts()).ok());
  std::vector<double> ref = {1, 2, 3, 4, 5, 6, 7};
  FeatureReference fr = *FeatureReference::Numeric(ref);
  EXPECT_FALSE(fr.HasCategory("1"));  // a numeric test: no categories
  CategoryCounts cats;
  cats.Add("a");
  EXPECT_TRUE(FeatureReference::Categorical(cats)->HasCategory("a"));
  EXPECT_FALSE(FeatureReference::Categorical(cats)->HasCategory("b"));
  EXPECT_FALSE(CompareFeature(fr, cats).ok());  // type mismatch
  std::vector<double> nan = {std::nan("")};
  EXPECT_FALSE(CompareFeature(fr, nan).ok());
  EXPECT_FALSE(CompareFeature(fr, empty).ok());
}

TEST(FeatureReferenceTest, NumericWithFewValuesUsesCategories) {
  std::vector<double> ref = {1, 2, 2, 3, 3, 3}, cur = {1, 1, 1, 3, 4};
  FeatureReference fr = *FeatureReference::Numeric(ref);
  EXPECT_EQ(fr.choice().test, DriftTest::kChiSquare);
  EXPECT_TRUE(fr.choice().as_categories);
  EXPECT_EQ(fr.categories().count("2"), 2);
  EXPECT_TRUE(fr.HasCategory("2"));
  EXPECT_FALSE(fr.HasCategory("4"));
  FeatureDrift d = *CompareFeature(fr, cur);
  ASSERT_TRUE(d.numeric.has_value());  // numeric stats still reported
  EXPECT_FALSE(d.categorical.has_value());
  // Same as the categorical test over value keys.
  CategoryCounts c;
  for (double v : cur) c.Add(NumericCategoryKey(v));
  EXPECT_EQ(d.drift.score,
            CompareCategories(fr.categories(), c, CategoryOrder::kNumeric)
                ->chi_square.p_value);
}

}  // namespace
}  // namespace aiq::stats
