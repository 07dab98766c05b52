#include "exporter/stats/concept_drift.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/testing/codec_test_util.h"
#include "exporter/util/binary_codec.h"

namespace aiq::stats {
namespace {

// ---------------------------------------------------------------------------
// Python's `random.Random(seed)`, bit for bit: MT19937 seeded with
// init_by_array([seed]) and random() = (a >> 5, b >> 6) / 2^53. It lets these
// tests replay the exact streams of River's own doctests and regression tests
// (river/drift/adwin.py, page_hinkley.py, binary/ddm.py docstrings and
// river/drift/test_adwin_regression.py), whose expected indices River's CI
// checks against River itself.
class PyRandom {
 public:
  explicit PyRandom(uint32_t seed) {
    InitGenrand(19650218U);
    // init_by_array with a one-word key.
    int i = 1;
    for (int k = kN; k > 0; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525U)) + seed;
      if (++i >= kN) {
        mt_[0] = mt_[kN - 1];
        i = 1;
      }
    }
    for (int k = kN - 1; k > 0; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941U)) -
               static_cast<uint32_t>(i);
      if (++i >= kN) {
        mt_[0] = mt_[kN - 1];
        i = 1;
      }
    }
    mt_[0] = 0x80000000U;
  }

  double Random() {
    const uint32_t a = Next() >> 5, b = Next() >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }
  // rng.choices(range(lo, lo + n))[0]: population[floor(random() * n)].
  int Choice(int lo, int n) {
    return lo + static_cast<int>(std::floor(Random() * n));
  }

 private:
  static constexpr int kN = 624;
  void InitGenrand(uint32_t s) {
    mt_[0] = s;
    for (int i = 1; i < kN; ++i) {
      mt_[i] = 1812433253U * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) +
               static_cast<uint32_t>(i);
    }
    index_ = kN;
  }
  uint32_t Next() {
    if (index_ >= kN) {
      for (int i = 0; i < kN; ++i) {
        const uint32_t y =
            (mt_[i] & 0x80000000U) | (mt_[(i + 1) % kN] & 0x7fffffffU);
        mt_[i] = mt_[(i + 397) % kN] ^ (y >> 1) ^ ((y & 1U) ? 0x9908b0dfU : 0U);
      }
      index_ = 0;
    }
    uint32_t y = mt_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
  }
  std::array<uint32_t, kN> mt_{};
  int index_ = kN;
};

// rng.choices(range(lo, lo + n), k=k)
void AppendChoices(PyRandom& rng, int lo, int n, int k,
                   std::vector<double>& out) {
  for (int i = 0; i < k; ++i) out.push_back(rng.Choice(lo, n));
}

std::vector<int> DetectionIndices(DriftDetector& d,
                                  const std::vector<double>& xs) {
  std::vector<int> idx;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (d.Update(xs[i])) idx.push_back(static_cast<int>(i));
  }
  return idx;
}

// Bernoulli(p) bits from a fixed-seed mt19937_64, drawn by hand (not
// std::bernoulli_distribution) so the streams are identical across standard
// libraries.
class Bits {
 public:
  explicit Bits(uint64_t seed) : rng_(seed) {}
  double Next(double p) {
    return static_cast<double>(rng_() >> 11) * 0x1.0p-53 < p ? 1.0 : 0.0;
  }

 private:
  std::mt19937_64 rng_;
};

TEST(PyRandomTest, MatchesCPython) {
  // python3 -c "import random; print(random.Random(12345).random())"
  PyRandom rng(12345);
  EXPECT_EQ(rng.Random(), 0.41661987254534116);
}

// ---------------------------------------------------------------------------
// (1a) River's own vectors. The docstring examples are doctests, and
// test_adwin_regression.py pins ADWIN's output after the 0.22 change "make
// ADWIN comply with the reference MOA implementation" (cuts are tested after
// every bucket, not all but the last of each row; the older loop gives
// [1023, 2047, 3039] on the multi-drift stream, so that vector tells the
// two apart).

TEST(RiverParityTest, AdwinDocstring) {
  PyRandom rng(12345);
  std::vector<double> xs;
  AppendChoices(rng, 0, 2, 1000, xs);
  AppendChoices(rng, 4, 4, 1000, xs);
  Adwin adwin;
  EXPECT_EQ(DetectionIndices(adwin, xs), std::vector<int>({1023}));
  EXPECT_EQ(xs[1023], 4.0);  // "Change detected at index 1023, input value: 4"
}

TEST(RiverParityTest, AdwinRegressionMultipleDrifts) {
  PyRandom rng(42);
  std::vector<double> xs;
  AppendChoices(rng, 0, 2, 1000, xs);
  AppendChoices(rng, 4, 4, 1000, xs);
  AppendChoices(rng, 0, 2, 1000, xs);
  AppendChoices(rng, 4, 4, 1000, xs);
  Adwin adwin;
  EXPECT_EQ(DetectionIndices(adwin, xs), std::vector<int>({1023, 2015, 3007}));
  EXPECT_EQ(adwin.detections(), 3);
}

