#include "exporter/stats/ks.h"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <numbers>
#include <numeric>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "exporter/stats/sort.h"

// References (algorithms re-implemented from the papers and from the logic of
// scipy 1.10.1, which is the oracle we must agree with):
//  - scipy/stats/_stats_py.py: ks_2samp, _attempt_exact_2kssamp,
//    _compute_prob_outside_square; scipy/stats/_stats_pythran.py:
//    _compute_outer_prob_inside_method (Hodges 1958, Viehmann 2021,
//    arXiv:2102.08037).
//  - scipy/stats/_ksstats.py: _kolmogn and its helpers (Simard & L'Ecuyer
//    2011, J. Stat. Softw. 39(11); Durbin 1968 / Marsaglia-Tsang-Wang 2003;
//    Pomeranz 1974; Pelz & Good 1976).
//  - scipy/special/cephes/kolmogorov.c: smirnov (Birnbaum & Tingey 1951,
//    van Mulbregt arXiv:1802.06966).

namespace aiq::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kMaxExactN = 10000;  // scipy's MAX_AUTO_N.

// Per-thread buffers reused across calls: the exporter runs KS on the same
// window sizes at every scrape, and fresh 100+ KB allocations per call cost
// more in page faults than the arithmetic.
struct Scratch {
  std::vector<double> ref, cur, dp, cdf;
};
Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// Resizes without caring about contents (no shrinking, so no reallocation
// once the largest window size has been seen).
template <typename T>
T* Buffer(std::vector<T>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

double Clip01(double p) { return std::clamp(p, 0.0, 1.0); }  // NaN stays.

int64_t FloorDiv(int64_t a, int64_t b) {  // b > 0
  int64_t q = a / b;
  if (a % b != 0 && a < 0) --q;
  return q;
}
int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

// ---------------------------------------------------------------------------
// Statistic.

absl::Status CheckSample(std::span<const double> x, const char* name) {
  if (x.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("ks: empty ", name, " sample"));
  }
  // Sorted and finite <=> x[0] > -inf, x[i-1] <= x[i], x[n-1] < inf (any NaN
  // fails a comparison). One branch-free pass; locate the problem on failure.
  bool ok = x.front() > -std::numeric_limits<double>::infinity() &&
            x.back() < std::numeric_limits<double>::infinity();
  for (size_t i = 1; i < x.size(); ++i) ok &= x[i - 1] <= x[i];
  if (ok) return absl::OkStatus();
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(x[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("ks: NaN in ", name, " sample at index ", i));
    }
    if (std::isinf(x[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("ks: infinite value in ", name, " sample at index ", i));
    }
    if (i > 0 && x[i] < x[i - 1]) {
      return absl::InvalidArgumentError(
          absl::StrCat("ks: ", name, " sample not sorted at index ", i));
    }
  }
  return absl::InternalError("ks: unreachable sample check");
}

// scipy evaluates cdf1 - cdf2 at every point of the pooled data with
// searchsorted(side='right'), i.e. after all ties at that value. A merge over
// distinct values visits the same points; the float operations (count / n,
// then the difference) are the same, so D is bit-identical.
//
// A plain merge is a chain of hard-to-predict branches. Instead the value
// range is cut at quantiles of the pooled data into kLanes slices, each
// merged branch-free, all slices interleaved in one loop so the lanes'
// load->compare->advance latencies overlap.
constexpr int kLanes = 4;

// k-th smallest (0-based) of the union of two sorted arrays.
double KthOfUnion(std::span<const double> a, std::span<const double> b,
                  size_t k) {
  size_t lo = k + 1 > b.size() ? k + 1 - b.size() : 0;
  size_t hi = std::min(k + 1, a.size());
  while (lo < hi) {  // Smallest i (taken from a) with a[i] >= b[k - i].
    const size_t i = lo + (hi - lo) / 2;
    if (a[i] < b[k - i]) {
      lo = i + 1;
    } else {
      hi = i;
    }
  }
  const size_t i = lo, j = k + 1 - lo;
  const double inf = std::numeric_limits<double>::infinity();
  return std::max(i > 0 ? a[i - 1] : -inf, j > 0 ? b[j - 1] : -inf);
}

// An AVX2 and a baseline copy of the hot loops, picked at load time by an
// ifunc resolver. TSan cannot run resolvers (they run before its runtime
// starts), so its builds keep the baseline only.
#if defined(AIQ_TSAN)
#define AIQ_AVX2_CLONES
#else
#define AIQ_AVX2_CLONES __attribute__((target_clones("avx2", "default")))
#endif

using V4 = double __attribute__((vector_size(32)));

