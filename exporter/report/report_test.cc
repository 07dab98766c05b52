// The report against the oracle (testdata/oracle/datasets/expected.json,
// computed with scipy/sklearn, docs/testdata.md), value by value, plus
// BuildReport's edge cases on in-memory datasets.
#include "exporter/report/report.h"

#include <cmath>
#include <random>
#include <sstream>
#include <string>

#include "exporter/report/report_command.h"
#include "exporter/report/report_html.h"
#include "exporter/report/report_json.h"
#include "exporter/testing/oracle_data.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace aiq::report {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kDatasets = testdata::OraclePath("datasets");

std::string Basename(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// Tolerances: statistics and exact p-values 1e-9 relative (or 1e-12
// absolute); asymptotic p-values (chi-square, z, KS in asymp mode) 1e-6.
struct Comparer {
  int compared = 0;

  void Compare(const Json& want, const Json& got, const std::string& path,
               double rel) {
    if (want.is_object()) {
      ASSERT_TRUE(got.is_object()) << path << ": want object, got " << got;
      std::vector<std::string> wk, gk;
      for (const auto& [k, v] : want.items()) wk.push_back(k);
      for (const auto& [k, v] : got.items()) gk.push_back(k);
      EXPECT_EQ(gk, wk) << path << ": keys (and their order) differ";
      for (const auto& [k, v] : want.items()) {
        if (!got.contains(k)) continue;
        Compare(v, got[k], path + "/" + k, ToleranceFor(want, k, rel));
      }
      return;
    }
    if (want.is_array()) {
      ASSERT_TRUE(got.is_array()) << path;
      ASSERT_EQ(got.size(), want.size()) << path;
      for (size_t i = 0; i < want.size(); ++i) {
        Compare(want[i], got[i], path + "/" + std::to_string(i), rel);
      }
      return;
    }
    ++compared;
    if (want.is_number_float()) {
      ASSERT_TRUE(got.is_number()) << path << ": got " << got;
      const double w = want.get<double>(), g = got.get<double>();
      const double tol = std::max(1e-12, rel * std::fabs(w));
      EXPECT_NEAR(g, w, tol) << path << " (relative tolerance " << rel << ")";
      return;
    }
    if (want.is_number_integer()) {
      // Python writes 0.0 for float zeros, so integers are counts or dof.
      ASSERT_TRUE(got.is_number_integer()) << path << ": got " << got;
      EXPECT_EQ(got.get<int64_t>(), want.get<int64_t>()) << path;
      return;
    }
    EXPECT_EQ(got, want) << path;
  }

  static double ToleranceFor(const Json& parent, const std::string& key,
                             double inherited) {
    constexpr double kExact = 1e-9, kAsymptotic = 1e-6;
    if (key == "chi_square") return kAsymptotic;  // its p-value
    if (key == "p_value" && parent.contains("mode")) {
      return parent["mode"] == "asymp" ? kAsymptotic : kExact;
    }
    if (key == "score" && parent.contains("test")) {
      const std::string t = parent["test"];
      return t == "chi_square" || t == "z" ? kAsymptotic : kExact;
    }
    return inherited;
  }
};

class OracleTest : public ::testing::TestWithParam<int> {};

TEST_P(OracleTest, ReportMatchesExpectedJson) {
  Json expected;
  ASSERT_TRUE(testdata::LoadOracleJson("datasets/expected.json", &expected));
  ASSERT_EQ(expected["datasets"].size(), 4u);
  const Json& want = expected["datasets"][static_cast<size_t>(GetParam())];
  ASSERT_TRUE(testdata::OracleFilesExist(
      {"datasets/" + want["reference"].get<std::string>(),
       "datasets/" + want["current"].get<std::string>()}));
  std::vector<std::string> args = {
      "--reference", kDatasets + "/" + want["reference"].get<std::string>(),
      "--current", kDatasets + "/" + want["current"].get<std::string>()};
  if (want.contains("target") && !want["target"].is_null()) {
    args.insert(args.end(), {"--target", want["target"]});
  }
  if (want.contains("prediction") && !want["prediction"].is_null()) {
    args.insert(args.end(), {"--prediction", want["prediction"]});
  }
  std::ostringstream out, err;
  ASSERT_EQ(RunReportCommand(args, out, err), 0) << err.str();
  Json got = Json::parse(out.str());
  // The command echoes the paths it was given; the oracle lists names.
  got["reference"] = Basename(got["reference"]);
  got["current"] = Basename(got["current"]);
  Comparer c;
  c.Compare(want, got, want["reference"].get<std::string>(), 1e-9);
  EXPECT_GT(c.compared, 80);
}

INSTANTIATE_TEST_SUITE_P(Datasets, OracleTest, ::testing::Range(0, 4));

TEST(OracleTest, ExpectedJsonHasFourDatasets) {
  Json expected;
  ASSERT_TRUE(testdata::LoadOracleJson("datasets/expected.json", &expected));
  EXPECT_EQ(expected["datasets"].size(), 4u);
}

// In-memory datasets for the edge cases.
data::Dataset Numeric(std::string name, const std::vector<double>& v,
                      std::string source) {
  data::Dataset ds(std::move(source));
  ds.AddNumeric(std::move(name), v);
  return ds;
}

std::vector<double> Ramp(int n, double offset) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(offset + i * 0.37);
  return v;
}

