#include "exporter/model/drift_window.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "exporter/config/config_loader.h"
#include "exporter/data/csv.h"
#include "exporter/stats/ks.h"
#include "exporter/testing/oracle_data.h"

namespace aiq::model {
namespace {

using nlohmann::json;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

config::ModelConfig OracleModel(int64_t min_samples = 1) {
  std::vector<config::ConfigError> errors;
  config::Config c = *config::ParseConfig(R"(
models:
  - name: churn
    classes: [churn, stay]
    features:
      - {name: income}
      - {name: age}
      - {name: score}
      - {name: rooms}
      - {name: plan, type: categorical}
      - {name: channel, type: categorical}
    reference: {csv: x.csv, target: target, prediction: prediction}
)",
                                          "t", errors);
  config::ModelConfig m = c.models[0];
  m.window.min_samples = min_samples;
  return m;
}

void ExpectNear(double actual, double expected, const std::string& what) {
  const double tol = std::max(1e-12, 1e-9 * std::abs(expected));
  EXPECT_NEAR(actual, expected, tol) << what;
}

// Feeds a dataset's current rows as events into one bucket, as the
// exporter does, and checks every statistic against the batch oracle.
TEST(DriftWindowTest, StreamingEqualsBatchOnEveryOracleDataset) {
  json expected;
  ASSERT_TRUE(testdata::LoadOracleJson("datasets/expected.json", &expected));
  ASSERT_EQ(expected["datasets"].size(), 4u);
  const config::ModelConfig model = OracleModel();
  for (const json& ds : expected["datasets"]) {
    SCOPED_TRACE(ds["reference"].get<std::string>());
    const std::string ref_file =
        "datasets/" + ds["reference"].get<std::string>();
    const std::string cur_file = "datasets/" + ds["current"].get<std::string>();
    ASSERT_TRUE(testdata::OracleFilesExist({ref_file, cur_file}));
    absl::StatusOr<data::Dataset> ref_csv = data::ReadCsvFile(
        testdata::OraclePath(ref_file), ReferenceCsvOptions(model));
    ASSERT_TRUE(ref_csv.ok()) << ref_csv.status();
    absl::StatusOr<std::shared_ptr<const ModelReference>> ref =
        ModelReference::Build(model, *ref_csv);
    ASSERT_TRUE(ref.ok()) << ref.status();
    absl::StatusOr<data::Dataset> cur = data::ReadCsvFile(
        testdata::OraclePath(cur_file), ReferenceCsvOptions(model));
    ASSERT_TRUE(cur.ok()) << cur.status();

    DriftWindow window(model, *ref, 100, /*seed=*/7);
    std::vector<const data::Column*> cols;
    for (const auto& f : model.features) cols.push_back(cur->Find(f.name));
    const data::Column* pred = cur->Find("prediction");
    std::vector<DriftInput> inputs(cols.size());
    for (size_t row = 0; row < cur->num_rows(); ++row) {
      std::vector<std::string> text(cols.size());
      for (size_t f = 0; f < cols.size(); ++f) {
        const data::Column& c = *cols[f];
        if (c.IsMissing(row)) {
          inputs[f] = DriftInput{};
        } else if (c.type == stats::FeatureKind::kNumeric) {
          inputs[f] = DriftInput::Number(c.numbers[row]);
        } else {
          text[f] = c.ValueAsString(row);
          inputs[f] = DriftInput::Category(text[f]);
        }
      }
      const std::string p = pred->ValueAsString(row);
      window.Add(kT0, inputs, DriftInput::Category(p), std::nullopt);
    }
    const WindowDrift d =
        ComputeDrift(**ref, model, window.Collect(kT0 + absl::Seconds(1)));
    EXPECT_EQ(d.predictions, ds["rows"]["current"].get<int64_t>());
    for (const ChannelDrift& f : d.features) {
      SCOPED_TRACE(f.name);
      const json& e = ds["features"][f.name];
      ASSERT_TRUE(f.error.empty()) << f.error;
      ExpectNear(*f.missing_ratio, e["missing_ratio"], "missing_ratio");
      const json& s = e["stats"];
      if (e["type"] == "numeric") {
        ASSERT_TRUE(f.numeric_stats.has_value());
        EXPECT_FALSE(f.sampled);
        ExpectNear(f.numeric_stats->ks.statistic, s["ks"]["statistic"], "ks");
        ExpectNear(f.numeric_stats->ks.p_value, s["ks"]["p_value"], "ks p");
        ExpectNear(f.numeric_stats->psi, s["psi"], "psi");
        ExpectNear(f.numeric_stats->jensen_shannon, s["jensen_shannon"], "js");
        ExpectNear(f.numeric_stats->wasserstein, s["wasserstein"], "w");
        ExpectNear(f.numeric_stats->wasserstein_normed, s["wasserstein_normed"],
                   "wn");
      } else {
        ASSERT_TRUE(f.categorical_stats.has_value());
        ExpectNear(f.categorical_stats->chi_square.statistic,
                   s["chi_square"]["statistic"], "chi2");
        ExpectNear(f.categorical_stats->chi_square.p_value,
                   s["chi_square"]["p_value"], "chi2 p");
        EXPECT_EQ(f.categorical_stats->chi_square.dof, s["chi_square"]["dof"]);
        ExpectNear(f.categorical_stats->psi, s["psi"], "psi");
        ExpectNear(f.categorical_stats->jensen_shannon, s["jensen_shannon"],
                   "js");
        EXPECT_EQ(json(f.categorical_stats->new_categories),
                  s["new_categories"]);
      }
      ASSERT_TRUE(f.decision.has_value());
      EXPECT_EQ(std::string(stats::DriftTestName(f.decision->test)),
                e["drift"]["test"]);
      ExpectNear(f.decision->score, e["drift"]["score"], "drift score");
      EXPECT_EQ(f.decision->threshold, e["drift"]["threshold"]);
      EXPECT_EQ(f.decision->detected, e["drift"]["detected"]);
    }
    ASSERT_TRUE(d.dataset.has_value());
    EXPECT_EQ(d.dataset->drifted_features,
              ds["dataset_drift"]["drifted_features"]);
    EXPECT_EQ(d.dataset->total_features, ds["dataset_drift"]["total_features"]);
    EXPECT_EQ(d.dataset->detected, ds["dataset_drift"]["detected"]);
    ASSERT_TRUE(d.prediction.has_value());
    EXPECT_TRUE(d.prediction->decision.has_value());
  }
}

config::ModelConfig OneFeature(int64_t max_exact, int64_t min_samples) {
  std::vector<config::ConfigError> errors;
  config::Config c = *config::ParseConfig(
      "models: [{name: m, task: regression, features: [x]}]\n", "t", errors);
  config::ModelConfig m = c.models[0];
  m.window.duration = absl::Hours(1);
  m.window.buckets = 4;
  m.window.max_exact_samples = max_exact;
  m.window.min_samples = min_samples;
  return m;
}

std::shared_ptr<const ModelReference> NormalReference(
    const config::ModelConfig& m, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> x(static_cast<size_t>(n));
  for (double& v : x) v = normal(rng);
  data::Dataset ds("ref");
  ds.AddNumeric("x", x);
  return *ModelReference::Build(m, ds);
}

// Beyond max_exact_samples the window keeps a uniform sample; KS's D from
// it stays within the DKW bound of D over the full window.
TEST(DriftWindowTest, SampledKsWithinDkwBound) {
  const int64_t kMax = 2000;
  const config::ModelConfig m = OneFeature(kMax, 100);
  const auto ref = NormalReference(m, 5000, 1);
  // sqrt(ln(2/alpha) / (2m)) at alpha = 1e-3 for the sample, plus the same
  // for nothing on the full side (it is exact): ~0.0436 at m = 2000.
  const double bound = std::sqrt(std::log(2 / 1e-3) / (2.0 * kMax));
  int within = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    DriftWindow w(m, ref, 100, seed);
    std::mt19937_64 rng(100 + seed);
    std::normal_distribution<double> shifted(0.1, 1.2);
    std::vector<double> all;
    for (int i = 0; i < 40000; ++i) {
      const double v = shifted(rng);
      all.push_back(v);
      const DriftInput in = DriftInput::Number(v);
      // Spread over the window's 4 buckets (15 minutes each).
      w.Add(kT0 + absl::Minutes(i * 59 / 40000), {&in, 1}, DriftInput{},
            std::nullopt);
    }
    const DriftInputs inputs = w.Collect(kT0 + absl::Minutes(59));
    const ChannelInputs& x = inputs.features[0];
    EXPECT_TRUE(x.sampled);
    EXPECT_EQ(x.total, 40000);
    EXPECT_LE(static_cast<int64_t>(x.values.size()), kMax);
    EXPECT_GE(static_cast<int64_t>(x.values.size()), kMax * 8 / 10);
    const double d_full =
        stats::KsTwoSample(ref->features()[0].reference.numeric().sorted, all)
            ->statistic;
    const double d_sample =
        stats::KsTwoSample(ref->features()[0].reference.numeric().sorted,
                           x.values)
            ->statistic;
    if (std::abs(d_full - d_sample) <= bound) ++within;
    // The window's drift uses the sample, with the asymptotic p-value.
    const WindowDrift drift = ComputeDrift(*ref, m, inputs);
    ASSERT_TRUE(drift.features[0].numeric_stats.has_value());
    EXPECT_EQ(drift.features[0].numeric_stats->ks.mode,
              stats::KsMode::kAsymptotic);
    EXPECT_NEAR(drift.features[0].numeric_stats->ks.statistic, d_sample, 1e-12);
    // PSI stays exact: bins count every value, sampled or not.
    int64_t binned = 0;
    for (int64_t c : x.bins) binned += c;
    EXPECT_EQ(binned, 40000);
  }
  EXPECT_EQ(within, 20);
}

