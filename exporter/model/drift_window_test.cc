#include "exporter/model/drift_window.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "exporter/config/config_loader.h"
#include "exporter/data/csv.h"
#include "exporter/stats/drift_calibration.h"
#include "exporter/stats/ks.h"
#include "exporter/testing/codec_test_util.h"
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

// ---------------------------------------------------------------------------
// Checkpoint codec

using aiq::testing::Encoded;

// Every field of the collected inputs, doubles in hex: equal strings mean
// bit-identical inputs.
std::string Describe(const DriftInputs& in) {
  std::ostringstream o;
  o << std::hexfloat << in.predictions << " " << in.pca_error_sum << " "
    << in.pca_rows << "\n";
  auto channel = [&](const ChannelInputs& c) {
    o << c.total << " " << c.missing << " " << c.out_of_range << " "
      << c.new_category << " sampled=" << c.sampled << " bins:";
    for (int64_t b : c.bins) o << " " << b;
    o << " categories:";
    for (const auto& [k, n] : c.categories.counts()) o << " " << k << "=" << n;
    o << " values:";
    for (double v : c.values) o << " " << v;
    o << "\n";
  };
  for (const ChannelInputs& c : in.features) channel(c);
  if (in.prediction) channel(*in.prediction);
  return o.str();
}

std::string Describe(const WindowDrift& d) {
  std::ostringstream o;
  o << std::hexfloat << d.predictions << " " << d.min_samples << "\n";
  auto channel = [&](const ChannelDrift& c) {
    o << c.name << " " << c.total << " " << c.present << " " << c.sampled << " "
      << c.sample_size << " " << c.missing_ratio.value_or(-1) << " "
      << c.out_of_range_ratio.value_or(-1) << " "
      << c.new_category_ratio.value_or(-1) << " [" << c.error << "]";
    if (const auto& n = c.numeric_stats) {
      o << " ks " << n->ks.statistic << " " << n->ks.p_value << " "
        << static_cast<int>(n->ks.mode) << " psi " << n->psi << " js "
        << n->jensen_shannon << " w " << n->wasserstein << " "
        << n->wasserstein_normed;
    }
    if (const auto& k = c.categorical_stats) {
      o << " chi2 " << k->chi_square.statistic << " " << k->chi_square.p_value
        << " " << k->chi_square.dof << " psi " << k->psi << " js "
        << k->jensen_shannon << " new";
      for (const std::string& n : k->new_categories) o << " " << n;
    }
    if (c.z) o << " z " << c.z->statistic << " " << c.z->p_value;
    if (const auto& dec = c.decision) {
      o << " decision " << static_cast<int>(dec->test) << " " << dec->score
        << " " << dec->threshold << " " << dec->detected;
    }
    o << "\n";
  };
  for (const ChannelDrift& c : d.features) channel(c);
  if (d.prediction) channel(*d.prediction);
  if (d.dataset) {
    o << "dataset " << d.dataset->drifted_features << " "
      << d.dataset->total_features << " " << d.dataset->share << " "
      << d.dataset->detected << "\n";
  }
  o << "pca " << d.reconstruction_error.value_or(-1) << "\n";
  return o.str();
}

// Regression with three numeric features (one with few distinct values, so
// it is also tested as categories), one categorical feature and a numeric
// prediction: every kind of channel, PCA, and a prediction profile.
struct CodecFixture {
  config::ModelConfig model;
  std::shared_ptr<const ModelReference> reference;
};