// out[i] = i / n for i in [0, n]; vector lanes divide exactly like scalars.
AIQ_AVX2_CLONES void FillCdf(double* out, size_t n) {
  const double dn = static_cast<double>(n);
  const V4 den = {dn, dn, dn, dn};
  V4 num = {0, 1, 2, 3};
  const V4 four = {4, 4, 4, 4};
  size_t i = 0;
  for (; i + 4 <= n + 1; i += 4, num += four) {
    const V4 r = num / den;
    std::memcpy(out + i, &r, sizeof(r));
  }
  for (; i <= n; ++i) out[i] = static_cast<double>(i) / dn;
}

double TwoSidedStatistic(std::span<const double> a, std::span<const double> b) {
  const size_t n1 = a.size(), n2 = b.size();
  const double dn1 = static_cast<double>(n1), dn2 = static_cast<double>(n2);
  const double inf = std::numeric_limits<double>::infinity();
  // Lane l covers values in [pivot[l], pivot[l+1]).
  size_t a_begin[kLanes + 1], b_begin[kLanes + 1];
  a_begin[0] = b_begin[0] = 0;
  a_begin[kLanes] = n1;
  b_begin[kLanes] = n2;
  for (int l = 1; l < kLanes; ++l) {
    const double pivot = KthOfUnion(a, b, (n1 + n2) * l / kLanes);
    a_begin[l] = static_cast<size_t>(
        std::lower_bound(a.begin(), a.end(), pivot) - a.begin());
    b_begin[l] = static_cast<size_t>(
        std::lower_bound(b.begin(), b.end(), pivot) - b.begin());
  }
  // Per lane: next unread index in a and b, the last value consumed, and the
  // difference after consuming it (committed once the tie run has ended).
  size_t i1[kLanes], i2[kLanes];
  double last[kLanes], pending[kLanes];
  size_t steps = 0;
  for (int l = 0; l < kLanes; ++l) {
    i1[l] = a_begin[l];
    i2[l] = b_begin[l];
    last[l] = -inf;
    pending[l] = 0;
    steps = std::max(steps,
                     a_begin[l + 1] - a_begin[l] + b_begin[l + 1] - b_begin[l]);
  }
  // cdf tables i/n (the same correctly rounded divisions scipy does), built
  // up front where they vectorise, rather than two divisions per step.
  Scratch& scratch = ThreadScratch();
  double* cdf1 = Buffer(scratch.cdf, n1 + n2 + 2);
  double* cdf2 = cdf1 + n1 + 1;
  FillCdf(cdf1, n1);
  FillCdf(cdf2, n2);
  double max_diff = 0, min_diff = 0;  // The last point always gives 0.
  // One extra step per lane commits its final pending difference.
  for (size_t s = 0; s <= steps; ++s) {
    for (int l = 0; l < kLanes; ++l) {
      const bool has_a = i1[l] < a_begin[l + 1];
      const bool has_b = i2[l] < b_begin[l + 1];
      // Clamped indices keep the loads in bounds; exhausted sides read +inf.
      const double x = has_a ? a[std::min(i1[l], n1 - 1)] : inf;
      const double y = has_b ? b[std::min(i2[l], n2 - 1)] : inf;
      const double v = std::min(x, y);
      const double cand = v > last[l] ? pending[l] : 0.0;
      max_diff = std::max(max_diff, cand);
      min_diff = std::min(min_diff, cand);
      i1[l] += static_cast<size_t>(has_a && x <= v);
      i2[l] += static_cast<size_t>(has_b && y <= v);
      last[l] = v;
      pending[l] =
          static_cast<double>(i1[l]) / dn1 - static_cast<double>(i2[l]) / dn2;
    }
  }
  const double min_s = Clip01(-min_diff);
  return min_s > max_diff ? min_s : max_diff;
}

// ---------------------------------------------------------------------------
// Exact two-sample distribution.

// Pr(D_{n,n} >= h/n): 2 * sum_k (-1)^(k+1) C(2n, n-kh) / C(2n, n) evaluated
// Horner-style from the innermost term (scipy's _compute_prob_outside_square).
// Same operations in the same order as scipy, so the result is bit-identical
// (this matters: scipy falls back to kstwo when the value exceeds 1).
AIQ_AVX2_CLONES double ProbOutsideSquare(int64_t n, int64_t h) {
  // The n/h + 1 products p1(k) are independent; only the final Horner step
  // chains them. Computing four k at a time in vector lanes performs each
  // lane's operations exactly as the scalar loop would (IEEE, no FMA), so
  // the result stays bit-identical while the divisions overlap.
  const int64_t kmax = n / h;
  double total = 0.0;
  for (int64_t k0 = kmax; k0 >= 0; k0 -= 4) {
    V4 p1 = {1.0, 1.0, 1.0, 1.0};
    V4 num, den;
    for (int lane = 0; lane < 4; ++lane) {
      const int64_t k = std::max<int64_t>(k0 - lane, 0);  // Pad with k = 0.
      num[lane] = static_cast<double>(n - k * h);
      den[lane] = static_cast<double>(n + k * h + 1);
    }
    const V4 one = {1.0, 1.0, 1.0, 1.0};
    for (int64_t j = 0; j < h; ++j) {
      p1 = num * p1 / den;  // (n - kh - j) * p1 / (n + kh + j + 1)
      num -= one;
      den += one;
    }
    for (int lane = 0; lane < 4 && k0 - lane >= 0; ++lane) {
      total = p1[lane] * (1.0 - total);
    }
  }
  return 2 * total;
}