TEST(RiverParityTest, PageHinkleyDocstring) {
  PyRandom rng(12345);
  std::vector<double> xs;
  AppendChoices(rng, 0, 2, 1000, xs);
  AppendChoices(rng, 4, 4, 1000, xs);
  PageHinkley ph;
  EXPECT_EQ(DetectionIndices(ph, xs), std::vector<int>({1006}));
  EXPECT_EQ(xs[1006], 5.0);  // "Change detected at index 1006, input value: 5"
}

TEST(RiverParityTest, DdmDocstring) {
  // rng.choices([0, 1], k=1000) + rng.choices([0, 1], k=1000, weights=[0.3,
  // 0.7]); the weighted draw is bisect([0.3, 1.0], random()) = random() >= 0.3.
  PyRandom rng(42);
  std::vector<double> xs;
  AppendChoices(rng, 0, 2, 1000, xs);
  for (int i = 0; i < 1000; ++i) xs.push_back(rng.Random() < 0.3 ? 0.0 : 1.0);
  // The docstring prints the first warning after start / after each drift.
  Ddm ddm;
  std::vector<int> first_warnings, drifts;
  bool print_warning = true;
  for (size_t i = 0; i < xs.size(); ++i) {
    ddm.Update(xs[i]);
    if (ddm.warning() && print_warning) {
      first_warnings.push_back(static_cast<int>(i));
      print_warning = false;
    }
    if (ddm.drift_detected()) {
      drifts.push_back(static_cast<int>(i));
      print_warning = true;
    }
  }
  EXPECT_EQ(first_warnings, std::vector<int>({1084, 1492}));
  EXPECT_EQ(drifts, std::vector<int>({1334}));
}

TEST(RiverParityTest, AdwinRegressionResetOnDriftAndBasics) {
  // test_adwin_regression.py: width grows 1, 2, ...; total/estimation; the
  // update after a drift starts a fresh window of width 1.
  Adwin a;
  for (double v : {1.0, 2.0, 3.0, 4.0, 5.0}) a.Update(v);
  EXPECT_EQ(a.width(), 5.0);
  EXPECT_EQ(a.total(), 15.0);
  EXPECT_EQ(a.estimation(), 3.0);
  EXPECT_DOUBLE_EQ(a.variance(), 10.0);  // sum of squared deviations

  Adwin b(AdwinOptions{.clock = 1});
  for (int i = 0; i < 500; ++i) b.Update(0.0);
  bool found = false;
  for (int i = 0; i < 500 && !found; ++i) found = b.Update(100.0);
  ASSERT_TRUE(found);
  b.Update(50.0);
  EXPECT_EQ(b.width(), 1.0);

  Adwin c(AdwinOptions{.clock = 1, .grace_period = 100});
  for (int i = 0; i < 50; ++i) c.Update(0.0);
  for (int i = 0; i < 50; ++i) c.Update(1000.0);
  EXPECT_EQ(c.detections(), 0);
}

// ---------------------------------------------------------------------------
// (1b) Hand-traced step changes.

TEST(HandTracedTest, DdmStepUp) {
  // 100 zeros then 100 ones. While all zeros, p = s = 0; at n = 31 (first
  // n > warm_start = 30) p + s = 0 <= +inf records p_min = s_min = 0. The
  // first error (index 100, n = 101) gives p = 1/101, s > 0, so
  // p + s > p_min + 3 * s_min = 0: drift at index 100. The next update resets;
  // on the all-ones tail p = 1, s = 0 is never exceeded, so no second drift.
  std::vector<double> xs(100, 0.0);
  xs.resize(200, 1.0);
  Ddm ddm;
  EXPECT_EQ(DetectionIndices(ddm, xs), std::vector<int>({100}));
  // DDM is one-sided: an error rate that falls (1s then 0s) never fires.
  std::vector<double> down(100, 1.0);
  down.resize(200, 0.0);
  Ddm ddm2;
  EXPECT_TRUE(DetectionIndices(ddm2, down).empty());
}

TEST(HandTracedTest, DdmWarmStartAndWarningZone) {
  // With a single error at index 0, p_n = 1/n and s_n = sqrt((n-1)/n^3).
  // p + s falls monotonically, so (p_min, s_min) track the current value and
  // nothing fires. Nothing is tested before n = 31.
  Ddm ddm;
  EXPECT_FALSE(ddm.Update(1.0));
  for (int i = 1; i < 200; ++i) {
    EXPECT_FALSE(ddm.Update(0.0));
    EXPECT_FALSE(ddm.warning());
  }
  // At n = 200, p = 1/200 = s_min-ish; one more error: p = 2/201,
  // s = sqrt(p (1 - p) / 201) = 0.00701; p + s = 0.01696, while
  // p_min + 2 s_min = 0.005 + 2 * 0.004987 = 0.01497 and
  // p_min + 3 s_min = 0.01996: warning, no drift.
  EXPECT_FALSE(ddm.Update(1.0));
  EXPECT_TRUE(ddm.warning());
  // A third error: p = 3/202, s = 0.00852, p + s = 0.02337 > 0.01996: drift,
  // and River clears the warning flag when it reports the drift.
  EXPECT_TRUE(ddm.Update(1.0));
  EXPECT_FALSE(ddm.warning());
  EXPECT_EQ(ddm.detections(), 1);
  // The following update starts a new concept (n = 1).
  EXPECT_FALSE(ddm.Update(0.0));
  EXPECT_EQ(ddm.n(), 1.0);
}