TEST(DriftWindowTest, ExactUpToTheLimit) {
  const config::ModelConfig m = OneFeature(1000, 10);
  DriftWindow w(m, NormalReference(m, 500, 2), 100, 3);
  for (int i = 0; i < 1000; ++i) {
    const DriftInput in = DriftInput::Number(i);
    w.Add(kT0, {&in, 1}, DriftInput{}, std::nullopt);
  }
  DriftInputs in = w.Collect(kT0);
  EXPECT_FALSE(in.features[0].sampled);
  EXPECT_EQ(in.features[0].values.size(), 1000u);
}

TEST(DriftWindowTest, ExpiryAndMinSamples) {
  const config::ModelConfig m = OneFeature(1000, 50);
  const auto ref = NormalReference(m, 500, 4);
  DriftWindow w(m, ref, 100, 5);
  auto add = [&](absl::Time t, int n) {
    for (int i = 0; i < n; ++i) {
      const DriftInput in = DriftInput::Number(0.01 * i);
      w.Add(t, {&in, 1}, DriftInput{}, std::nullopt);
    }
  };
  add(kT0, 30);
  WindowDrift d = ComputeDrift(*ref, m, w.Collect(kT0));
  EXPECT_FALSE(d.features[0].decision.has_value());  // 30 < min_samples
  EXPECT_FALSE(d.features[0].missing_ratio.has_value());
  EXPECT_FALSE(d.dataset.has_value());
  add(kT0 + absl::Minutes(20), 30);
  d = ComputeDrift(*ref, m, w.Collect(kT0 + absl::Minutes(20)));
  ASSERT_TRUE(d.features[0].decision.has_value());
  EXPECT_EQ(d.features[0].present, 60);
  EXPECT_EQ(*d.features[0].missing_ratio, 0.0);
  // 60 minutes later the first bucket has aged out: 30 left, absent again.
  const uint64_t stamp = w.Stamp(kT0 + absl::Minutes(20));
  d = ComputeDrift(*ref, m, w.Collect(kT0 + absl::Minutes(61)));
  EXPECT_EQ(d.features[0].present, 30);
  EXPECT_FALSE(d.features[0].decision.has_value());
  EXPECT_NE(w.Stamp(kT0 + absl::Minutes(61)), stamp);
}