// True when some column x = i of the lattice has no point strictly inside
// |ng*x - mg*y| < h; then every path leaves the band and scipy returns 1.
bool SomeColumnIsEmpty(int64_t m, int64_t n, int64_t mg, int64_t ng,
                       int64_t h) {
  for (int64_t i = 1; i <= m; ++i) {
    const int64_t minj =
        std::min(std::max(FloorDiv(ng * i - h, mg) + 1, int64_t{0}), n);
    const int64_t maxj = std::min(CeilDiv(ng * i + h, mg), n + 1);
    if (maxj <= minj) return true;
  }
  return false;
}

// Viehmann's recursion for the proportion of lattice paths (0,0) -> (m,n)
// that have left the band |ng*x - mg*y| < h:
//   V(x, y) = (x V(x-1, y) + y V(x, y-1)) / (x + y),  V = 1 outside the band.
// scipy walks it column by column, a serial chain with a division per cell.
// All cells on an anti-diagonal x + y = s are independent and share the
// divisor s, so we sweep anti-diagonals with SIMD (AVX2 clone when the CPU
// has it). Same cells, same work count (~2*h*g), no loop-carried dependency.
// The recursion is a convex combination of non-negative terms, so the
// reordering changes the result only by a few ulps per step (relative).
// buf_a/buf_b: m + 3 doubles each; iv[k] = k - 1 (indexed with offset 1).
AIQ_AVX2_CLONES double SweepAntiDiagonals(int64_t m, int64_t n, int64_t mg,
                                          int64_t ng, int64_t h, double* buf_a,
                                          double* buf_b, const double* iv_buf) {
  // Offset by one so index -1 (always multiplied by x = 0) is addressable.
  double* prev = buf_a + 1;
  double* cur = buf_b + 1;
  const double* iv = iv_buf + 1;
  std::fill(buf_a, buf_a + m + 3, 1.0);
  std::fill(buf_b, buf_b + m + 3, 1.0);
  prev[0] = 0.0;  // (0, 0) is inside the band for h > 0.
  const int64_t w = mg + ng;
  for (int64_t s = 1; s <= m + n; ++s) {
    // On x + y = s the band is |w*x - mg*s| < h.
    const int64_t lo = FloorDiv(mg * s - h, w) + 1;
    const int64_t hi = CeilDiv(mg * s + h, w) - 1;
    const int64_t a = std::max({lo, s - n, int64_t{0}});
    const int64_t b = std::min({hi, m, s});
    if (a > b) return 1.0;  // Every path leaves the band.
    const double sd = static_cast<double>(s);
    const double inv = 1.0 / sd;
    const V4 sv = {sd, sd, sd, sd};
    const V4 invv = {inv, inv, inv, inv};
    int64_t i = a;
    for (; i + 3 <= b; i += 4) {
      V4 left, down, x;  // V(x-1, y) and V(x, y-1) on the previous diagonal.
      std::memcpy(&left, prev + i - 1, sizeof(V4));
      std::memcpy(&down, prev + i, sizeof(V4));
      std::memcpy(&x, iv + i, sizeof(V4));
      const V4 r = (x * left + (sv - x) * down) * invv;
      std::memcpy(cur + i, &r, sizeof(V4));
    }
    for (; i <= b; ++i) {
      const double x = iv[i];
      cur[i] = (x * prev[i - 1] + (sd - x) * prev[i]) * inv;
    }
    // Neighbours the next diagonal may read: outside the band (value 1) or
    // multiplied by a zero coefficient.
    cur[a - 1] = 1.0;
    cur[b + 1] = 1.0;
    std::swap(prev, cur);
  }
  return Clip01(prev[m]);
}