TEST(HandTracedTest, PageHinkleyStep) {
  // 100 zeros then ones. On the zeros dev = 0, so sum_increase =
  // -delta * (1 + alpha + ... + alpha^99) = -0.4975 is its running minimum and
  // the increase statistic is 0. At the k-th one the running mean is
  // k / (100 + k), so dev_k = 100 / (100 + k) and the statistic is about
  //   sum_{j<=k} (100 / (100 + j) - 0.005)  ~  100 ln((100.5 + k) / 100.5)
  //                                            - 0.005 k - (fading ~0.1)
  // = 49.98 at k = 66 (index 165) and 50.57 at k = 67 (index 166) > 50.
  std::vector<double> xs(100, 0.0);
  xs.resize(200, 1.0);
  PageHinkley ph;
  std::vector<int> got;
  for (int i = 0; i < 200; ++i) {
    if (ph.Update(xs[static_cast<size_t>(i)])) got.push_back(i);
    if (i == 99) {
      EXPECT_EQ(ph.increase_statistic(), 0.0);
    } else if (i == 165) {
      EXPECT_NEAR(ph.increase_statistic(), 49.98020879409639, 1e-9);
    } else if (i == 166) {
      EXPECT_NEAR(ph.increase_statistic(), 50.56906292173311, 1e-9);
    }
  }
  EXPECT_EQ(got, std::vector<int>({166}));
  // mode = both: the mirrored step (ones then zeros) fires at the same index
  // through the decrease statistic; mode = up does not fire on it.
  std::vector<double> down(100, 1.0);
  down.resize(200, 0.0);
  PageHinkley both;
  EXPECT_EQ(DetectionIndices(both, down), std::vector<int>({166}));
  PageHinkley up(PageHinkleyOptions{.mode = PageHinkleyMode::kUp});
  EXPECT_TRUE(DetectionIndices(up, down).empty());
  // No test before min_instances = 30 observations.
  PageHinkley early;
  std::vector<double> jump(5, 0.0);
  jump.resize(29, 1000.0);
  EXPECT_TRUE(DetectionIndices(early, jump).empty());
  EXPECT_TRUE(early.Update(1000.0));  // n = 30
}

TEST(HandTracedTest, AdwinStep) {
  // 100 zeros then 100 ones. Cuts are tested only when tick % 32 == 0, i.e.
  // at indices 31, 63, 95 (all-zero window: variance 0, so epsilon =
  // 2/3 delta' / m > 0 = |mean difference|; no cut) and 127. At index 127 the
  // window holds 128 items, 28 of them ones, in buckets (oldest first)
  //   4 x 16 zeros | 4 x 8 zeros | 0,4,4,4,4 (size 4) | 4 x 2 ones | 4 x 1
  // Variance/width = 28 * 100 / 128^2 = 0.1709, delta' = ln(2 ln 128 / 0.002)
  // = 8.487, and with m' = 1/(n0 - 4) + 1/(n1 - 4):
  //   n0 = 64: |0 - 28/64|  = 0.4375 < eps = 0.311 + 0.189 = 0.500
  //   n0 = 72: |0 - 28/56|  = 0.5000 < eps = 0.314 + 0.192 = 0.506
  //   n0 = 80: |0 - 28/48|  = 0.5833 > eps = 0.323 + 0.203 = 0.526  -> cut
  // so index 127 detects; the oldest bucket is dropped and the test repeats
  // until the window is 28 zeros + 28 ones (width 56, total 28).
  std::vector<double> xs(100, 0.0);
  xs.resize(200, 1.0);
  Adwin adwin;
  std::vector<int> got;
  for (int i = 0; i < 200; ++i) {
    if (adwin.Update(xs[static_cast<size_t>(i)])) {
      got.push_back(i);
      if (i == 127) {
        EXPECT_EQ(adwin.width(), 56.0);
        EXPECT_EQ(adwin.total(), 28.0);
        EXPECT_DOUBLE_EQ(adwin.variance(), 14.0);
      }
    }
  }
  // After the reset at index 128 the window is all ones: no further cut.
  EXPECT_EQ(got, std::vector<int>({127}));
}

