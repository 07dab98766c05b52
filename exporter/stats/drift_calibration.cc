#include "exporter/stats/drift_calibration.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "exporter/stats/binned_drift.h"
#include "exporter/stats/categorical.h"
#include "exporter/stats/ks.h"
#include "exporter/stats/summation.h"
#include "exporter/stats/wasserstein.h"

namespace aiq::stats {
namespace {

// Positions are uint32, and i * n (i <= chunk <= n / 2) must fit in int64.
constexpr int64_t kMaxCalibrationValues = std::numeric_limits<int32_t>::max();

// splitmix64 (Steele, Lea & Flood 2014): one word of state and fully
// specified, so every platform and compiler draws the same chunks (the
// standard library's distributions are implementation-defined).
uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in [0, bound), bound > 0, without modulo bias: draws at or above
// the largest multiple of `bound` that fits in 64 bits are rejected.
uint64_t UniformBelow(uint64_t& state, uint64_t bound) {
  const uint64_t excess = (std::numeric_limits<uint64_t>::max() % bound + 1) %
                          bound;  // 2^64 mod bound
  for (;;) {
    const uint64_t x = SplitMix64(state);
    if (x <= std::numeric_limits<uint64_t>::max() - excess) return x % bound;
  }
}

// Draw `draw`'s chunk: `chunk` distinct positions in [0, n), ascending,
// from a partial Fisher-Yates shuffle driven by the draw's own stream
// (seeded from `draw`) and undone afterwards, so that any draw can be
// replayed alone.
class ChunkSampler {
 public:
  explicit ChunkSampler(size_t n) : perm_(n), bits_((n + 63) / 64, 0) {
    std::iota(perm_.begin(), perm_.end(), uint32_t{0});
  }

  // Valid until the next Draw.
  std::span<const uint32_t> Draw(int draw, size_t chunk) {
    uint64_t state = kCalibrationSeed ^ (static_cast<uint64_t>(draw) + 1);
    state = SplitMix64(state);  // decorrelate neighbouring draws' streams
    const size_t n = perm_.size();
    swaps_.clear();
    for (size_t i = 0; i < chunk; ++i) {
      const size_t j = i + static_cast<size_t>(UniformBelow(state, n - i));
      std::swap(perm_[i], perm_[j]);
      swaps_.push_back(static_cast<uint32_t>(j));
    }
    picked_.assign(perm_.begin(),
                   perm_.begin() + static_cast<std::ptrdiff_t>(chunk));
    for (size_t i = chunk; i-- > 0;) std::swap(perm_[i], perm_[swaps_[i]]);
    // Ascending: a sort while that is cheaper than a pass over a bitmap of
    // every position; the same result either way.
    if (chunk * static_cast<size_t>(std::bit_width(chunk)) < bits_.size()) {
      std::sort(picked_.begin(), picked_.end());
      return picked_;
    }
    for (uint32_t p : picked_) bits_[p >> 6] |= uint64_t{1} << (p & 63);
    picked_.clear();
    for (size_t w = 0; w < bits_.size(); ++w) {
      for (uint64_t b = bits_[w]; b != 0; b &= b - 1) {
        picked_.push_back(static_cast<uint32_t>(
            w * 64 + static_cast<size_t>(std::countr_zero(b))));
      }
      bits_[w] = 0;
    }
    return picked_;
  }

 private:
  std::vector<uint32_t> perm_;  // the identity between draws
  std::vector<uint64_t> bits_;  // all zero between draws
  std::vector<uint32_t> swaps_;
  std::vector<uint32_t> picked_;
};

// KS's D and Wasserstein's distance of chunks against the rest, in O(chunk)
// per chunk instead of a pass over the whole reference. The chunk is part of
// the reference: F_ref = (m F_chunk + (n - m) F_rest) / n, so
// F_chunk - F_rest = n / (n - m) * (F_chunk - F_ref) at every x, and both
// D (a sup) and W (an integral of |F_chunk - F_rest|) are n / (n - m) times
// the chunk's against the whole reference, which only has to be evaluated
// where F_chunk steps.
class ChunkDistances {
 public:
  explicit ChunkDistances(std::span<const double> sorted) : s_(sorted) {
    const size_t n = s_.size();
    // Runs of equal values: [run_lo_[p], run_hi_[p]) holds s_[p]'s.
    run_lo_.resize(n);
    run_hi_.resize(n);
    for (size_t p = 0; p < n; ++p) {
      run_lo_[p] = p > 0 && s_[p] == s_[p - 1] ? run_lo_[p - 1]
                                               : static_cast<uint32_t>(p);
    }
    for (size_t p = n; p-- > 0;) {
      run_hi_[p] = p + 1 < n && s_[p] == s_[p + 1]
                       ? run_hi_[p + 1]
                       : static_cast<uint32_t>(p + 1);
    }
    // weighted_[j] = sum over t < j of (s[t+1] - s[t]) * (t + 1) / n, the
    // integral of F_ref from s[0] to s[j]; compensated, so that differences
    // of two entries keep their digits.
    weighted_.resize(n);
    CompensatedSum acc;
    for (size_t t = 0; t < n; ++t) {
      weighted_[t] = acc.Value();
      if (t + 1 < n) {
        acc.Add((s_[t + 1] - s_[t]) * static_cast<double>(t + 1) /
                static_cast<double>(n));
      }
    }
  }

