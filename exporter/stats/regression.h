// Regression quality as sklearn.metrics computes it: MAE, MSE, RMSE, R^2,
// MAPE; in batch form and as a mergeable accumulator a streaming window can
// add to and subtract from per time bucket.
//
// Example, given `std::span<const double> y_true`,
// `std::span<const double> y_pred`, `double reference_target_mean` and
// `const RegressionAccumulator& expired_bucket`:
//   absl::StatusOr<aiq::stats::RegressionMetrics> m =
//       aiq::stats::EvaluateRegression(y_true, y_pred);
//
//   aiq::stats::RegressionAccumulator window(
//       /*shift=*/reference_target_mean);
//   window.Add(/*y_true=*/3.0, /*y_pred=*/2.5).IgnoreError();  // per event
//   window.Unmerge(expired_bucket);    // a bucket aged out
//   absl::StatusOr<aiq::stats::RegressionMetrics> w = window.Metrics();
//
// Definitions (sklearn 1.2): MAE = mean|y - y^|, MSE = mean (y - y^)^2,
// RMSE = sqrt(MSE), MAPE = mean |y - y^| / max(|y|, DBL_EPSILON),
// R^2 = 1 - SS_res / SS_tot with SS_tot = sum (y - mean y)^2; when SS_tot = 0
// R^2 is 1 if SS_res = 0 else 0 (sklearn's force_finite=True).
// Accuracy: the accumulator keeps Neumaier sums of (y - shift) and
// (y - shift)^2, so SS_tot stays accurate to ~1e-12 relative for targets
// with large offsets (y ~ 1e6) as long as `shift` is near the data (the
// reference mean, or the first value seen, the default).
#ifndef AIQ_EXPORTER_STATS_REGRESSION_H_
#define AIQ_EXPORTER_STATS_REGRESSION_H_

#include <cstdint>
#include <optional>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exporter/stats/summation.h"
#include "exporter/util/binary_codec.h"

namespace aiq::stats {

struct RegressionMetrics {
  int64_t count = 0;
  double mae = 0;
  double mse = 0;
  double rmse = 0;
  double r2 = 0;
  double mape = 0;
};

// Same non-zero length, finite. Two-pass, as sklearn.
absl::StatusOr<RegressionMetrics> EvaluateRegression(
    std::span<const double> y_true, std::span<const double> y_pred);

class RegressionAccumulator {
 public:
  RegressionAccumulator() = default;
  explicit RegressionAccumulator(double shift) : shift_(shift) {}

  // Non-finite values are InvalidArgument (state unchanged).
  absl::Status Add(double y_true, double y_pred);
  absl::Status Subtract(double y_true, double y_pred);
  // Accumulators with different shifts are re-based exactly (algebraically)
  // onto this one's shift.
  void Merge(const RegressionAccumulator& other);
  void Unmerge(const RegressionAccumulator& other);

  int64_t count() const { return count_; }
  std::optional<double> shift() const { return shift_; }
  // Empty is InvalidArgument.
  absl::StatusOr<RegressionMetrics> Metrics() const;

  // The shift and every sum, bit-exact. DecodeFrom: DataLoss on truncated
  // or malformed input; unchanged on error.
  void EncodeTo(util::BinaryWriter& w) const;
  absl::Status DecodeFrom(util::BinaryReader& r);

 private:
  void Accumulate(const RegressionAccumulator& other, double sign);

  std::optional<double> shift_;  // set on first Add when not given
  int64_t count_ = 0;
  CompensatedSum abs_error_;
  CompensatedSum sq_error_;
  CompensatedSum pct_error_;
  CompensatedSum y_;     // sum (y - shift)
  CompensatedSum y_sq_;  // sum (y - shift)^2
};

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_REGRESSION_H_