TEST(BuildReportTest, NewCategoriesAndMissingRatio) {
  data::Dataset ref("ref"), cur("cur");
  ref.AddCategorical("c", {"a", "b", "a", "b", "a", "b"});
  cur.AddCategorical("c", {"a", "b", "zz", "", "a", "zz"});
  absl::StatusOr<Report> r = BuildReport(ref, cur, {});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->features.size(), 1u);
  const FeatureReport& f = r->features[0];
  EXPECT_DOUBLE_EQ(f.missing_ratio, 1.0 / 6);
  ASSERT_TRUE(f.categorical);
  EXPECT_THAT(f.categorical->new_categories, ElementsAre("zz"));
  EXPECT_EQ(f.current_values, 5);
  ASSERT_TRUE(f.drift);
  EXPECT_EQ(f.drift->test, stats::DriftTest::kZ);  // 2 reference categories
  EXPECT_FALSE(r->quality);
}

// BuildReport sorts with its own radix sort and calls the sorted-input
// statistics; the result must be what stats::CompareFeature gives.
TEST(BuildReportTest, SameAsStatsCompareFeature) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0, 1e3);
  for (const bool few_values : {false, true}) {
    std::vector<double> r, c;
    for (int i = 0; i < 3000; ++i) {
      double x = normal(rng);
      if (few_values) x = std::round(x / 1e3);  // ties, -0.0, 0.0
      if (i % 97 == 0) x = -0.0;
      r.push_back(x);
      c.push_back(few_values ? x + (i % 3 == 0) : x * 1.1 + 50);
    }
    data::Dataset ref = Numeric("x", r, "ref");
    data::Dataset cur = Numeric("x", c, "cur");
    absl::StatusOr<Report> rep = BuildReport(ref, cur, {});
    ASSERT_TRUE(rep.ok()) << rep.status();
    absl::StatusOr<stats::FeatureReference> fr =
        stats::FeatureReference::Numeric(r);
    ASSERT_TRUE(fr.ok());
    absl::StatusOr<stats::FeatureDrift> want = stats::CompareFeature(*fr, c);
    ASSERT_TRUE(want.ok());
    const FeatureReport& f = rep->features[0];
    ASSERT_TRUE(f.numeric && f.drift);
    EXPECT_EQ(f.numeric->ks.statistic, want->numeric->ks.statistic);
    EXPECT_EQ(f.numeric->ks.p_value, want->numeric->ks.p_value);
    EXPECT_EQ(f.numeric->psi, want->numeric->psi);
    EXPECT_EQ(f.numeric->jensen_shannon, want->numeric->jensen_shannon);
    EXPECT_EQ(f.numeric->wasserstein, want->numeric->wasserstein);
    EXPECT_EQ(f.drift->test, want->drift.test);
    EXPECT_EQ(f.drift->score, want->drift.score);
    EXPECT_EQ(f.drift->detected, want->drift.detected);
  }
}

TEST(BuildReportTest, FeatureWithoutCurrentValuesIsNotTested) {
  data::Dataset ref = Numeric("x", Ramp(50, 0), "ref");
  data::Dataset cur =
      Numeric("x", std::vector<double>(10, std::nan("")), "cur");
  absl::StatusOr<Report> r = BuildReport(ref, cur, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->features[0].drift);
  EXPECT_FALSE(r->features[0].numeric);
  EXPECT_EQ(r->features[0].missing_ratio, 1.0);
  EXPECT_THAT(r->features[0].note, HasSubstr("no values"));
  EXPECT_EQ(r->dataset_drift.total_features, 1);
  EXPECT_EQ(r->dataset_drift.drifted_features, 0);
  const Json j = Json::parse(RenderJson(*r));
  EXPECT_TRUE(j["features"]["x"]["drift"].is_null());
  EXPECT_TRUE(j["features"]["x"]["stats"].is_null());
  EXPECT_THAT(RenderHtml(*r), HasSubstr("not tested"));
}