TEST(DriftWindowTest, MissingOutOfRangeAndNewCategories) {
  std::vector<config::ConfigError> errors;
  config::ModelConfig m =
      config::ParseConfig(
          "models: [{name: m, task: regression, features: [x, {name: c, "
          "type: categorical}]}]\n",
          "t", errors)
          ->models[0];
  m.window.min_samples = 1;
  data::Dataset ds("ref");
  ds.AddNumeric("x", {1, 2, 3, 4});
  ds.AddCategorical("c", {"a", "b", "a", "b"});
  auto ref = *ModelReference::Build(m, ds);
  DriftWindow w(m, ref, 2, 1);
  const std::vector<std::vector<DriftInput>> events = {
      {DriftInput::Number(2), DriftInput::Category("a")},
      {DriftInput::Number(9), DriftInput::Category("z")},
      {DriftInput{}, DriftInput::Category("y")},
      {DriftInput::Number(0), DriftInput{}},
  };
  for (const auto& e : events) w.Add(kT0, e, DriftInput{}, std::nullopt);
  WindowDrift d = ComputeDrift(*ref, m, w.Collect(kT0));
  EXPECT_EQ(*d.features[0].missing_ratio, 0.25);
  EXPECT_DOUBLE_EQ(*d.features[0].out_of_range_ratio, 2.0 / 3.0);
  EXPECT_EQ(*d.features[1].missing_ratio, 0.25);
  EXPECT_DOUBLE_EQ(*d.features[1].new_category_ratio, 2.0 / 3.0);
  // Category cap of 2 per bucket: "y" was folded into the overflow key.
  EXPECT_EQ(d.features[1].categorical_stats->new_categories,
            (std::vector<std::string>{"__other__", "z"}));
}

TEST(DriftWindowTest, MemoryIsBoundedWhateverTheTraffic) {
  const config::ModelConfig m = OneFeature(5000, 10);
  DriftWindow w(m, NormalReference(m, 500, 6), 100, 7);
  for (int i = 0; i < 2'000'000; ++i) {
    const DriftInput in = DriftInput::Number(i % 1000);
    w.Add(kT0 + absl::Seconds(i / 500), {&in, 1}, DriftInput{}, std::nullopt);
  }
  DriftInputs in = w.Collect(kT0 + absl::Seconds(4000));
  EXPECT_LE(in.features[0].values.size(), 5000u);
  EXPECT_TRUE(in.features[0].sampled);
}

}  // namespace
}  // namespace aiq::model