CodecFixture MakeCodecFixture(int num_numeric = 3, int64_t max_exact = 300,
                              int buckets = 4, uint64_t ref_seed = 11) {
  std::string features;
  for (int f = 0; f < num_numeric; ++f) {
    features += "x" + std::to_string(f) + ", ";
  }
  std::vector<config::ConfigError> errors;
  CodecFixture fx;
  fx.model = config::ParseConfig(
                 "models: [{name: m, task: regression, features: [" + features +
                     "{name: c, type: categorical}], reference: {csv: r.csv, "
                     "target: target, prediction: prediction}}]\n",
                 "t", errors)
                 ->models[0];
  EXPECT_TRUE(errors.empty());
  fx.model.window.duration = absl::Hours(1);
  fx.model.window.buckets = buckets;
  fx.model.window.max_exact_samples = max_exact;
  fx.model.window.min_samples = 20;
  std::mt19937_64 rng(ref_seed);
  std::normal_distribution<double> normal;
  const int n = 400;
  data::Dataset ds("ref");
  for (int f = 0; f < num_numeric; ++f) {
    std::vector<double> x(n);
    for (int i = 0; i < n; ++i) {
      // The last numeric feature takes the values 0, 1, 2 only.
      x[static_cast<size_t>(i)] =
          f == num_numeric - 1 ? static_cast<double>(i % 3) : normal(rng);
    }
    ds.AddNumeric("x" + std::to_string(f), x);
  }
  std::vector<std::string> c(n);
  std::vector<double> pred(n), target(n);
  for (int i = 0; i < n; ++i) {
    c[static_cast<size_t>(i)] = std::string(1, static_cast<char>('a' + i % 3));
    pred[static_cast<size_t>(i)] = normal(rng);
    target[static_cast<size_t>(i)] = pred[static_cast<size_t>(i)] + normal(rng);
  }
  ds.AddCategorical("c", c);
  ds.AddNumeric("prediction", pred);
  ds.AddNumeric("target", target);
  absl::StatusOr<std::shared_ptr<const ModelReference>> ref =
      ModelReference::Build(fx.model, ds);
  EXPECT_TRUE(ref.ok()) << ref.status();
  fx.reference = *ref;
  return fx;
}

// Events i in [from, to), one every 1.5 s (so 2400 per hour: with 4
// buckets of 15 minutes, 600 per bucket), drifting as i grows; some values
// missing, some categories new, some out of range.
void Feed(DriftWindow& w, const config::ModelConfig& m, int from, int to,
          uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  const size_t numeric = m.features.size() - 1;
  std::vector<DriftInput> in(m.features.size());
  const std::vector<std::string> cats = {"a", "b", "c", "d", "e", "f", "g"};
  for (int i = from; i < to; ++i) {
    const double shift = i / 4000.0;
    for (size_t f = 0; f + 1 < numeric; ++f) {
      in[f] = i % 17 == 0 ? DriftInput{}
                          : DriftInput::Number(normal(rng) + shift * f);
    }
    in[numeric - 1] = DriftInput::Number(static_cast<double>((i * 7) % 5));
    in[numeric] =
        i % 13 == 0
            ? DriftInput{}
            : DriftInput::Category(
                  cats[static_cast<size_t>(i * 5 + i / 3) % cats.size()]);
    const DriftInput pred = DriftInput::Number(normal(rng) * (1 + shift));
    const std::optional<double> pca =
        i % 5 == 0 ? std::nullopt : std::optional<double>(0.001 * (i % 101));
    w.Add(kT0 + absl::Milliseconds(1500 * int64_t{i}), in, pred, pca);
  }
}

void ExpectSameObservations(const CodecFixture& fx, DriftWindow& a,
                            DriftWindow& b, absl::Time now) {
  SCOPED_TRACE(absl::FormatTime(now));
  EXPECT_EQ(a.Stamp(now), b.Stamp(now));
  const DriftInputs ia = a.Collect(now);
  const DriftInputs ib = b.Collect(now);
  EXPECT_EQ(Describe(ia), Describe(ib));
  EXPECT_EQ(Describe(ComputeDrift(*fx.reference, fx.model, ia)),
            Describe(ComputeDrift(*fx.reference, fx.model, ib)));
  EXPECT_EQ(Encoded(a), Encoded(b));
}