double OuterProbInside(int64_t n1, int64_t n2, int64_t g, int64_t h) {
  const int64_t m = std::max(n1, n2), n = std::min(n1, n2);
  const int64_t mg = m / g, ng = n / g;
  if (SomeColumnIsEmpty(m, n, mg, ng, h)) return 1.0;
  double* buf = Buffer(ThreadScratch().dp, 3 * static_cast<size_t>(m + 3));
  double* iv = buf + 2 * (m + 3);
  for (int64_t k = 0; k < m + 3; ++k) iv[k] = static_cast<double>(k - 1);
  return SweepAntiDiagonals(m, n, mg, ng, h, buf, buf + m + 3, iv);
}

struct ExactAttempt {
  bool ok;
  double d;  // D rounded to a multiple of 1/lcm(n1, n2), as scipy reports it.
  double p;
};

// scipy's _attempt_exact_2kssamp for the two-sided alternative. Its n != m
// branch is compiled with pythran, so no floating-point exception can fire;
// the only failure is a probability outside [0, 1] (or NaN).
ExactAttempt AttemptExact(int64_t n1, int64_t n2, double d) {
  const int64_t g = std::gcd(n1, n2);
  const int64_t lcm = (n1 / g) * n2;
  const double dlcm = static_cast<double>(lcm);
  const auto h = static_cast<int64_t>(std::nearbyint(d * dlcm));  // half-even
  d = static_cast<double>(h) / dlcm;
  if (h == 0) return {true, d, 1.0};
  const double p =
      n1 == n2 ? ProbOutsideSquare(n1, h) : OuterProbInside(n1, n2, g, h);
  return {p >= 0 && p <= 1, d, p};
}

// ---------------------------------------------------------------------------
// One-sided Smirnov survival function, scipy.special.smirnov(n, x).
// cephes evaluates the Birnbaum-Tingey sum in double-double; we use long
// double (64-bit significand) and logarithms, enough for ~1e-13 relative.

constexpr double kCephesMinLog = -7.451332191019412076235e2;  // log(2^-1075)

// log(k!) - log(sqrt(2 pi k) (k/e)^k), k >= 1 (Loader 2000, "Fast and
// accurate computation of binomial probabilities").
double StirlingError(int64_t k) {
  static const std::array<double, 16> kSmall = [] {
    std::array<double, 16> t{};
    for (int i = 1; i < 16; ++i) {
      const long double li = i;
      t[static_cast<size_t>(i)] = static_cast<double>(
          std::lgamma(li + 1) - (li + 0.5L) * std::log(li) + li -
          0.5L * std::log(2 * std::numbers::pi_v<long double>));
    }
    return t;
  }();
  if (k < 16) return kSmall[static_cast<size_t>(k)];
  constexpr double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260,
                   s3 = 1.0 / 1680, s4 = 1.0 / 1188;
  const double dk = static_cast<double>(k);
  const double k2 = dk * dk;
  if (k > 500) return (s0 - s1 / k2) / dk;
  if (k > 80) return (s0 - (s1 - s2 / k2) / k2) / dk;
  if (k > 35) return (s0 - (s1 - (s2 - s3 / k2) / k2) / k2) / dk;
  return (s0 - (s1 - (s2 - (s3 - s4 / k2) / k2) / k2) / k2) / dk;
}

// Deviance term x log(x/m) + m - x, given delta = x - m exactly.
double Bd0(double x, double m, double delta) {
  if (std::abs(delta) < 0.1 * (x + m)) {
    const double v = delta / (x + m);
    const double v2 = v * v;
    double s = delta * v;
    double ej = 2 * x * v;
    for (int j = 1; j < 1000; ++j) {
      ej *= v2;
      const double s1 = s + ej / (2 * j + 1);
      if (s1 == s) return s1;
      s = s1;
    }
    return s;
  }
  return x * std::log(x / m) - delta;
}