TEST(AdwinTest, MemoryIsLogarithmic) {
  Adwin adwin;
  for (int i = 0; i < 1'000'000; ++i) adwin.Update(i % 2);
  EXPECT_EQ(adwin.width(), 1'000'000.0);
  // Rows of 2^r-item buckets, <= 5 full buckets per row: ~log2(n / 5) + 1.
  EXPECT_LE(adwin.rows(), 19);
  EXPECT_EQ(adwin.detections(), 0);
}

TEST(DriftDetectorTest, ResetAndNonFiniteInput) {
  std::vector<std::unique_ptr<DriftDetector>> ds;
  ds.push_back(std::make_unique<Adwin>());
  ds.push_back(std::make_unique<Ddm>());
  ds.push_back(std::make_unique<PageHinkley>());
  for (auto& d : ds) {
    std::vector<double> xs(100, 0.0);
    xs.resize(300, 1.0);
    for (double x : xs) d->Update(x);
    EXPECT_GE(d->detections(), 1);
    EXPECT_FALSE(d->Update(std::numeric_limits<double>::quiet_NaN()));
    EXPECT_FALSE(d->Update(std::numeric_limits<double>::infinity()));
    EXPECT_EQ(d->updates(), 300);
    d->Reset();
    EXPECT_EQ(d->detections(), 0);
    EXPECT_EQ(d->updates(), 0);
    EXPECT_FALSE(d->drift_detected());
    EXPECT_FALSE(d->warning());
  }
  Ddm ddm;
  EXPECT_FALSE(ddm.Update(2.0));  // not a bit: River would raise
  EXPECT_EQ(ddm.updates(), 0);
}

// ---------------------------------------------------------------------------
// (1c) Independent slow reimplementations, written from the definitions with
// no incremental arithmetic, compared on deterministic streams.

// ADWIN2 from the paper + River's cut rule: the raw window is stored; the
// exponential histogram is kept only as bucket counts per row; sums and the
// window variance are recomputed from the raw values (two-pass) at each test.
class SlowAdwin {
 public:
  bool Update(double x) {
    if (drift_) *this = SlowAdwin();
    window_.push_back(x);
    if (rows_.empty()) rows_.push_back(0);
    ++rows_[0];
    for (size_t r = 0; r < rows_.size() && rows_[r] == 6; ++r) {
      rows_[r] -= 2;
      if (r + 1 == rows_.size()) rows_.push_back(0);
      ++rows_[r + 1];
    }
    drift_ = false;
    if (++tick_ % 32 != 0 || window_.size() <= 10) return false;
    for (bool cut = true; cut;) {
      cut = false;
      // Bucket boundaries, oldest first, as item counts.
      std::vector<size_t> sizes;
      for (size_t r = rows_.size(); r-- > 0;) {
        for (int k = 0; k < rows_[r]; ++k) sizes.push_back(size_t{1} << r);
      }
      const double w = static_cast<double>(window_.size());
      double mean = 0;
      for (double v : window_) mean += v;
      mean /= w;
      double ss = 0;
      for (double v : window_) ss += (v - mean) * (v - mean);
      size_t n0 = 0;
      for (size_t b = 0; b + 1 < sizes.size() && !cut; ++b) {
        n0 += sizes[b];
        const size_t n1 = window_.size() - n0;
        if (n0 < 5 || n1 < 5) continue;
        double u0 = 0, u1 = 0;
        for (size_t i = 0; i < window_.size(); ++i) {
          (i < n0 ? u0 : u1) += window_[i];
        }
        const double dm =
            u0 / static_cast<double>(n0) - u1 / static_cast<double>(n1);
        const double dp = std::log(2 * std::log(w) / 0.002);
        const double m = 1.0 / (static_cast<double>(n0) - 4) +
                         1.0 / (static_cast<double>(n1) - 4);
        const double eps = std::sqrt(2 * m * (ss / w) * dp) + 2.0 / 3 * dp * m;
        if (std::fabs(dm) > eps) {
          cut = drift_ = true;
          const size_t last = rows_.size() - 1;
          for (size_t i = 0; i < (size_t{1} << last); ++i) window_.pop_front();
          if (--rows_[last] == 0) rows_.pop_back();
        }
      }
    }
    return drift_;
  }

 private:
  std::deque<double> window_;
  std::vector<int> rows_;
  int64_t tick_ = 0;
  bool drift_ = false;
};

// DDM from integer counts: p = errors / n.
class SlowDdm {
 public:
  bool Update(double x) {
    if (drift_) *this = SlowDdm();
    ++n_;
    errors_ += x > 0.5 ? 1 : 0;
    const double n = static_cast<double>(n_);
    const double p = static_cast<double>(errors_) / n;
    const double s = std::sqrt(p * (1 - p) / n);
    if (n_ > 30) {
      if (p + s <= best_) {
        best_ = p + s;
        p_min_ = p;
        s_min_ = s;
      }
      drift_ = p + s > p_min_ + 3 * s_min_;
    }
    return drift_;
  }