TEST(DriftWindowCodecTest, DecodedWindowCollectsAndEvolvesIdentically) {
  const CodecFixture fx = MakeCodecFixture();
  DriftWindow original(fx.model, fx.reference, /*max_categories=*/4,
                       /*seed=*/1);
  // 2 hours of events: the first hour's buckets have expired and been
  // recycled; every bucket is sampled (600 values each, 300 kept overall).
  Feed(original, fx.model, 0, 4800, 21);
  const absl::Time end = kT0 + absl::Milliseconds(1500 * 4800);
  const DriftInputs before = original.Collect(end);
  ASSERT_TRUE(before.features[0].sampled);
  // A Bernoulli sample at the smallest threshold: at most the budget.
  ASSERT_LE(before.features[0].values.size(), 300u);
  ASSERT_GE(before.features[0].values.size(), 150u);
  ASSERT_GT(before.features[3].categories.count("__other__"), 0);
  ASSERT_GT(before.features[2].categories.num_categories(), 0);
  ASSERT_TRUE(before.prediction.has_value());
  ASSERT_GT(before.pca_rows, 0);
  const WindowDrift drift = ComputeDrift(*fx.reference, fx.model, before);
  ASSERT_TRUE(drift.features[0].decision.has_value());
  ASSERT_TRUE(drift.reconstruction_error.has_value());

  const std::string bytes = Encoded(original);
  // Another seed and other contents: decoding replaces both.
  DriftWindow restored(fx.model, fx.reference, 4, /*seed=*/99);
  Feed(restored, fx.model, 0, 50, 5);
  util::BinaryReader r(bytes);
  ASSERT_TRUE(restored.DecodeFrom(r).ok());
  ASSERT_TRUE(r.Finish().ok());
  EXPECT_EQ(Encoded(restored), bytes);
  EXPECT_EQ(Describe(restored.Collect(end)), Describe(before));
  ExpectSameObservations(fx, original, restored, end);
  // Ageing out, one bucket at a time, and completely.
  for (int minutes : {1, 16, 31, 46, 61, 200}) {
    ExpectSameObservations(fx, original, restored,
                           end + absl::Minutes(minutes));
  }
  // The same further events: samples, thresholds and the generator stay in
  // step (a different generator position would keep other values).
  Feed(original, fx.model, 4800, 7000, 22);
  Feed(restored, fx.model, 4800, 7000, 22);
  const absl::Time later = kT0 + absl::Milliseconds(1500 * 7000);
  ExpectSameObservations(fx, original, restored, later);
  ExpectSameObservations(fx, original, restored, later + absl::Minutes(20));
  EXPECT_TRUE(original.Collect(later).features[0].sampled);
}

TEST(DriftWindowCodecTest, TruncatedInputIsDataLossAndChangesNothing) {
  const CodecFixture fx = MakeCodecFixture(/*num_numeric=*/2,
                                           /*max_exact=*/8, /*buckets=*/2);
  DriftWindow small(fx.model, fx.reference, 4, 1);
  Feed(small, fx.model, 0, 12, 3);
  Feed(small, fx.model, 1300, 1310, 4);  // a second bucket, sampled
  DriftWindow target(fx.model, fx.reference, 4, 2);
  Feed(target, fx.model, 0, 3, 5);
  const std::string full = Encoded(small);
  const std::string before = Encoded(target);
  ASSERT_NE(full, before);
  for (size_t n = 0; n < full.size(); ++n) {
    util::BinaryReader r(std::string_view(full).substr(0, n));
    const absl::Status s = target.DecodeFrom(r);
    ASSERT_EQ(s.code(), absl::StatusCode::kDataLoss) << n << ": " << s;
    ASSERT_EQ(Encoded(target), before) << n;
  }
  util::BinaryReader r(full);
  EXPECT_TRUE(target.DecodeFrom(r).ok());
  EXPECT_EQ(Encoded(target), full);
}