double SmirnovSf(int64_t n, double x) {
  if (!(n > 0 && x >= 0.0 && x <= 1.0)) return kNaN;
  if (n == 1) return 1 - x;
  if (x == 0.0) return 1.0;
  if (x == 1.0) return 0.0;
  // n*x exactly as hi + lo, then floor and fractional part alpha.
  const double dn = static_cast<double>(n);
  const double nx_hi = dn * x;
  const double nx_lo = std::fma(dn, x, -nx_hi);
  auto nxfl = static_cast<int64_t>(std::floor(nx_hi));
  if (static_cast<double>(nxfl) == nx_hi && nx_lo < 0) --nxfl;
  double alpha = static_cast<double>(
      (static_cast<long double>(nx_hi) - static_cast<long double>(nxfl)) +
      static_cast<long double>(nx_lo));
  if (alpha >= 1) {
    ++nxfl;
    alpha = 0;
  }
  int64_t n1mxfl = n - nxfl - (alpha == 0 ? 0 : 1);
  if (alpha == 0) n1mxfl -= 1;

  if (nxfl == 0 || (nxfl == 1 && alpha == 0)) {  // x <= 1/n
    const auto xl = static_cast<long double>(x);
    const long double t = std::pow(1.0L + xl, static_cast<long double>(n - 1));
    return static_cast<double>(1.0L - xl * t);
  }
  if (-2 * dn * x * x < kCephesMinLog) return 0.0;
  if (nxfl >= n - 1) {  // x >= 1 - 1/n
    return static_cast<double>(std::pow(1.0L - static_cast<long double>(x),
                                        static_cast<long double>(n)));
  }
  if (n > 1000000) {  // cephes: too slow to sum, use Miller's approximation.
    const double logp = -std::pow(6.0 * dn * x + 1, 2) / 18.0 / dn;
    return logp < -std::numbers::ln2 ? std::exp(logp) : 1 + std::expm1(logp);
  }
  // Lower sum, all terms positive:
  //   sf = x * sum_{v=0}^{n1mxfl} C(n,v) (x+v/n)^(v-1) (1-x-v/n)^(n-v).
  // Term v is binom_pmf(v; n, p) / p with p = x + v/n, evaluated with
  // Loader's saddle-point form: the mean n*p = v + n*x differs from v by
  // exactly n*x, so both deviance terms are accurate and no huge logarithms
  // cancel. About n terms are needed for small x (the terms peak near
  // v = n/2), so this is the hot loop of the asymptotic branch.
  const int64_t n_terms = n1mxfl + 1;
  const double nx_d = nx_hi + nx_lo;
  const double log_2pi = std::log(2 * std::numbers::pi);
  const double stirlerr_n = StirlingError(n);
  // Neumaier-compensated sum: up to ~1e6 terms.
  double sum = std::exp(dn * std::log1p(-x)) / x;  // v = 0
  double comp = 0;
  for (int64_t v = 1; v < n_terms; ++v) {
    const double dv = static_cast<double>(v);
    const double dnv = static_cast<double>(n - v);
    const double np = dv + nx_d;
    const double nq = static_cast<double>(
        (static_cast<long double>(n - v) - static_cast<long double>(nx_hi)) -
        static_cast<long double>(nx_lo));
    const double lc = stirlerr_n - StirlingError(v) - StirlingError(n - v) -
                      Bd0(dv, np, -nx_d) - Bd0(dnv, nq, nx_d);
    const double lf = log_2pi + std::log(dv) + std::log1p(-dv / dn);
    const double term = std::exp(lc - 0.5 * lf) * dn / np;
    const double t = sum + term;
    comp +=
        std::abs(sum) >= std::abs(term) ? (sum - t) + term : (term - t) + sum;
    sum = t;
    if (term != 0) {
      if (4 * static_cast<double>(n_terms - v) * term <
              std::numeric_limits<double>::epsilon() * (sum + comp) &&
          v != n_terms - 1) {
        break;
      }
    } else if (v > n / 2) {
      break;
    }
  }
  return Clip01(x * (sum + comp));
}

// ---------------------------------------------------------------------------
// Two-sided one-sample distribution (scipy/stats/_ksstats.py).

constexpr double kPi = std::numbers::pi;
constexpr double kE128 = 3.402823669209384634633746074317682114560e38;  // 2^128
constexpr double kEm128 = 1.0 / kE128;

// log(n! / n^n) by Stirling with the n log n term removed up front.
double LogNFactorialDivNPowN(double n) {
  static constexpr double kStirling[] = {
      -2.955065359477124183e-2,  6.4102564102564102564e-3,
      -1.9175269175269175269e-3, 8.4175084175084175084e-4,
      -5.952380952380952381e-4,  7.9365079365079365079e-4,
      -2.7777777777777777778e-3, 8.3333333333333333333e-2};
  const double rn = 1.0 / n;
  const double r2 = rn / n;
  double poly = 0;
  for (double c : kStirling) poly = poly * r2 + c;
  return std::log(n) / 2 - n + std::log(2 * kPi) / 2 + rn * poly;
}