  // sup |F_chunk - F_rest|; `q` ascending positions.
  double Ks(std::span<const uint32_t> q) const {
    const double n = static_cast<double>(s_.size());
    const double m = static_cast<double>(q.size());
    double d = 0;
    size_t i = 0;
    while (i < q.size()) {
      // A run of equal chunk values: F_chunk steps from i / m to j / m
      // there, F_ref from run_lo / n to run_hi / n. Between runs F_chunk is
      // flat while F_ref rises, so the sup is at the ends of the flats.
      size_t j = i + 1;
      while (j < q.size() && run_lo_[q[j]] == run_lo_[q[i]]) ++j;
      d = std::max(d, std::abs(static_cast<double>(i) / m -
                               static_cast<double>(run_lo_[q[i]]) / n));
      d = std::max(d, std::abs(static_cast<double>(j) / m -
                               static_cast<double>(run_hi_[q[i]]) / n));
      i = j;
    }
    return d * n / (n - m);
  }

  // The integral of |F_chunk - F_rest|; `q` ascending positions.
  double Wasserstein(std::span<const uint32_t> q) const {
    const auto n = static_cast<int64_t>(s_.size());
    const auto m = static_cast<int64_t>(q.size());
    // On [s[t], s[t+1]) F_ref = (t + 1) / n and F_chunk = i / m, i = the
    // chunk positions <= t, constant for t in [q_i, q_{i+1} - 1]. There
    // i/m - (t+1)/n changes sign once, after t = floor(i n / m) - 1.
    double w = 0;
    for (int64_t i = 0; i <= m; ++i) {
      const int64_t lo = i == 0 ? 0 : int64_t{q[static_cast<size_t>(i - 1)]};
      const int64_t hi =
          i == m ? n - 2 : int64_t{q[static_cast<size_t>(i)]} - 1;
      if (lo > hi) continue;
      const double c = static_cast<double>(i) / static_cast<double>(m);
      const int64_t cross = i * n / m - 1;  // the last t with (t+1)/n <= c
      if (const int64_t b = std::min(hi, cross); b >= lo) {
        w += std::max(0.0, c * Span(lo, b) - Weighted(lo, b));
      }
      if (const int64_t a = std::max(lo, cross + 1); a <= hi) {
        w += std::max(0.0, Weighted(a, hi) - c * Span(a, hi));
      }
    }
    return w * static_cast<double>(n) / static_cast<double>(n - m);
  }

 private:
  // Over t in [a, b]: the sum of s[t+1] - s[t], and of that times (t+1)/n.
  double Span(int64_t a, int64_t b) const {
    return s_[static_cast<size_t>(b + 1)] - s_[static_cast<size_t>(a)];
  }
  double Weighted(int64_t a, int64_t b) const {
    return weighted_[static_cast<size_t>(b + 1)] -
           weighted_[static_cast<size_t>(a)];
  }