TEST(DriftWindowCodecTest, CorruptSamplesAreDataLoss) {
  const CodecFixture fx = MakeCodecFixture(2, 8, 2);
  DriftWindow w(fx.model, fx.reference, 4, 1);
  Feed(w, fx.model, 0, 3, 3);
  const std::string full = Encoded(w);
  // Flip bytes one at a time: decoding either fails with DataLoss or
  // FailedPrecondition, or succeeds, never crashes; the target is
  // unchanged on failure.
  DriftWindow target(fx.model, fx.reference, 4, 2);
  const std::string before = Encoded(target);
  int failures = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    std::string bad = full;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    DriftWindow t(fx.model, fx.reference, 4, 2);
    util::BinaryReader r(bad);
    const absl::Status s = t.DecodeFrom(r);
    if (!s.ok()) {
      ++failures;
      EXPECT_TRUE(s.code() == absl::StatusCode::kDataLoss ||
                  s.code() == absl::StatusCode::kFailedPrecondition)
          << s;
      EXPECT_EQ(Encoded(t), before) << i;
    }
  }
  EXPECT_GT(failures, 0);
}

TEST(DriftWindowCodecTest, OtherShapeIsFailedPrecondition) {
  const CodecFixture three = MakeCodecFixture(3);
  DriftWindow w(three.model, three.reference, 4, 1);
  Feed(w, three.model, 0, 100, 1);
  const std::string bytes = Encoded(w);
  auto decode_into = [&](const CodecFixture& fx) {
    DriftWindow target(fx.model, fx.reference, 4, 1);
    const std::string before = Encoded(target);
    util::BinaryReader r(bytes);
    absl::Status s = target.DecodeFrom(r);
    EXPECT_EQ(Encoded(target), before);
    return s;
  };
  // 3 + 1 features into a model of 2 + 1.
  absl::Status s = decode_into(MakeCodecFixture(2));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "drift window: the checkpoint has 4 features, this model 3");
  s = decode_into(MakeCodecFixture(3, /*max_exact=*/100));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "drift window: the checkpoint was sampled with max_exact_samples "
            "300, this window has 100");
  s = decode_into(MakeCodecFixture(3, 300, /*buckets=*/6));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "drift window: the checkpoint has 4 buckets of 15m, this window "
            "6 of 10m");
  // The same features over another reference sample: other bin edges.
  s = decode_into(MakeCodecFixture(3, 300, 4, /*ref_seed=*/12));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "drift window: 'x0' was binned on other reference bin edges (11 "
            "edges in the checkpoint, 11 here): the reference was replaced");
  // A feature renamed, and a feature of another type.
  CodecFixture renamed = MakeCodecFixture(3);
  renamed.model.features[1].name = "income";
  s = decode_into(renamed);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "drift window: channel 1 is 'x1' in the checkpoint, 'income' here");
  // Without a reference: data-quality counts only, no profiles.
  CodecFixture no_reference = three;
  no_reference.reference = nullptr;
  s = decode_into(no_reference);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "drift window: 'x0' has a reference profile in the checkpoint, "
            "none here");
}

// --- drift_threshold: auto -------------------------------------------------

// A regression model with `features` (a YAML list) and the prediction
// column p; `model_keys` adds keys to the model (", drift_threshold: auto").
config::ModelConfig AutoModel(const std::string& features,
                              const std::string& model_keys) {
  std::vector<config::ConfigError> errors;
  std::optional<config::Config> c = config::ParseConfig(
      "models: [{name: m, task: regression, reference: {csv: r.csv, "
      "prediction: p}, window: {min_samples: 100}, features: " +
          features + model_keys + "}]\n",
      "t", errors);
  EXPECT_TRUE(c.has_value()) << errors.front().ToString();
  return c->models[0];
}

data::Dataset AutoReference(int rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::discrete_distribution<int> pick({50, 30, 20});
  std::vector<double> x, w, p;
  std::vector<std::string> c;
  for (int i = 0; i < rows; ++i) {
    x.push_back(normal(rng));
    w.push_back(normal(rng));
    p.push_back(normal(rng));
    c.push_back(std::string(1, static_cast<char>('a' + pick(rng))));
  }
  data::Dataset ds("r.csv");
  ds.AddNumeric("x", x);
  ds.AddNumeric("w", w);
  ds.AddCategorical("c", c);
  ds.AddNumeric("p", p);
  return ds;
}