// Durbin's matrix method in the Marsaglia-Tsang-Wang form: CDF.
double KolmogorovCdfDurbin(int64_t n, double d) {
  if (d >= 1.0) return 1.0;
  const double nd = static_cast<double>(n) * d;
  if (nd <= 0.5) return 0.0;
  const auto k = static_cast<int64_t>(std::ceil(nd));
  const double h = static_cast<double>(k) - nd;
  const int64_t m = 2 * k - 1;
  Eigen::VectorXd v(m), w(m);
  double fac = 1.0;
  for (int64_t j = 1; j <= m; ++j) {
    v[j - 1] = 1.0 - std::pow(h, static_cast<double>(j));
    w[j - 1] = fac;
    fac /= static_cast<double>(j);
    v[j - 1] *= fac;
  }
  const double tt =
      std::pow(std::max(2 * h - 1.0, 0.0), static_cast<double>(m)) -
      2 * std::pow(h, static_cast<double>(m));
  v[m - 1] = (1.0 + tt) * fac;

  Eigen::MatrixXd hm = Eigen::MatrixXd::Zero(m, m);
  for (int64_t c = 1; c < m; ++c) {
    for (int64_t r = c - 1; r < m; ++r) hm(r, c) = w[r - (c - 1)];
  }
  hm.col(0) = v;
  for (int64_t c = 0; c < m; ++c) hm(m - 1, c) = v[m - 1 - c];

  Eigen::MatrixXd pwr = Eigen::MatrixXd::Identity(m, m);
  int64_t expnt = 0, h_expnt = 0;
  for (int64_t nn = n; nn > 0; nn /= 2) {
    if (nn % 2) {
      pwr = (pwr * hm).eval();
      expnt += h_expnt;
    }
    hm = (hm * hm).eval();
    h_expnt *= 2;
    if (std::abs(hm(k - 1, k - 1)) > kE128) {
      hm *= kEm128;
      h_expnt += 128;
    }
  }
  double p = pwr(k - 1, k - 1);
  const double dn = static_cast<double>(n);
  for (int64_t i = 1; i <= n; ++i) {  // times n! / n^n
    p = static_cast<double>(i) * p / dn;
    if (std::abs(p) < kEm128) {
      p *= kE128;
      expnt -= 128;
    }
  }
  if (expnt != 0) p = std::ldexp(p, static_cast<int>(expnt));
  return Clip01(p);
}

// Pomeranz's recursion: CDF.
double KolmogorovCdfPomeranz(int64_t n, double x) {
  const double dn = static_cast<double>(n);
  const double t = dn * x;
  const auto ll = static_cast<int64_t>(std::floor(t));
  const double f = t - static_cast<double>(ll);
  const double g = std::min(f, 1.0 - f);
  const int64_t ceilf = f > 0 ? 1 : 0;
  const int64_t roundf = f > 0.5 ? 1 : 0;
  const int64_t npwrs = 2 * (ll + 1);
  if (npwrs < 2) return kNaN;  // Unreachable (t > 1); tells GCC size >= 2.
  // (g/n)^k/k!, (2g/n)^k/k!, ((1-2g)/n)^k/k!: unnormalised Poisson weights.
  std::vector<double> gpower(npwrs), twogpower(npwrs), onem2gpower(npwrs);
  gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
  const double g_n = g / dn, two_g_n = 2 * g / dn, one_m2g_n = (1 - 2 * g) / dn;
  for (int64_t k = 1; k < npwrs; ++k) {
    const double dk = static_cast<double>(k);
    gpower[k] = gpower[k - 1] * g_n / dk;
    twogpower[k] = twogpower[k - 1] * two_g_n / dk;
    onem2gpower[k] = onem2gpower[k - 1] * one_m2g_n / dk;
  }
  auto bounds = [&](int64_t i) {
    int64_t j1, j2;
    if (i == 0) {
      j1 = -ll - ceilf - 1;
      j2 = ll + ceilf - 1;
    } else {
      const int64_t half = (i + 1) / 2;
      if ((i + 1) % 2 == 0) {
        if (half == n + 1) {
          j1 = n - ll - ceilf - 1;
          j2 = n + ll + ceilf - 1;
        } else {
          j1 = half - 1 - ll - roundf - 1;
          j2 = half + ll - 1 + ceilf - 1;
        }
      } else {
        j1 = half - 1 - ll - 1;
        j2 = half + ll + roundf - 1;
      }
    }
    return std::pair<int64_t, int64_t>{std::max(j1 + 2, int64_t{0}),
                                       std::min(j2, n)};
  };
  // Two rows; row r holds columns [start_r, ...).
  std::vector<double> v0(npwrs, 0.0), v1(npwrs, 0.0);
  v1[0] = 1;
  int64_t v0s = 0, v1s = 0, expnt = 0;
  auto [j1, j2] = bounds(0);
  for (int64_t i = 1; i <= 2 * n + 1; ++i) {
    const int64_t k1 = j1;
    std::swap(v0, v1);
    std::swap(v0s, v1s);
    std::fill(v1.begin(), v1.end(), 0.0);
    std::tie(j1, j2) = bounds(i);
    const std::vector<double>& pw =
        (i == 1 || i == 2 * n + 1) ? gpower : (i % 2 ? twogpower : onem2gpower);
    const int64_t ln2 = j2 - k1 + 1;
    if (ln2 > 0) {
      // conv = convolve(v0[k1-v0s : k1-v0s+ln2], pw[:ln2]) (numpy slices
      // truncate at the array end); keep conv[j1-k1 : j1-k1+(j2-j1+1)].
      const int64_t off = k1 - v0s;
      const int64_t la = std::max<int64_t>(0, std::min(ln2, npwrs - off));
      const int64_t lb = std::min(ln2, npwrs);
      const int64_t conv_start = j1 - k1, conv_len = j2 - j1 + 1;
      double vmax = 0;
      for (int64_t c = 0; c < conv_len; ++c) {
        const int64_t tt = conv_start + c;
        double acc = 0;
        for (int64_t a = std::max<int64_t>(0, tt - lb + 1);
             a <= std::min(tt, la - 1); ++a) {
          acc += v0[off + a] * pw[tt - a];
        }
        v1[c] = acc;
        vmax = std::max(vmax, acc);
      }
      if (vmax > 0 && vmax < kEm128) {
        for (double& e : v1) e *= kE128;
        expnt -= 128;
      }
      v1s = v0s + j1 - k1;
    }
  }
  double ans = v1[n - v1s];
  for (int64_t k = 1; k <= n; ++k) {  // times n!
    if (std::abs(ans) > kE128) {
      ans *= kEm128;
      expnt += 128;
    }
    ans *= static_cast<double>(k);
  }
  if (expnt != 0) ans = std::ldexp(ans, static_cast<int>(expnt));
  return Clip01(ans);
}

