// `drift_threshold: auto`: a feature's drift threshold calibrated from its
// reference, so that a window drawn from the reference's own distribution
// is flagged at most about 1 % of the time, whatever the test, the data's
// shape and (for p-value tests) the window's size. A fixed threshold cannot
// do that: KS at p <= 0.05 flags 5 % of stationary windows by design, and a
// distance threshold such as Wasserstein 0.1 flags many more or almost none
// depending on how many values the window holds.
//
// Algorithm (docs/statistics.md, "Adaptive thresholds"): draw
// kCalibrationDraws random chunks of `chunk` reference values (without
// replacement; a seeded shuffle, so the reference's row order does not
// matter), score each chunk against the REST of the reference with the
// feature's test, and take the kCalibrationExtremes-th most extreme score
// (the 50th largest distance or smallest p-value of 10,000); the threshold
// sits just beyond it, so that only a strictly more extreme score is drift.
// By the Monte Carlo test argument, a window exchangeable with the chunks
// scores beyond it with probability 50/10001 (0.5 %) on average over the
// draws, and below 0.75 % for all but one set of draws in a thousand. The
// documented bound is 1 % (kCalibratedFalseAlarmBound): the rest of the
// margin is for the reference's own sampling error (a window is compared
// with the whole reference, which is itself a sample).
//
// Example, given `std::span<const double> reference_values`:
//   absl::StatusOr<FeatureReference> ref =
//       FeatureReference::Numeric(reference_values);
//   absl::Status s = ref->CalibrateThreshold(/*chunk=*/200);
//   // ref->choice().threshold: calibrated; calibration_chunk == 200
//
// The pieces, for tests and for reading the result:
//
// Example, given `const FeatureReference& ref`:
//   absl::StatusOr<std::vector<double>> scores =
//       CalibrationScores(ref, /*chunk=*/200);
//   double t = ThresholdFromChunkScores(ref.choice().test, *scores);
//   // For KS the scores are D statistics and t is not the threshold: the
//   // threshold is the p-value of the 50th largest D (CalibrateThreshold).
#ifndef AIQ_EXPORTER_STATS_DRIFT_CALIBRATION_H_
#define AIQ_EXPORTER_STATS_DRIFT_CALIBRATION_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/stats/drift_policy.h"

namespace aiq::stats {

// 10,000 chunks, the 50th most extreme: alpha = 50 / 10001. The rate a
// particular set of draws gives is Beta(50, 9952)-distributed (sd 0.07 %);
// with 1,000 draws and the 5th it spread from 0.1 % to 1.4 % (measured).
// Each draw costs O(chunk) (not a pass over the reference), at load time.
inline constexpr int kCalibrationDraws = 10000;
inline constexpr int kCalibrationExtremes = 50;
// The per-window false-alarm rate docs/statistics.md promises for windows
// of the chunk's size or larger (tested in drift_calibration_test.cc).
inline constexpr double kCalibratedFalseAlarmBound = 0.01;
// Chunks smaller than this give scores too coarse to calibrate anything.
inline constexpr int64_t kMinCalibrationChunk = 10;
// Fixed, so that the same reference always gives the same threshold (after
// a restart, on every replica, in `report` and in the exporter).
inline constexpr uint64_t kCalibrationSeed = 0x6175746f5f746872ULL;

// The positions (ascending, in [0, values)) of draw `draw`'s chunk: indices
// into the sorted reference values (numeric tests), or into the values
// listed category by category in category_order() (tests over categories).
// Empty for impossible arguments.
std::vector<uint32_t> CalibrationChunk(int64_t values, int64_t chunk, int draw);

// The statistic of `draws` random chunks of `chunk` values, each against
// the rest of the reference, in draw order: the score of
// reference.choice().test (p-value, distance or PSI, over categories when
// choice().as_categories), except for KS: the D statistic, whose p-value
// is costly and falls as D grows. InvalidArgument when chunk <
// kMinCalibrationChunk or the reference holds fewer than 2 * chunk values.
absl::StatusOr<std::vector<double>> CalibrationScores(
    const FeatureReference& reference, int64_t chunk,
    int draws = kCalibrationDraws);

// The threshold just beyond the `extremes`-th most extreme of `scores`
// (the smallest p-values, the largest distances), such that
// IsDrift(test, s, threshold) holds exactly for the scores s strictly more
// extreme than it: the `extremes`-th smallest p-value for Z and chi-square
// (drift when p < threshold), the next double below it for KS (p <=), the
// next double above the `extremes`-th largest score for the others (>=).
// `scores` must hold at least `extremes` values (extremes >= 1).
double ThresholdFromChunkScores(DriftTest test, std::span<const double> scores,
                                int extremes = kCalibrationExtremes);

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_DRIFT_CALIBRATION_H_