 private:
  int64_t n_ = 0, errors_ = 0;
  double best_ = std::numeric_limits<double>::infinity(), p_min_ = 0,
         s_min_ = 0;
  bool drift_ = false;
};

// Page-Hinkley (mode both) from its closed form:
//   U_T = sum_{t<=T} alpha^(T-t) (x_t - xbar_t - delta)
//   L_T = sum_{t<=T} alpha^(T-t) (x_t - xbar_t + delta)
// with xbar_t the mean of x_1..x_t recomputed from the stored values; drift
// when U_T - min_{t<=T} U_t > 50 or max_{t<=T} max(L_t, -1) - L_T > 50.
class SlowPageHinkley {
 public:
  bool Update(double x) {
    if (drift_) *this = SlowPageHinkley();
    xs_.push_back(x);
    double sum = 0;
    for (double v : xs_) sum += v;
    xbar_.push_back(sum / static_cast<double>(xs_.size()));
    const size_t t_now = xs_.size() - 1;
    double u = 0, l = 0;
    for (size_t t = 0; t <= t_now; ++t) {
      const double fade = std::pow(1 - 0.0001, static_cast<double>(t_now - t));
      u += fade * (xs_[t] - xbar_[t] - 0.005);
      l += fade * (xs_[t] - xbar_[t] + 0.005);
    }
    min_u_ = std::min(min_u_, u);
    max_l_ = std::max(max_l_, l);
    if (xs_.size() >= 30) drift_ = u - min_u_ > 50 || max_l_ - l > 50;
    return drift_;
  }

 private:
  std::vector<double> xs_, xbar_;
  double min_u_ = std::numeric_limits<double>::infinity(), max_l_ = -1;
  bool drift_ = false;
};

template <typename Fast, typename Slow>
void ExpectSameDetections(const std::vector<double>& xs) {
  Fast fast;
  Slow slow;
  std::vector<int> a, b;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (fast.Update(xs[i])) a.push_back(static_cast<int>(i));
    if (slow.Update(xs[i])) b.push_back(static_cast<int>(i));
  }
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a.empty());  // the stream must exercise a detection
}

// Error rate 0.1 -> 0.5 at t = 1000 -> 0.2 at t = 2000, 3000 samples.
std::vector<double> ThreeRegimes(uint64_t seed) {
  Bits bits(seed);
  std::vector<double> xs;
  for (int t = 0; t < 3000; ++t) {
    xs.push_back(bits.Next(t < 1000 ? 0.1 : t < 2000 ? 0.5 : 0.2));
  }
  return xs;
}

TEST(SlowReferenceTest, Adwin) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    ExpectSameDetections<Adwin, SlowAdwin>(ThreeRegimes(seed));
  }
  // A real-valued stream (absolute errors of a regressor that gets worse).
  std::mt19937_64 rng(7);
  std::vector<double> xs;
  for (int t = 0; t < 3000; ++t) {
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    xs.push_back(u * (t < 1500 ? 1.0 : 1.6));
  }
  ExpectSameDetections<Adwin, SlowAdwin>(xs);
}

TEST(SlowReferenceTest, Ddm) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    ExpectSameDetections<Ddm, SlowDdm>(ThreeRegimes(seed));
  }
}

TEST(SlowReferenceTest, PageHinkley) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    ExpectSameDetections<PageHinkley, SlowPageHinkley>(ThreeRegimes(seed));
  }
}

// ---------------------------------------------------------------------------
// (2) Abrupt change: Bernoulli error rate 0.1 -> 0.5 at t = 1000. Delay is
// the first detection at t >= 1000 minus 1000 (detections before t = 1000
// are false alarms; they reset the detector, as in production).

struct DelayStats {
  double mean_delay = 0;
  int max_delay = 0;
  int missed = 0;
};

DelayStats MeasureDelay(
    const std::function<std::unique_ptr<DriftDetector>()>& make, int seeds) {
  constexpr int kChange = 1000, kHorizon = 2000;  // up to 1000 after the change
  DelayStats st;
  int64_t sum = 0;
  int found = 0;
  for (int seed = 0; seed < seeds; ++seed) {
    Bits bits(static_cast<uint64_t>(seed) + 1000);
    auto d = make();
    int delay = -1;
    for (int t = 0; t < kHorizon && delay < 0; ++t) {
      const bool fired = d->Update(bits.Next(t < kChange ? 0.1 : 0.5));
      if (fired && t >= kChange) delay = t - kChange;
    }
    if (delay < 0) {
      ++st.missed;
    } else {
      sum += delay;
      ++found;
      st.max_delay = std::max(st.max_delay, delay);
    }
  }
  st.mean_delay = found ? static_cast<double>(sum) / found : 0;
  return st;
}