// Pelz-Good asymptotic series (an approximation; scipy uses it as is for
// large n, so we must evaluate the same truncated series).
double KolmogorovCdfPelzGood(int64_t n, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  constexpr double kPi2 = kPi * kPi, kPi4 = kPi2 * kPi2, kPi6 = kPi4 * kPi2;
  const double sqrt2pi = std::sqrt(2 * kPi);
  const double dn = static_cast<double>(n);
  const double z = std::sqrt(dn) * x;
  const double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
  const double qlog = -kPi2 / 8 / z2;
  if (qlog < -708) return 0.0;
  double q = std::exp(qlog);

  const double k1a = -z2, k1b = kPi2 / 4;
  const double k2a = 6 * z6 + 2 * z4;
  const double k2b = (2 * z4 - 5 * z2) * kPi2 / 4;
  const double k2c = kPi4 * (1 - 2 * z2) / 16;
  const double k3d = kPi6 * (5 - 30 * z2) / 64;
  const double k3c = kPi4 * (-60 * z2 + 212 * z4) / 16;
  const double k3b = kPi2 * (135 * z4 - 96 * z6) / 4;
  const double k3a = -30 * z6 - 90 * std::pow(z, 8);

  double kk[4] = {0, 0, 0, 0};
  const auto maxk = static_cast<int64_t>(std::ceil(16 * z / kPi));
  for (int64_t k = maxk; k > 0; --k) {  // Horner in q^(8k) over odd m.
    const double mm = static_cast<double>(2 * k - 1);
    const double m2 = mm * mm, m4 = m2 * m2, m6 = m4 * m2;
    const double qp = std::pow(q, static_cast<double>(8 * k));
    const double coeffs[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                              k3a + k3b * m2 + k3c * m4 + k3d * m6};
    for (int r = 0; r < 4; ++r) kk[r] = kk[r] * qp + coeffs[r];
  }
  const double denom[4] = {z, 6 * z4, 72 * std::pow(z, 7),
                           6480 * std::pow(z, 10)};
  for (int r = 0; r < 4; ++r) kk[r] = kk[r] * q * sqrt2pi / denom[r];

  q = std::exp(-kPi2 / 2 / z2);
  const double sqrt3z = std::sqrt(3.0) * z;
  double k2extra = 0, k3extra = 0;
  for (int64_t k = maxk; k > 0; --k) {
    const double dk = static_cast<double>(k);
    const double k2 = dk * dk;
    const double qk = std::pow(q, k2);
    const double kpi = kPi * dk;
    k2extra += k2 * qk;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qk;
  }
  kk[2] += k2extra * (kPi2 * sqrt2pi / (-36 * z3));
  kk[3] += k3extra * (kPi2 * sqrt2pi / (216 * z6));
  const double sn = std::sqrt(dn);
  return kk[0] + kk[1] / sn + kk[2] / dn + kk[3] / (dn * sn);
}