  std::span<const double> s_;
  std::vector<uint32_t> run_lo_, run_hi_;
  std::vector<double> weighted_;
};

int64_t ValueCount(const FeatureReference& ref) {
  return ref.choice().as_categories ? ref.categories().total()
                                    : ref.numeric().size();
}

absl::Status CheckChunk(int64_t values, int64_t chunk) {
  if (chunk < kMinCalibrationChunk) {
    return absl::InvalidArgumentError(absl::StrCat(
        "drift_threshold: auto: calibration chunks of ", chunk,
        " values are too small (at least ", kMinCalibrationChunk, ")"));
  }
  if (values < 2 * chunk) {
    return absl::InvalidArgumentError(
        absl::StrCat("drift_threshold: auto needs at least ", 2 * chunk,
                     " reference values (two calibration chunks of ", chunk,
                     "); the reference has ", values));
  }
  if (values > kMaxCalibrationValues) {
    return absl::InvalidArgumentError(
        absl::StrCat("drift_threshold: auto: more than ", kMaxCalibrationValues,
                     " reference values"));
  }
  return absl::OkStatus();
}

// Chunks of a numeric feature tested on its values: KS, Wasserstein, and
// PSI / Jensen-Shannon on the reference's decile bins.
absl::StatusOr<std::vector<double>> NumericScores(const FeatureReference& ref,
                                                  int64_t chunk, int draws) {
  const NumericReference& num = ref.numeric();
  const DriftTest test = ref.choice().test;
  const bool binned =
      test == DriftTest::kPsi || test == DriftTest::kJensenShannon;
  if (!binned && test != DriftTest::kKs && test != DriftTest::kWasserstein) {
    return absl::InternalError("drift calibration: categorical test");
  }
  std::optional<ChunkDistances> distances;
  if (!binned) distances.emplace(num.sorted);
  ChunkSampler sampler(num.sorted.size());
  std::vector<double> scores;
  scores.reserve(static_cast<size_t>(draws));
  std::vector<int64_t> chunk_bins(num.bin_counts.size()), rest_bins;
  for (int d = 0; d < draws; ++d) {
    std::span<const uint32_t> q = sampler.Draw(d, static_cast<size_t>(chunk));
    if (test == DriftTest::kKs) {
      scores.push_back(distances->Ks(q));
    } else if (test == DriftTest::kWasserstein) {
      // Normed by the whole reference's spread, as a window's score is.
      scores.push_back(
          NormedWasserstein(distances->Wasserstein(q), num.std_dev));
    } else {
      // The bins stay the whole reference's, as a window's do; the rest's
      // counts are the reference's minus the chunk's.
      std::fill(chunk_bins.begin(), chunk_bins.end(), 0);
      for (uint32_t p : q) {
        ++chunk_bins[static_cast<size_t>(num.bins.BinOf(num.sorted[p]))];
      }
      rest_bins = num.bin_counts;
      for (size_t b = 0; b < rest_bins.size(); ++b) {
        rest_bins[b] -= chunk_bins[b];
      }
      absl::StatusOr<double> s =
          test == DriftTest::kPsi
              ? PsiFromCounts(rest_bins, chunk_bins)
              : JensenShannonFromCounts(rest_bins, chunk_bins);
      if (!s.ok()) return s.status();
      scores.push_back(*s);
    }
  }
  return scores;
}

// Chunks of a feature tested over categories: value position p of the
// reference (its categories in order, each repeated by its count) has
// category index_of[p]; the rest's counts are the reference's minus the
// chunk's.
absl::StatusOr<std::vector<double>> CategoryScores(const FeatureReference& ref,
                                                   int64_t chunk, int draws) {
  const AlignedCounts aligned =
      AlignCategories(ref.categories(), CategoryCounts(), ref.category_order());
  const std::vector<int64_t>& counts = aligned.reference;
  std::vector<uint32_t> index_of;
  index_of.reserve(static_cast<size_t>(ref.categories().total()));
  for (size_t k = 0; k < counts.size(); ++k) {
    index_of.insert(index_of.end(), static_cast<size_t>(counts[k]),
                    static_cast<uint32_t>(k));
  }
  const DriftTest test = ref.choice().test;
  const auto n = static_cast<int64_t>(index_of.size());
  ChunkSampler sampler(index_of.size());
  std::vector<double> scores;
  scores.reserve(static_cast<size_t>(draws));
  std::vector<int64_t> chunk_counts(counts.size()), rest_counts;
  for (int d = 0; d < draws; ++d) {
    std::fill(chunk_counts.begin(), chunk_counts.end(), 0);
    for (uint32_t p : sampler.Draw(d, static_cast<size_t>(chunk))) {
      ++chunk_counts[index_of[p]];
    }
    rest_counts = counts;
    for (size_t k = 0; k < counts.size(); ++k) {
      rest_counts[k] -= chunk_counts[k];
    }
    double score = 0;
    switch (test) {
      case DriftTest::kZ: {
        // ZTestCategories' convention: success = not the smallest category.
        if (counts.size() < 2) {
          score = 1;
          break;
        }
        absl::StatusOr<ZTestResult> z =
            TwoProportionZTest(n - chunk - rest_counts[0], n - chunk,
                               chunk - chunk_counts[0], chunk);
        if (!z.ok()) return z.status();
        score = z->p_value;
        break;
      }
      case DriftTest::kChiSquare: {
        absl::StatusOr<ChiSquareResult> chi =
            ChiSquareFromCounts(rest_counts, chunk_counts);
        if (!chi.ok()) return chi.status();
        score = chi->p_value;
        break;
      }
      case DriftTest::kJensenShannon:
      case DriftTest::kPsi: {
        absl::StatusOr<double> s =
            test == DriftTest::kPsi
                ? PsiFromCounts(rest_counts, chunk_counts)
                : JensenShannonFromCounts(rest_counts, chunk_counts);
        if (!s.ok()) return s.status();
        score = *s;
        break;
      }
      case DriftTest::kKs:
      case DriftTest::kWasserstein:
        return absl::InternalError("drift calibration: numeric test");
    }
    scores.push_back(score);
  }
  return scores;
}

}  // namespace

std::vector<uint32_t> CalibrationChunk(int64_t values, int64_t chunk,
                                       int draw) {
  if (values < 1 || chunk < 0 || chunk > values ||
      values > kMaxCalibrationValues) {
    return {};
  }
  ChunkSampler sampler(static_cast<size_t>(values));
  std::span<const uint32_t> q = sampler.Draw(draw, static_cast<size_t>(chunk));
  return std::vector<uint32_t>(q.begin(), q.end());
}

absl::StatusOr<std::vector<double>> CalibrationScores(
    const FeatureReference& reference, int64_t chunk, int draws) {
  if (absl::Status s = CheckChunk(ValueCount(reference), chunk); !s.ok()) {
    return s;
  }
  if (draws < 1) {
    return absl::InvalidArgumentError("drift calibration: draws must be >= 1");
  }
  return reference.choice().as_categories
             ? CategoryScores(reference, chunk, draws)
             : NumericScores(reference, chunk, draws);
}

double ThresholdFromChunkScores(DriftTest test, std::span<const double> scores,
                                int extremes) {
  if (scores.empty()) return DefaultThreshold(test);  // documented: not so
  std::vector<double> s(scores.begin(), scores.end());
  const size_t k =
      std::min(static_cast<size_t>(std::max(extremes, 1)), s.size()) - 1;
  const auto kth = s.begin() + static_cast<std::ptrdiff_t>(k);
  if (IsPValueTest(test)) {
    std::nth_element(s.begin(), kth, s.end());
    // Z and chi-square drift when p < threshold: the k-th smallest itself.
    // KS drifts when p <= threshold: the next double below (0 stays 0).
    return test == DriftTest::kKs ? std::nextafter(*kth, 0.0) : *kth;
  }
  std::nth_element(s.begin(), kth, s.end(), std::greater<>());
  return std::nextafter(*kth, std::numeric_limits<double>::infinity());
}

absl::Status FeatureReference::CalibrateThreshold(int64_t chunk) {
  absl::StatusOr<std::vector<double>> scores =
      CalibrationScores(*this, chunk, kCalibrationDraws);
  if (!scores.ok()) return scores.status();
  double threshold = 0;
  if (choice_.test == DriftTest::kKs) {
    // The chunks all have the same size, so a chunk's p-value falls as its
    // D grows: the k-th smallest p-value is the p-value of the chunk with
    // the k-th largest D. Replay that draw and compute its p-value as a
    // window's would be (KsTwoSampleSorted, method auto).
    std::vector<std::pair<double, int>> by_d;
    by_d.reserve(scores->size());
    for (size_t d = 0; d < scores->size(); ++d) {
      by_d.emplace_back((*scores)[d], static_cast<int>(d));
    }
    const auto kth =
        by_d.begin() + static_cast<std::ptrdiff_t>(kCalibrationExtremes - 1);
    std::nth_element(by_d.begin(), kth, by_d.end(), std::greater<>());
    const std::vector<uint32_t> q =
        CalibrationChunk(numeric_.size(), chunk, kth->second);
    std::vector<double> values, rest;
    values.reserve(q.size());
    rest.reserve(numeric_.sorted.size() - q.size());
    size_t next = 0;
    for (size_t p = 0; p < numeric_.sorted.size(); ++p) {
      if (next < q.size() && q[next] == p) {
        values.push_back(numeric_.sorted[p]);
        ++next;
      } else {
        rest.push_back(numeric_.sorted[p]);
      }
    }
    absl::StatusOr<KsResult> ks = KsTwoSampleSorted(rest, values);
    if (!ks.ok()) return ks.status();
    threshold = std::nextafter(ks->p_value, 0.0);
  } else {
    threshold = ThresholdFromChunkScores(choice_.test, *scores);
  }
  choice_.threshold = threshold;
  choice_.calibration_chunk = chunk;
  return absl::OkStatus();
}

}  // namespace aiq::stats