TEST(AbruptChangeTest, DetectsWithinBoundedDelay) {
  constexpr int kSeeds = 200;
  const DelayStats adwin =
      MeasureDelay([] { return std::make_unique<Adwin>(); }, kSeeds);
  const DelayStats ddm =
      MeasureDelay([] { return std::make_unique<Ddm>(); }, kSeeds);
  const DelayStats ph =
      MeasureDelay([] { return std::make_unique<PageHinkley>(); }, kSeeds);
  std::printf(
      "delay 0.1->0.5 over %d seeds: ADWIN mean %.1f max %d missed %d; "
      "DDM mean %.1f max %d missed %d; PH mean %.1f max %d missed %d\n",
      kSeeds, adwin.mean_delay, adwin.max_delay, adwin.missed, ddm.mean_delay,
      ddm.max_delay, ddm.missed, ph.mean_delay, ph.max_delay, ph.missed);
  EXPECT_EQ(adwin.missed, 0);
  EXPECT_EQ(ddm.missed, 0);
  EXPECT_EQ(ph.missed, 0);
  EXPECT_LT(adwin.mean_delay, 100);
  EXPECT_LT(ddm.mean_delay, 100);
  EXPECT_LT(ph.mean_delay, 200);
  EXPECT_LE(adwin.max_delay, 200);
  EXPECT_LE(ddm.max_delay, 400);
  EXPECT_LE(ph.max_delay, 300);
}

// ---------------------------------------------------------------------------
// (3) Stationary streams: false alarms over 200 seeds x 10,000 samples.

struct FalseAlarms {
  int64_t alarms = 0;  // detections in total
  int runs_with_alarm = 0;
};

FalseAlarms MeasureFalseAlarms(
    const std::function<std::unique_ptr<DriftDetector>()>& make, double p,
    int seeds, int n) {
  FalseAlarms fa;
  for (int seed = 0; seed < seeds; ++seed) {
    Bits bits(static_cast<uint64_t>(seed) + 1);
    auto d = make();
    for (int t = 0; t < n; ++t) d->Update(bits.Next(p));
    fa.alarms += d->detections();
    fa.runs_with_alarm += d->detections() > 0 ? 1 : 0;
  }
  return fa;
}

TEST(StationaryTest, FalseAlarmRate) {
  constexpr int kSeeds = 200, kN = 10'000;
  // Bounds are about twice the rates measured with these seeds (recorded in
  // docs/statistics.md), so the test flags a behaviour change, not noise.
  // DDM and Page-Hinkley alarm far more often than ADWIN with River's
  // defaults: DDM locks in (p_min, s_min) from a lucky low-error stretch, and
  // Page-Hinkley's threshold of 50 is in the stream's units, so its false
  // alarm rate grows with the variance p (1 - p) of the error bits.
  struct Case {
    const char* name;
    std::function<std::unique_ptr<DriftDetector>()> make;
    double max_per_1e4_p01;  // mean detections per 10k samples, p = 0.1
    double max_per_1e4_p03;  // same, p = 0.3
  };
  const std::vector<Case> cases = {
      {"ADWIN", [] { return std::make_unique<Adwin>(); }, 0.01, 0.01},
      {"DDM", [] { return std::make_unique<Ddm>(); }, 2.0, 0.5},
      {"PageHinkley", [] { return std::make_unique<PageHinkley>(); }, 0.05,
       1.0},
  };
  for (double p : {0.1, 0.3}) {
    for (const Case& c : cases) {
      const FalseAlarms fa = MeasureFalseAlarms(c.make, p, kSeeds, kN);
      const double per_1e4 = static_cast<double>(fa.alarms) / kSeeds;
      std::printf(
          "stationary p=%.1f %-11s: %lld alarms in %d x %d samples "
          "(%.3f per 10k), %d/%d runs with any alarm\n",
          p, c.name, static_cast<long long>(fa.alarms), kSeeds, kN, per_1e4,
          fa.runs_with_alarm, kSeeds);
      EXPECT_LE(per_1e4, p < 0.2 ? c.max_per_1e4_p01 : c.max_per_1e4_p03)
          << c.name << " p=" << p;
    }
  }
}

// ---------------------------------------------------------------------------
// Checkpoint codec: a decoded detector is the original, bit for bit, and
// keeps detecting exactly where the original does.

using aiq::testing::Encoded;