// scipy's _kolmogn(n, x, cdf=False): the Simard-L'Ecuyer choice of method.
double KolmogorovSf(int64_t n, double x) {
  if (x >= 1.0) return 0.0;
  if (x <= 0.0) return 1.0;
  const double dn = static_cast<double>(n);
  const double t = dn * x;
  if (t <= 1.0) {  // Ruben-Gambino: cdf = n!/n^n (2t-1)^n
    if (t <= 0.5) return 1.0;
    double prob;
    if (n <= 140) {
      prob = 1.0;
      const double rn = 1.0 / dn, f = 2 * t - 1;
      for (int64_t k = 1; k <= n; ++k) prob *= static_cast<double>(k) * rn * f;
    } else {
      prob = std::exp(LogNFactorialDivNPowN(dn) + dn * std::log(2 * t - 1));
    }
    return Clip01(1.0 - prob);
  }
  if (t >= dn - 1) return Clip01(2 * std::pow(1.0 - x, dn));  // Ruben-Gambino
  if (x >= 0.5) return Clip01(2 * SmirnovSf(n, x));  // D+ and D- disjoint.
  const double nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) return Clip01(1.0 - KolmogorovCdfDurbin(n, x));
    if (nx2 <= 4) return Clip01(1.0 - KolmogorovCdfPomeranz(n, x));
    return Clip01(2 * SmirnovSf(n, x));
  }
  if (nx2 >= 370.0) return 0.0;
  if (nx2 >= 2.2) return Clip01(2 * SmirnovSf(n, x));
  double cdf;
  if (n <= 100000 && dn * std::pow(x, 1.5) <= 1.4) {
    cdf = KolmogorovCdfDurbin(n, x);
  } else {
    cdf = KolmogorovCdfPelzGood(n, x);
  }
  return Clip01(1.0 - cdf);
}

}  // namespace

absl::StatusOr<KsResult> KsTwoSampleSorted(std::span<const double> ref_sorted,
                                           std::span<const double> cur_sorted,
                                           KsMethod method) {
  if (absl::Status s = CheckSample(ref_sorted, "reference"); !s.ok()) return s;
  if (absl::Status s = CheckSample(cur_sorted, "current"); !s.ok()) return s;
  const auto n1 = static_cast<int64_t>(ref_sorted.size());
  const auto n2 = static_cast<int64_t>(cur_sorted.size());
  KsResult r;
  r.statistic = TwoSidedStatistic(ref_sorted, cur_sorted);
  r.mode = method == KsMethod::kAuto && std::max(n1, n2) <= kMaxExactN
               ? KsMode::kExact
               : KsMode::kAsymptotic;
  if (r.mode == KsMode::kExact) {
    const ExactAttempt e = AttemptExact(n1, n2, r.statistic);
    r.statistic = e.d;
    if (e.ok) {
      r.p_value = Clip01(e.p);
      return r;
    }
    r.mode = KsMode::kAsymptotic;  // scipy warns and switches.
  }
  // sizes sorted descending because scipy does (irrelevant for two-sided).
  const auto big = static_cast<double>(std::max(n1, n2));
  const auto small = static_cast<double>(std::min(n1, n2));
  const double en = big * small / (big + small);
  r.p_value = Clip01(
      KsTwoSurvival(r.statistic, static_cast<int64_t>(std::nearbyint(en))));
  return r;
}

absl::StatusOr<KsResult> KsTwoSample(std::span<const double> ref,
                                     std::span<const double> cur) {
  Scratch& scratch = ThreadScratch();
  const std::span<double> a(Buffer(scratch.ref, ref.size()), ref.size());
  const std::span<double> b(Buffer(scratch.cur, cur.size()), cur.size());
  std::copy(ref.begin(), ref.end(), a.begin());
  std::copy(cur.begin(), cur.end(), b.begin());
  // Reject NaN before sorting: it has no place in a total order.
  for (auto [v, name] : {std::pair{a, "reference"}, std::pair{b, "current"}}) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::isnan(v[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("ks: NaN in ", name, " sample at index ", i));
      }
    }
  }
  SortFinite(a);  // stats/sort.h
  SortFinite(b);
  return KsTwoSampleSorted(a, b);
}

double KsExactSurvival(double d, int64_t n, int64_t m) {
  if (n <= 0 || m <= 0 || std::isnan(d)) return kNaN;
  const ExactAttempt e = AttemptExact(n, m, d);
  return e.ok ? Clip01(e.p) : kNaN;
}

double KsTwoSurvival(double d, int64_t n) {
  if (std::isnan(d) || n < 1) return kNaN;
  // rv_continuous.sf: 1 at or below the support's lower end 0.5/n, 0 at or
  // above its upper end 1.
  if (d <= 0.5 / static_cast<double>(n)) return 1.0;
  if (d >= 1.0) return 0.0;
  return KolmogorovSf(n, d);
}

}  // namespace aiq::stats