// The profile's threshold is the one stats computes for the same values
// and chunk (window.min_samples by default; at most max_exact_samples for
// KS and Wasserstein), and features with a number of their own keep it.
TEST(DriftThresholdAutoTest, ReferenceCarriesTheCalibratedThresholds) {
  config::ModelConfig m = AutoModel(
      "[{name: x, drift_test: ks, drift_threshold: auto}, "
      "{name: w, drift_test: wasserstein}, {name: c, type: categorical}]",
      ", drift_threshold: auto");
  m.window.max_exact_samples = 80;
  const data::Dataset ds = AutoReference(2000, 1);
  absl::StatusOr<std::shared_ptr<const ModelReference>> ref =
      ModelReference::Build(m, ds);
  ASSERT_TRUE(ref.ok()) << ref.status();
  const std::vector<FeatureProfile>& f = (*ref)->features();
  auto expected = [&](const std::string& column, stats::DriftTest test,
                      int64_t chunk) {
    stats::DriftTestOverride o;
    o.test = test;
    const data::Column& col = *ds.Find(column);
    stats::FeatureReference r = *stats::FeatureReference::Numeric(
        std::vector<double>(col.numbers.begin(), col.numbers.end()), o);
    EXPECT_TRUE(r.CalibrateThreshold(chunk).ok());
    return r.choice().threshold;
  };
  // KS and Wasserstein: chunks of max_exact_samples (80 < min_samples).
  EXPECT_EQ(f[0].reference.choice().calibration_chunk, 80);
  EXPECT_EQ(f[0].reference.choice().threshold,
            expected("x", stats::DriftTest::kKs, 80));
  EXPECT_EQ(f[1].reference.choice().calibration_chunk, 80);
  EXPECT_EQ(f[1].reference.choice().threshold,
            expected("w", stats::DriftTest::kWasserstein, 80));
  // Jensen-Shannon over categories (2000 rows): chunks of min_samples.
  EXPECT_EQ(f[2].reference.choice().test, stats::DriftTest::kJensenShannon);
  EXPECT_EQ(f[2].reference.choice().calibration_chunk, 100);
  stats::CategoryCounts counts;
  for (size_t i = 0; i < ds.num_rows(); ++i) {
    counts.Add(ds.Find("c")->ValueAsString(i));
  }
  stats::FeatureReference c = *stats::FeatureReference::Categorical(counts);
  ASSERT_TRUE(c.CalibrateThreshold(100).ok());
  EXPECT_EQ(f[2].reference.choice().threshold, c.choice().threshold);
  // Model-wide auto covers the prediction too (Wasserstein: 2000 rows).
  ASSERT_TRUE((*ref)->prediction().has_value());
  EXPECT_EQ((*ref)->prediction()->reference.choice().calibration_chunk, 80);
  EXPECT_EQ((*ref)->prediction()->reference.choice().threshold,
            expected("p", stats::DriftTest::kWasserstein, 80));

  // drift_calibration_chunk overrides min_samples; a fixed number stays.
  m = AutoModel(
      "[{name: x, drift_threshold: 0.2, drift_test: wasserstein}, "
      "{name: c, type: categorical, drift_threshold: auto}]",
      ", drift_calibration_chunk: 250");
  ref = ModelReference::Build(m, ds);
  ASSERT_TRUE(ref.ok()) << ref.status();
  EXPECT_EQ((*ref)->features()[0].reference.choice().threshold, 0.2);
  EXPECT_EQ((*ref)->features()[0].reference.choice().calibration_chunk, 0);
  EXPECT_EQ((*ref)->features()[1].reference.choice().calibration_chunk, 250);
  EXPECT_EQ((*ref)->prediction()->reference.choice().calibration_chunk, 0);
}