void ExpectSame(const Adwin& a, const Adwin& b) {
  EXPECT_EQ(a.drift_detected(), b.drift_detected());
  EXPECT_EQ(a.detections(), b.detections());
  EXPECT_EQ(a.updates(), b.updates());
  EXPECT_EQ(a.width(), b.width());
  EXPECT_EQ(a.total(), b.total());
  EXPECT_EQ(a.variance(), b.variance());
  EXPECT_EQ(a.estimation(), b.estimation());
  EXPECT_EQ(a.rows(), b.rows());
}
void ExpectSame(const Ddm& a, const Ddm& b) {
  EXPECT_EQ(a.drift_detected(), b.drift_detected());
  EXPECT_EQ(a.warning(), b.warning());
  EXPECT_EQ(a.detections(), b.detections());
  EXPECT_EQ(a.updates(), b.updates());
  EXPECT_EQ(a.error_rate(), b.error_rate());
  EXPECT_EQ(a.n(), b.n());
}
void ExpectSame(const PageHinkley& a, const PageHinkley& b) {
  EXPECT_EQ(a.drift_detected(), b.drift_detected());
  EXPECT_EQ(a.detections(), b.detections());
  EXPECT_EQ(a.updates(), b.updates());
  EXPECT_EQ(a.increase_statistic(), b.increase_statistic());
  EXPECT_EQ(a.decrease_statistic(), b.decrease_statistic());
  EXPECT_EQ(a.mean(), b.mean());
}

// A stream with several changes of level: error bits (as.bits) or
// absolute errors in [0, scale).
std::vector<double> ShiftingStream(bool bits, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> xs;
  for (const auto& [n, level] : std::vector<std::pair<int, double>>{
           {3000, 0.1}, {2000, 0.5}, {3000, 0.05}, {2000, 0.6}}) {
    for (int i = 0; i < n; ++i) {
      const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
      xs.push_back(bits ? (u < level ? 1.0 : 0.0) : u * 2.0 * level);
    }
  }
  return xs;
}

// Feeds xs[0, cut) to a detector, checkpoints it into a fresh one, and
// feeds both the rest: every answer and statistic must agree.
template <typename D>
void ExpectRoundTripContinuesIdentically(const std::vector<double>& xs,
                                         size_t cut) {
  SCOPED_TRACE(cut);
  D original;
  for (size_t i = 0; i < cut; ++i) original.Update(xs[i]);
  const std::string bytes = Encoded(original);
  D restored;
  restored.Update(0.5);  // some other state, which decoding replaces
  util::BinaryReader r(bytes);
  ASSERT_TRUE(restored.DecodeFrom(r).ok());
  ASSERT_TRUE(r.Finish().ok());
  EXPECT_EQ(Encoded(restored), bytes);
  ExpectSame(original, restored);
  for (size_t i = cut; i < xs.size(); ++i) {
    ASSERT_EQ(original.Update(xs[i]), restored.Update(xs[i])) << i;
    if (i % 97 == 0 || original.drift_detected())
      ExpectSame(original, restored);
  }
  ExpectSame(original, restored);
  EXPECT_EQ(Encoded(restored), Encoded(original));
}

// Cuts just before, at and just after every detection, and in between.
template <typename D>
void ExpectRoundTripsAtEveryDetection(const std::vector<double>& xs) {
  D probe;
  std::vector<size_t> cuts = {0, 1, 777, 4321};
  for (size_t i = 0; i < xs.size(); ++i) {
    if (probe.Update(xs[i])) {
      cuts.push_back(i);
      cuts.push_back(i + 1);  // drift_detected(): the next update resets
      cuts.push_back(i + 2);
    }
  }
  ASSERT_GE(probe.detections(), 2);
  for (size_t cut : cuts) ExpectRoundTripContinuesIdentically<D>(xs, cut);
}

TEST(DetectorCodecTest, AdwinContinuesIdenticallyAfterDecode) {
  ExpectRoundTripsAtEveryDetection<Adwin>(ShiftingStream(true, 1));
  ExpectRoundTripsAtEveryDetection<Adwin>(ShiftingStream(false, 2));
}

TEST(DetectorCodecTest, DdmContinuesIdenticallyAfterDecode) {
  ExpectRoundTripsAtEveryDetection<Ddm>(ShiftingStream(true, 3));
}

TEST(DetectorCodecTest, PageHinkleyContinuesIdenticallyAfterDecode) {
  // Page-Hinkley's default threshold of 50 needs a long rise; a stream of
  // 0s then 1s gives several detections.
  std::vector<double> xs(2000, 0.0);
  xs.resize(6000, 1.0);
  xs.resize(9000, 0.0);
  xs.resize(14000, 1.0);
  ExpectRoundTripsAtEveryDetection<PageHinkley>(xs);
  ExpectRoundTripsAtEveryDetection<PageHinkley>(ShiftingStream(false, 4));
}

