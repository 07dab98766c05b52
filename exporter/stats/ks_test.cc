#include "exporter/stats/ks.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exporter/testing/oracle_data.h"

namespace aiq::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

::testing::AssertionResult Near(double actual, double expected, double rel,
                                double abs_tol) {
  if (std::isnan(expected) && std::isnan(actual)) {
    return ::testing::AssertionSuccess();
  }
  const double err = std::abs(actual - expected);
  if (err <= std::max(abs_tol, rel * std::abs(expected))) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "actual " << actual << " expected " << expected << " rel err "
         << err / std::abs(expected);
}

const char* ModeName(KsMode m) {
  return m == KsMode::kExact ? "exact" : "asymp";
}

TEST(KsOracleTest, MatchesScipyOnEveryNumericCase) {
  nlohmann::json doc;
  ASSERT_TRUE(aiq::testdata::LoadOracleJson("stats.json", &doc));
  int checked = 0;
  for (const auto& c : doc.at("cases")) {
    if (c.at("kind") != "numeric") continue;
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    const auto ref = c.at("reference").get<std::vector<double>>();
    const auto cur = c.at("current").get<std::vector<double>>();
    const auto& ks = c.at("expected").at("ks");
    const std::string want_mode = ks.at("mode");
    absl::StatusOr<KsResult> r = KsTwoSample(ref, cur);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(Near(r->statistic, ks.at("statistic"), 1e-9, 1e-12));
    EXPECT_TRUE(Near(r->p_value, ks.at("p_value"),
                     want_mode == "exact" ? 1e-9 : 1e-6, 0));
    EXPECT_EQ(ModeName(r->mode), want_mode);
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

// Inputs for our own vectors: a 64-bit LCG mapped to [0, 1) exactly, so the
// generating Python (same recurrence) produces bit-identical samples.
enum class Kind { kUniform, kInt10, kConst, kRange };
struct SampleSpec {
  uint64_t seed;
  int n;
  Kind kind;
  double shift;
};

std::vector<double> MakeSample(const SampleSpec& s) {
  std::vector<double> v;
  uint64_t state = s.seed;
  for (int i = 0; i < s.n; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = std::ldexp(static_cast<double>(state >> 11), -53);
    switch (s.kind) {
      case Kind::kUniform:
        v.push_back(u + s.shift);
        break;
      case Kind::kInt10:
        v.push_back(std::floor(u * 10) + s.shift);
        break;
      case Kind::kConst:
        v.push_back(s.shift);
        break;
      case Kind::kRange:
        v.push_back(i + s.shift);
        break;
    }
  }
  return v;
}

struct TwoSampleCase {
  const char* name;
  SampleSpec ref, cur;
  double statistic, p_value;
  KsMode mode;
};

// Generated with scipy 1.10.1 (/usr/bin/python3):
//   def lcg(seed, n):  # same recurrence as MakeSample
//     s = seed; out = []
//     for _ in range(n):
//       s = (s * 6364136223846793005 + 1442695040888963407) % 2**64
//       out.append((s >> 11) * 2.0**-53)
//     return out
//   uniform: [u + shift], int10: [float(int(u * 10)) + shift],
//   const: [shift] * n, range: [float(i + shift) for i in range(n)]
//   r = scipy.stats.ks_2samp(ref, cur)  # method="auto"
//   mode = "asymp" if max(n, m) > 10000 or the "Switching to
//          method=asymp" RuntimeWarning was raised, else "exact"
const TwoSampleCase kTwoSampleCases[] = {
    {"EqualSizesExact",
     {1, 500, Kind::kUniform, 0.0},
     {2, 500, Kind::kUniform, 0.1},
     0.148,
     3.403493254010195e-05,
     KsMode::kExact},
    {"VeryUnequalSizes",
     {3, 3, Kind::kUniform, 0.0},
     {4, 9000, Kind::kUniform, 0.05},
     0.3898888888888889,
     0.6230012196959815,
     KsMode::kExact},
    {"UnequalCoprimeSizes",
     {5, 997, Kind::kUniform, 0.0},
     {6, 1009, Kind::kUniform, 0.04},
     0.0664391589038672,
     0.022401392551610867,
     KsMode::kExact},
    {"TiesIntegers",
     {7, 400, Kind::kInt10, 0.0},
     {8, 350, Kind::kInt10, 1.0},
     0.1357142857142857,
     0.0018397004895479012,
     KsMode::kExact},
    {"TinyPExactUnequal",
     {9, 800, Kind::kUniform, 0.0},
     {10, 700, Kind::kUniform, 0.76},
     0.7875,
     1.5712655019924598e-230,
     KsMode::kExact},
    {"TinyPExactEqual",
     {11, 600, Kind::kUniform, 0.0},
     {12, 600, Kind::kUniform, 0.88},
     0.9083333333333333,
     2.5603448674433726e-264,
     KsMode::kExact},
    {"TinyPAsymptotic",
     {13, 12000, Kind::kUniform, 0.0},
     {14, 11000, Kind::kUniform, 0.2},
     0.20648484848484844,
     4.515732589395021e-215,
     KsMode::kAsymptotic},
    {"AsymptoticNoShift",
     {15, 10001, Kind::kUniform, 0.0},
     {16, 10000, Kind::kUniform, 0.0},
     0.0147207079292071,
     0.22647396307750034,
     KsMode::kAsymptotic},
    {"SingleReference",
     {17, 1, Kind::kUniform, 0.0},
     {18, 50, Kind::kUniform, 0.0},
     0.94,
     0.1568627450980392,
     KsMode::kExact},
    {"SingleBoth",
     {19, 1, Kind::kUniform, 0.0},
     {20, 1, Kind::kUniform, 0.5},
     1.0,
     1.0,
     KsMode::kExact},
    {"ConstantSame",
     {0, 100, Kind::kConst, 5.0},
     {0, 80, Kind::kConst, 5.0},
     0.0,
     1.0,
     KsMode::kExact},
    {"ConstantDifferent",
     {0, 100, Kind::kConst, 5.0},
     {0, 80, Kind::kConst, 6.0},
     1.0,
     6.64951466386705e-53,
     KsMode::kExact},
    // n == m == 253, D = 4/253: scipy's _compute_prob_outside_square gives
    // 1.0000000000000002, so it switches to kstwo.sf(D, round(253/2)).
    {"FallbackToAsymptotic",
     {0, 253, Kind::kRange, 0.0},
     {0, 253, Kind::kRange, 4.0},
     0.015810276679841896,
     0.9999999999999831,
     KsMode::kAsymptotic},
};

TEST(KsTwoSampleTest, MatchesScipyOnGeneratedCases) {
  for (const TwoSampleCase& c : kTwoSampleCases) {
    SCOPED_TRACE(c.name);
    const std::vector<double> ref = MakeSample(c.ref), cur = MakeSample(c.cur);
    absl::StatusOr<KsResult> r = KsTwoSample(ref, cur);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(Near(r->statistic, c.statistic, 1e-9, 1e-12));
    EXPECT_TRUE(
        Near(r->p_value, c.p_value, c.mode == KsMode::kExact ? 1e-9 : 1e-6, 0));
    EXPECT_EQ(ModeName(r->mode), ModeName(c.mode));
  }
}

TEST(KsTwoSampleTest, SortedAndUnsortedEntryPointsAgree) {
  std::vector<double> a = MakeSample({31, 700, Kind::kInt10, 0.0});
  std::vector<double> b = MakeSample({32, 900, Kind::kUniform, 0.3});
  absl::StatusOr<KsResult> unsorted = KsTwoSample(a, b);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  absl::StatusOr<KsResult> sorted = KsTwoSampleSorted(a, b);
  ASSERT_TRUE(unsorted.ok() && sorted.ok());
  EXPECT_EQ(unsorted->statistic, sorted->statistic);
  EXPECT_EQ(unsorted->p_value, sorted->p_value);
  // Two-sided: symmetric in the samples.
  absl::StatusOr<KsResult> swapped = KsTwoSampleSorted(b, a);
  ASSERT_TRUE(swapped.ok());
  EXPECT_EQ(swapped->statistic, sorted->statistic);
  EXPECT_TRUE(Near(swapped->p_value, sorted->p_value, 1e-14, 0));
}

TEST(KsTwoSampleTest, EmptySampleIsAnError) {
  const std::vector<double> a = {1.0};
  EXPECT_EQ(KsTwoSample(a, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(KsTwoSample({}, a).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(KsTwoSampleSorted({}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KsTwoSampleTest, NonFiniteInputIsAnErrorNamingTheProblem) {
  const std::vector<double> ok = {1.0, 2.0, 3.0};
  const std::vector<double> with_nan = {1.0, kNaN, 3.0};
  const std::vector<double> with_inf = {1.0, 2.0, kInf};
  const std::vector<double> with_ninf = {-kInf, 2.0, 3.0};
  for (const auto& r : {KsTwoSample(ok, with_nan), KsTwoSample(with_nan, ok),
                        KsTwoSampleSorted(ok, with_nan)}) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("NaN"), std::string::npos)
        << r.status();
  }
  for (const auto& r : {KsTwoSample(ok, with_inf), KsTwoSample(with_ninf, ok),
                        KsTwoSampleSorted(with_ninf, ok)}) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("infinite"), std::string::npos)
        << r.status();
  }
}

TEST(KsTwoSampleTest, UnsortedInputToSortedEntryPointIsAnError) {
  const std::vector<double> a = {1.0, 3.0, 2.0}, b = {1.0, 2.0};
  absl::StatusOr<KsResult> r = KsTwoSampleSorted(a, b);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("sorted"), std::string::npos);
}

// Generated with scipy 1.10.1:
//   from scipy.stats._stats_py import _attempt_exact_2kssamp
//   ok, _, p = _attempt_exact_2kssamp(n, m, math.gcd(n, m), d, "two-sided")
//   expected = p if ok else nan
TEST(KsExactSurvivalTest, MatchesScipy) {
  struct Case {
    double d;
    int64_t n, m;
    double p;
  };
  const Case kCases[] = {
      {0.1, 100, 80, 0.7289558095085651},
      {0.3, 9000, 3, 0.886440107211255},
      {0.05, 997, 1009, 0.15531079152830188},
      {0.02, 10000, 9999, 0.03589605170521495},
      {0.7, 700, 800, 5.73575195779189e-176},
      {0.5, 3, 7, 0.5333333333333334},
      {0.35, 500, 500, 1.4363212332187476e-27},
      {0.78, 600, 600, 7.179015563233518e-181},
      {0.2, 1, 50, 1.0},
      {0.04, 5000, 7500, 0.00013270025260600407},
      {0.2, 5, 5, kNaN},  // 2P = 1.0000000000000002: scipy's fallback.
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(::testing::Message()
                 << "d=" << c.d << " n=" << c.n << " m=" << c.m);
    EXPECT_TRUE(Near(KsExactSurvival(c.d, c.n, c.m), c.p, 1e-9, 0));
    EXPECT_TRUE(Near(KsExactSurvival(c.d, c.m, c.n), c.p, 1e-9, 0));
  }
}

// Generated with scipy 1.10.1: scipy.stats.kstwo.sf(d, n). Comments name the
// branch of _kolmogn (Simard & L'Ecuyer) that each point exercises.
TEST(KsTwoSurvivalTest, MatchesScipyKstwoSf) {
  struct Case {
    double d;
    int64_t n;
    double sf;
  };
  const Case kCases[] = {
      {0.75, 1, 0.5},                           // n*d <= 1: Ruben-Gambino
      {0.15, 5, 0.9988},                        // Ruben-Gambino
      {0.0006, 1000, 1.0},                      // Ruben-Gambino, Stirling
      {0.95, 10, 1.9531250000000172e-13},       // n*d >= n-1: 2(1-d)^n
      {0.999, 3, 2.0000000000000055e-09},       // n*d >= n-1
      {0.996, 200, 0.0},                        // n*d >= n-1, underflow
      {0.35, 2, 0.92},                          // n = 2
      {0.6, 10, 0.0005681672000000003},         // d >= 0.5: 2*smirnov
      {0.6, 1000, 0.0},                         // d >= 0.5, underflow
      {0.3, 7, 0.46626387699002947},            // Durbin matrix, small n
      {0.08, 100, 0.5182193645480672},          // n d^2 <= 0.754693: Durbin
      {0.15, 100, 0.019839242125643017},        // n d^2 <= 4: Pomeranz
      {0.2, 100, 0.0005551927327988775},        // Pomeranz, n d^2 = 4
      {0.3, 100, 1.7719869892662917e-08},       // n <= 140: 2*smirnov
      {0.45, 140, 2.1582605458449104e-26},      // n <= 140: 2*smirnov
      {0.1, 141, 0.11128445516467944},          // n > 140: Pelz-Good
      {0.3, 141, 9.46134771413843e-12},         // n > 140: 2*smirnov
      {0.009, 2000, 0.9965153016360107},        // n d^1.5 > 1.4: Pelz-Good
      {0.01, 1000, 0.9999496745370611},         // n d^1.5 <= 1.4: Durbin
      {0.02, 1000, 0.8108971656895577},         // Pelz-Good
      {0.05, 1000, 0.013012074781090332},       // n d^2 >= 2.2: 2*smirnov
      {0.4, 1000, 6.634569013150445e-145},      // 2*smirnov, tiny
      {0.0025, 50000, 0.9126805535490892},      // Pelz-Good, large n
      {0.005, 50000, 0.1635336349243478},       // Pelz-Good, large n
      {0.01, 50000, 9.018048811843602e-05},     // 2*smirnov, ~n terms
      {0.0047, 100000, 0.024040916622911235},   // 2*smirnov, n = 1e5
      {0.004, 100001, 0.08129888811128061},     // n > 1e5: Pelz-Good
      {0.002, 2000000, 2.247704493692889e-07},  // n > 1e6: Miller approx.
      {0.1, 20000, 1.4723820041654574e-174},    // 2*smirnov, tiny
      {0.12, 20000, 2.035197231732428e-251},    // 2*smirnov, tiny
      {0.13, 20000, 3.722107425777757e-295},    // 2*smirnov, n d^2 = 338
      {0.14, 20000, 0.0},                       // n d^2 >= 370: 0
      {0.0001, 1000, 1.0},                      // d <= 0.5/n: 1
      {1.0, 10, 0.0},                           // d >= 1: 0
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(::testing::Message() << "d=" << c.d << " n=" << c.n);
    EXPECT_TRUE(Near(KsTwoSurvival(c.d, c.n), c.sf, 1e-10, 0));
  }
  EXPECT_TRUE(std::isnan(KsTwoSurvival(kNaN, 10)));
  EXPECT_TRUE(std::isnan(KsTwoSurvival(0.5, 0)));
}

}  // namespace
}  // namespace aiq::stats

namespace aiq::stats {
namespace {

// KsMethod::kAsymptotic skips the exact distribution even for small
// samples, and is then exactly kstwo.sf(D, round(n*m/(n+m))).
TEST(KsMethodTest, AsymptoticOnRequest) {
  std::vector<double> a, b;
  for (int i = 0; i < 300; ++i) a.push_back(i * 0.5);
  for (int i = 0; i < 200; ++i) b.push_back(i * 0.6 + 10);
  absl::StatusOr<KsResult> exact = KsTwoSampleSorted(a, b);
  absl::StatusOr<KsResult> asymp =
      KsTwoSampleSorted(a, b, KsMethod::kAsymptotic);
  ASSERT_TRUE(exact.ok() && asymp.ok());
  EXPECT_EQ(exact->mode, KsMode::kExact);
  EXPECT_EQ(asymp->mode, KsMode::kAsymptotic);
  EXPECT_NEAR(asymp->statistic, exact->statistic, 1e-12);  // exact rounds D
  EXPECT_EQ(asymp->p_value, KsTwoSurvival(asymp->statistic, 120));
  EXPECT_NE(asymp->p_value, exact->p_value);
}

}  // namespace
}  // namespace aiq::stats