TEST(DriftThresholdAutoTest, TooSmallReferenceNamesModelAndFeature) {
  const config::ModelConfig m =
      AutoModel("[x, {name: c, type: categorical, drift_threshold: auto}]", "");
  absl::StatusOr<std::shared_ptr<const ModelReference>> ref =
      ModelReference::Build(m, AutoReference(150, 2));
  EXPECT_EQ(ref.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ref.status().message(),
            "r.csv: model \"m\" feature \"c\": drift_threshold: auto needs at "
            "least 200 reference values (two calibration chunks of 100); the "
            "reference has 150 (use a smaller drift_calibration_chunk, a "
            "larger reference or a fixed drift_threshold)");
  // The same reference is fine with the default thresholds.
  EXPECT_TRUE(
      ModelReference::Build(AutoModel("[x, {name: c, type: categorical}]", ""),
                            AutoReference(150, 2))
          .ok());
}

// Windows of 100 values streamed through a DriftWindow, each decided by
// ComputeDrift: with auto, stationary windows are flagged at most at the
// documented bound (KS at 0.05 flags about 5 %), a shifted window is
// flagged, and the decision carries the calibrated threshold (what the
// drift API returns).
TEST(DriftThresholdAutoTest, StreamingFalseAlarmsStayUnderTheBound) {
  const config::ModelConfig fixed_model =
      AutoModel("[{name: x, drift_test: ks}]", "");
  const config::ModelConfig auto_model =
      AutoModel("[{name: x, drift_test: ks}]", ", drift_threshold: auto");
  std::mt19937_64 rng(9);
  std::normal_distribution<double> normal;
  std::vector<double> x(5000);
  for (double& v : x) v = normal(rng);
  data::Dataset ds("r.csv");
  ds.AddNumeric("x", x);
  ds.AddNumeric("p", x);
  const auto fixed_ref = *ModelReference::Build(fixed_model, ds);
  const auto auto_ref = *ModelReference::Build(auto_model, ds);
  const double threshold = auto_ref->features()[0].reference.choice().threshold;
  ASSERT_LT(threshold, 0.05);
  constexpr int kWindows = 1000;
  int fixed_flags = 0, auto_flags = 0;
  for (int i = 0; i <= kWindows; ++i) {
    const bool shifted = i == kWindows;
    DriftWindow fw(fixed_model, fixed_ref, 100, 1);
    DriftWindow aw(auto_model, auto_ref, 100, 1);
    for (int j = 0; j < 100; ++j) {
      const DriftInput in = DriftInput::Number(normal(rng) + (shifted ? 1 : 0));
      fw.Add(kT0, {&in, 1}, DriftInput{}, std::nullopt);
      aw.Add(kT0, {&in, 1}, DriftInput{}, std::nullopt);
    }
    const WindowDrift fd =
        ComputeDrift(*fixed_ref, fixed_model, fw.Collect(kT0));
    const WindowDrift ad = ComputeDrift(*auto_ref, auto_model, aw.Collect(kT0));
    ASSERT_TRUE(fd.features[0].decision && ad.features[0].decision);
    EXPECT_EQ(ad.features[0].decision->threshold, threshold);
    EXPECT_EQ(fd.features[0].decision->threshold, 0.05);
    if (shifted) {
      EXPECT_TRUE(ad.features[0].decision->detected);
    } else {
      fixed_flags += fd.features[0].decision->detected ? 1 : 0;
      auto_flags += ad.features[0].decision->detected ? 1 : 0;
    }
  }
  const double bound = stats::kCalibratedFalseAlarmBound;
  const double tol = 3 * std::sqrt(bound * (1 - bound) / kWindows);
  EXPECT_LE(auto_flags, static_cast<int>((bound + tol) * kWindows));
  EXPECT_NEAR(fixed_flags, 0.05 * kWindows,
              3 * std::sqrt(0.05 * 0.95 * kWindows));
  EXPECT_GT(fixed_flags, static_cast<int>((bound + tol) * kWindows));
}

}  // namespace
}  // namespace aiq::model