// Every proper prefix of an encoding is DataLoss and leaves the target as it
// was.
template <typename D>
void ExpectTruncationIsDataLoss(const D& source, D target) {
  const std::string full = Encoded(source);
  const std::string before = Encoded(target);
  ASSERT_NE(full, before);
  for (size_t n = 0; n < full.size(); ++n) {
    util::BinaryReader r(std::string_view(full).substr(0, n));
    const absl::Status s = target.DecodeFrom(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << n << ": " << s;
    EXPECT_EQ(Encoded(target), before) << n;
  }
}

TEST(DetectorCodecTest, TruncatedInputIsDataLossAndChangesNothing) {
  const std::vector<double> xs = ShiftingStream(true, 5);
  Adwin adwin, adwin_target;
  Ddm ddm, ddm_target;
  PageHinkley ph, ph_target;
  for (size_t i = 0; i < 600; ++i) {
    adwin.Update(xs[i]);
    ddm.Update(xs[i]);
    ph.Update(xs[i]);
  }
  for (double x : {1.0, 0.0, 1.0}) {
    adwin_target.Update(x);
    ddm_target.Update(x);
    ph_target.Update(x);
  }
  ASSERT_GE(adwin.rows(), 3);
  ExpectTruncationIsDataLoss(adwin, adwin_target);
  ExpectTruncationIsDataLoss(ddm, ddm_target);
  ExpectTruncationIsDataLoss(ph, ph_target);
}

TEST(DetectorCodecTest, MalformedAdwinBucketsAreDataLoss) {
  Adwin adwin;
  for (int i = 0; i < 100; ++i) adwin.Update(i % 3 == 0);
  std::string bytes = Encoded(adwin);
  // The width is the double after the options (1 tag + 8 + 4 varints of one
  // byte), the counters (1 + 1 + 2 bytes: 100 updates) and two doubles.
  const size_t width_at = 1 + 8 + 4 + 1 + 1 + 2 + 16;
  util::BinaryWriter w;
  w.Double(adwin.width() + 1);
  bytes.replace(width_at, 8, w.data());
  Adwin target;
  util::BinaryReader r(bytes);
  const absl::Status s = target.DecodeFrom(r);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(s.message().find("adwin width"), std::string::npos) << s;
  EXPECT_EQ(Encoded(target), Encoded(Adwin()));
}

TEST(DetectorCodecTest, OtherTypeOrOptionsIsFailedPrecondition) {
  Adwin adwin;
  Ddm ddm;
  PageHinkley ph;
  for (int i = 0; i < 50; ++i) {
    adwin.Update(i % 2);
    ddm.Update(i % 2);
    ph.Update(i % 2);
  }
  {
    Ddm target;
    const std::string bytes = Encoded(adwin);
    util::BinaryReader r(bytes);
    const absl::Status s = target.DecodeFrom(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(),
              "concept-drift detector: the checkpoint holds adwin state, "
              "this detector is ddm");
    EXPECT_EQ(target.updates(), 0);
  }
  {
    PageHinkley target;
    const std::string bytes = Encoded(ddm);
    util::BinaryReader r(bytes);
    EXPECT_EQ(target.DecodeFrom(r).code(),
              absl::StatusCode::kFailedPrecondition);
  }
  {
    Adwin target(AdwinOptions{.delta = 0.01});
    const std::string bytes = Encoded(adwin);
    util::BinaryReader r(bytes);
    const absl::Status s = target.DecodeFrom(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(),
              "adwin: the checkpoint was written with delta = 0.002, this "
              "detector has 0.01");
  }
  {
    Ddm target(DdmOptions{.warm_start = 10});
    const std::string bytes = Encoded(ddm);
    util::BinaryReader r(bytes);
    const absl::Status s = target.DecodeFrom(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(s.message().find("warm_start = 30"), std::string::npos) << s;
  }
  {
    PageHinkley target(PageHinkleyOptions{.mode = PageHinkleyMode::kUp});
    const std::string bytes = Encoded(ph);
    util::BinaryReader r(bytes);
    const absl::Status s = target.DecodeFrom(r);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(s.message().find("mode"), std::string::npos) << s;
    EXPECT_EQ(target.updates(), 0);
  }
}

// Through the common interface, as a window holding "a detector" does.
TEST(DetectorCodecTest, VirtualCodecThroughTheBaseClass) {
  std::vector<std::unique_ptr<DriftDetector>> ds;
  ds.push_back(std::make_unique<Adwin>());
  ds.push_back(std::make_unique<Ddm>());
  ds.push_back(std::make_unique<PageHinkley>());
  std::vector<std::unique_ptr<DriftDetector>> copies;
  copies.push_back(std::make_unique<Adwin>());
  copies.push_back(std::make_unique<Ddm>());
  copies.push_back(std::make_unique<PageHinkley>());
  const std::vector<double> xs = ShiftingStream(true, 6);
  for (size_t k = 0; k < ds.size(); ++k) {
    for (size_t i = 0; i < 5000; ++i) ds[k]->Update(xs[i]);
    util::BinaryWriter w;
    ds[k]->EncodeTo(w);
    util::BinaryReader r(w.data());
    ASSERT_TRUE(copies[k]->DecodeFrom(r).ok());
    EXPECT_TRUE(r.Finish().ok());
    EXPECT_GE(copies[k]->detections(), 1);
    EXPECT_EQ(copies[k]->detections(), ds[k]->detections());
    EXPECT_EQ(copies[k]->updates(), 5000);
  }
}

}  // namespace
}  // namespace aiq::stats