TEST(BuildReportTest, OverridesChangeTestAndThreshold) {
  data::Dataset ref = Numeric("x", Ramp(200, 0), "ref");
  data::Dataset cur = Numeric("x", Ramp(200, 5), "cur");
  ReportOptions opts;
  opts.features["x"].test = stats::DriftTest::kPsi;
  opts.features["x"].threshold = 123.0;
  absl::StatusOr<Report> r = BuildReport(ref, cur, opts);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->features[0].drift);
  EXPECT_EQ(r->features[0].drift->test, stats::DriftTest::kPsi);
  EXPECT_EQ(r->features[0].drift->threshold, 123.0);
  EXPECT_EQ(r->features[0].drift->score, r->features[0].numeric->psi);
  EXPECT_FALSE(r->features[0].drift->detected);
}

// threshold: auto in a report: chunks of the current column's size (at
// most half the reference), the same threshold stats computes, in the
// JSON; a reference too small for two chunks of ten is an error.
TEST(BuildReportTest, AutoThresholdIsCalibratedFromTheReference) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> normal;
  std::vector<double> r(1000), c(300);
  for (double& v : r) v = normal(rng);
  for (double& v : c) v = normal(rng);
  data::Dataset ref = Numeric("x", r, "ref");
  data::Dataset cur = Numeric("x", c, "cur");
  ReportOptions opts;
  opts.features["x"].threshold_auto = true;  // the default test: KS
  absl::StatusOr<Report> rep = BuildReport(ref, cur, opts);
  ASSERT_TRUE(rep.ok()) << rep.status();
  ASSERT_TRUE(rep->features[0].drift);
  stats::FeatureReference expected = *stats::FeatureReference::Numeric(r);
  ASSERT_TRUE(expected.CalibrateThreshold(300).ok());
  EXPECT_EQ(rep->features[0].drift->test, stats::DriftTest::kKs);
  EXPECT_EQ(rep->features[0].drift->threshold, expected.choice().threshold);
  EXPECT_LT(rep->features[0].drift->threshold, 0.05);
  const Json j = Json::parse(RenderJson(*rep));
  EXPECT_EQ(j["features"]["x"]["drift"]["threshold"].get<double>(),
            expected.choice().threshold);

  // A current column larger than half the reference: chunks of 500.
  std::vector<double> big(800);
  for (double& v : big) v = normal(rng);
  opts.features["x"].test = stats::DriftTest::kWasserstein;
  rep = BuildReport(ref, Numeric("x", big, "cur"), opts);
  ASSERT_TRUE(rep.ok()) << rep.status();
  stats::DriftTestOverride w;
  w.test = stats::DriftTest::kWasserstein;
  expected = *stats::FeatureReference::Numeric(r, w);
  ASSERT_TRUE(expected.CalibrateThreshold(500).ok());
  EXPECT_EQ(rep->features[0].drift->threshold, expected.choice().threshold);

  // Categorical features too.
  data::Dataset cref("ref"), ccur("cur");
  std::vector<std::string> rv, cv;
  for (int i = 0; i < 400; ++i) rv.push_back(i % 3 == 0 ? "a" : "b");
  for (int i = 0; i < 100; ++i) cv.push_back(i % 2 == 0 ? "a" : "b");
  cref.AddCategorical("c", rv);
  ccur.AddCategorical("c", cv);
  ReportOptions copts;
  copts.features["c"].threshold_auto = true;
  rep = BuildReport(cref, ccur, copts);
  ASSERT_TRUE(rep.ok()) << rep.status();
  stats::CategoryCounts counts;
  counts.Add("a", 134);
  counts.Add("b", 266);
  expected = *stats::FeatureReference::Categorical(counts);
  ASSERT_TRUE(expected.CalibrateThreshold(100).ok());
  EXPECT_EQ(rep->features[0].drift->test, stats::DriftTest::kZ);
  EXPECT_EQ(rep->features[0].drift->threshold, expected.choice().threshold);

  // Too small: 15 reference values cannot hold two chunks of 10.
  opts.features["x"].test.reset();
  EXPECT_EQ(BuildReport(Numeric("x", Ramp(15, 0), "ref"),
                        Numeric("x", Ramp(15, 0), "cur"), opts)
                .status()
                .message(),
            "feature \"x\": drift_threshold: auto: calibration chunks of 7 "
            "values are too small (at least 10)");
}

TEST(BuildReportTest, BadOverridesAreErrors) {
  data::Dataset ref("ref"), cur("cur");
  ref.AddCategorical("c", {"a", "b"});
  cur.AddCategorical("c", {"a", "b"});
  ReportOptions opts;
  opts.features["c"].test = stats::DriftTest::kKs;
  EXPECT_THAT(BuildReport(ref, cur, opts).status().message(),
              HasSubstr("\"c\" is categorical"));
  ReportOptions unknown;
  unknown.features["nope"].threshold = 0.3;
  EXPECT_THAT(BuildReport(ref, cur, unknown).status().message(),
              HasSubstr("no column \"nope\""));
}

TEST(BuildReportTest, SchemaMismatchesAreErrors) {
  data::Dataset ref = Numeric("x", Ramp(10, 0), "ref.csv");
  data::Dataset cur("cur.csv");
  cur.AddNumeric("y", Ramp(10, 0));
  EXPECT_EQ(BuildReport(ref, cur, {}).status().message(),
            "cur.csv: no column \"x\" (it is in ref.csv)");
  data::Dataset cur2("cur.csv");
  cur2.AddCategorical("x", {"a"});
  EXPECT_EQ(BuildReport(ref, cur2, {}).status().message(),
            "cur.csv: column \"x\" is categorical but numeric in ref.csv");
}

TEST(BuildReportTest, RegressionQuality) {
  data::Dataset ref("ref"), cur("cur");
  ref.AddNumeric("x", Ramp(20, 0));
  ref.AddNumeric("y", Ramp(20, 1));
  ref.AddNumeric("yhat", Ramp(20, 1.1));
  cur.AddNumeric("x", Ramp(4, 0));
  cur.AddNumeric("y", {3, -0.5, 2, 7});
  cur.AddNumeric("yhat", {2.5, 0.0, 2, 8});
  ReportOptions opts;
  opts.target = "y";
  opts.prediction = "yhat";
  absl::StatusOr<Report> r = BuildReport(ref, cur, opts);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->features.size(), 1u);  // target and prediction are not features
  ASSERT_TRUE(r->quality);
  EXPECT_EQ(r->quality->task, QualityTask::kRegression);
  // sklearn: mean_absolute_error([3,-0.5,2,7],[2.5,0,2,8]) == 0.5,
  // mean_squared_error == 0.375, r2_score == 0.9486081370449679.
  EXPECT_DOUBLE_EQ(r->quality->regression.mae, 0.5);
  EXPECT_DOUBLE_EQ(r->quality->regression.mse, 0.375);
  EXPECT_NEAR(r->quality->regression.r2, 0.9486081370449679, 1e-12);
  const Json j = Json::parse(RenderJson(*r));
  std::vector<std::string> keys;
  for (const auto& [k, v] : j["quality"].items()) keys.push_back(k);
  EXPECT_THAT(keys, ElementsAre("mae", "mse", "rmse", "r2", "mape"));
}

TEST(BuildReportTest, IntegerLabelsAreClassification) {
  data::Dataset ref("ref"), cur("cur");
  ref.AddNumeric("x", Ramp(6, 0));
  cur.AddNumeric("x", Ramp(6, 0));
  cur.AddNumeric("t", {0, 1, 1, 0, 1, 1});
  cur.AddNumeric("p", {0, 1, 0, 0, 1, 1});
  ReportOptions opts;
  opts.target = "t";
  opts.prediction = "p";
  absl::StatusOr<Report> r = BuildReport(ref, cur, opts);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->quality);
  EXPECT_EQ(r->quality->task, QualityTask::kClassification);
  EXPECT_DOUBLE_EQ(r->quality->classification.accuracy, 5.0 / 6);
}

TEST(BuildReportTest, UnknownTargetIsAnError) {
  data::Dataset ref = Numeric("x", Ramp(10, 0), "ref");
  data::Dataset cur = Numeric("x", Ramp(10, 0), "cur.csv");
  ReportOptions opts;
  opts.target = "label";
  opts.prediction = "x";
  EXPECT_EQ(BuildReport(ref, cur, opts).status().message(),
            "--target: no column \"label\" in cur.csv");
}

TEST(RenderHtmlTest, EscapesEverythingFromTheData) {
  data::Dataset ref("<ref>.csv"), cur("cur&.csv");
  ref.AddCategorical("<script>alert(1)</script>",
                     {"<img src=x>", "\"q\"", "<img src=x>"});
  cur.AddCategorical("<script>alert(1)</script>",
                     {"<img src=x>", "'s'", "<img src=x>"});
  absl::StatusOr<Report> r = BuildReport(ref, cur, {});
  ASSERT_TRUE(r.ok()) << r.status();
  const std::string html = RenderHtml(*r);
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, HasSubstr("&lt;img src=x&gt;"));
  EXPECT_THAT(html, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
  EXPECT_THAT(html, HasSubstr("&lt;ref&gt;.csv"));
  EXPECT_THAT(html, HasSubstr("cur&amp;.csv"));
  EXPECT_THAT(html, Not(HasSubstr("http://")));
  EXPECT_THAT(html, Not(HasSubstr("https://")));
}

}  // namespace
}  // namespace aiq::report
