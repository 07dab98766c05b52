#include "exporter/stats/regression.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>

#include "absl/strings/str_cat.h"

namespace aiq::stats {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();

// sklearn r2_score(force_finite=True).
double R2(double ss_res, double ss_tot) {
  if (ss_tot == 0) return ss_res == 0 ? 1.0 : 0.0;
  return 1 - ss_res / ss_tot;
}

}  // namespace

// sklearn.metrics (1.2): mean_absolute_error, mean_squared_error,
// mean_absolute_percentage_error, r2_score, each in its own two passes.
absl::StatusOr<RegressionMetrics> EvaluateRegression(
    std::span<const double> y_true, std::span<const double> y_pred) {
  if (y_true.size() != y_pred.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("regression: ", y_true.size(), " targets but ",
                     y_pred.size(), " predictions"));
  }
  if (absl::Status s = CheckFiniteNonEmpty(y_true, "regression: y_true");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckFiniteNonEmpty(y_pred, "regression: y_pred");
      !s.ok()) {
    return s;
  }
  const double n = static_cast<double>(y_true.size());
  const double mean = Mean(y_true);
  // A constant target has SS_tot = 0 exactly (sklearn's force_finite case),
  // whatever the rounding of its mean.
  const bool constant =
      std::all_of(y_true.begin(), y_true.end(),
                  [&](double y) { return y == y_true.front(); });
  CompensatedSum abs_err, sq_err, pct_err;
  double max_dev = 0;  // for the overflow-safe R^2 below
  for (size_t i = 0; i < y_true.size(); ++i) {
    const double e = y_pred[i] - y_true[i];
    abs_err.Add(std::abs(e));
    sq_err.Add(e * e);
    pct_err.Add(std::abs(e) / std::max(std::abs(y_true[i]), kEps));
    max_dev = std::max({max_dev, std::abs(e), std::abs(y_true[i] - mean)});
  }
  // R^2 is scale-free: divide by the largest deviation when squares could
  // overflow (or underflow), else plain squares as sklearn.
  const double scale =
      (max_dev > 1e150 || (max_dev > 0 && max_dev < 1e-150)) ? max_dev : 1.0;
  CompensatedSum ss_res, ss_tot;
  for (size_t i = 0; i < y_true.size(); ++i) {
    const double e = (y_true[i] - y_pred[i]) / scale;
    const double d = (y_true[i] - mean) / scale;
    ss_res.Add(e * e);
    ss_tot.Add(d * d);
  }
  RegressionMetrics m;
  m.count = static_cast<int64_t>(y_true.size());
  m.mae = abs_err.Value() / n;
  m.mse = sq_err.Value() / n;
  m.rmse = std::sqrt(m.mse);
  m.mape = pct_err.Value() / n;
  m.r2 = R2(ss_res.Value(), constant ? 0.0 : ss_tot.Value());
  return m;
}

absl::Status RegressionAccumulator::Add(double y_true, double y_pred) {
  if (!std::isfinite(y_true) || !std::isfinite(y_pred)) {
    return absl::InvalidArgumentError(
        absl::StrCat("regression: non-finite value (y_true ", y_true,
                     ", y_pred ", y_pred, ")"));
  }
  if (!shift_.has_value()) shift_ = y_true;
  const double e = y_pred - y_true;
  const double y = y_true - *shift_;
  abs_error_.Add(std::abs(e));
  sq_error_.Add(e * e);
  pct_error_.Add(std::abs(e) / std::max(std::abs(y_true), kEps));
  y_.Add(y);
  y_sq_.Add(y * y);
  ++count_;
  return absl::OkStatus();
}

absl::Status RegressionAccumulator::Subtract(double y_true, double y_pred) {
  if (!std::isfinite(y_true) || !std::isfinite(y_pred)) {
    return absl::InvalidArgumentError("regression: non-finite value");
  }
  if (count_ == 0 || !shift_.has_value()) {
    return absl::FailedPreconditionError(
        "regression: removing from an empty accumulator");
  }
  const double e = y_pred - y_true;
  const double y = y_true - *shift_;
  abs_error_.Subtract(std::abs(e));
  sq_error_.Subtract(e * e);
  pct_error_.Subtract(std::abs(e) / std::max(std::abs(y_true), kEps));
  y_.Subtract(y);
  y_sq_.Subtract(y * y);
  if (--count_ == 0) {
    abs_error_.Reset();
    sq_error_.Reset();
    pct_error_.Reset();
    y_.Reset();
    y_sq_.Reset();
  }
  return absl::OkStatus();
}

// Re-basing other's shifted sums onto ours, d = other.shift - shift:
//   sum (y - s) = S1 + n d,  sum (y - s)^2 = S2 + 2 d S1 + n d^2.
void RegressionAccumulator::Accumulate(const RegressionAccumulator& other,
                                       double sign) {
  if (other.count_ == 0) return;
  if (!shift_.has_value()) shift_ = other.shift_;
  const double d = *other.shift_ - *shift_;
  const double n = static_cast<double>(other.count_);
  const double s1 = other.y_.Value();
  CompensatedSum y = other.y_, y_sq = other.y_sq_;
  if (d != 0) {
    y.Add(n * d);
    y_sq.Add(2 * d * s1);
    y_sq.Add(n * d * d);
  }
  if (sign > 0) {
    abs_error_.Merge(other.abs_error_);
    sq_error_.Merge(other.sq_error_);
    pct_error_.Merge(other.pct_error_);
    y_.Merge(y);
    y_sq_.Merge(y_sq);
    count_ += other.count_;
  } else {
    abs_error_.Unmerge(other.abs_error_);
    sq_error_.Unmerge(other.sq_error_);
    pct_error_.Unmerge(other.pct_error_);
    y_.Unmerge(y);
    y_sq_.Unmerge(y_sq);
    count_ -= other.count_;
  }
}

void RegressionAccumulator::Merge(const RegressionAccumulator& other) {
  Accumulate(other, +1);
}

void RegressionAccumulator::Unmerge(const RegressionAccumulator& other) {
  Accumulate(other, -1);
  if (count_ <= 0) *this = RegressionAccumulator(shift_.value_or(0));
}

absl::StatusOr<RegressionMetrics> RegressionAccumulator::Metrics() const {
  if (count_ <= 0) {
    return absl::InvalidArgumentError("regression: no rows");
  }
  const double n = static_cast<double>(count_);
  RegressionMetrics m;
  m.count = count_;
  m.mae = abs_error_.Value() / n;
  m.mse = sq_error_.Value() / n;
  m.rmse = std::sqrt(m.mse);
  m.mape = pct_error_.Value() / n;
  const double s1 = y_.Value();
  // Sum of squares about the mean from shifted moments. What is left below
  // the cancellation error (a constant target seen through a shift) is 0.
  double ss_tot = y_sq_.Value() - s1 * (s1 / n);
  if (ss_tot <= 4 * n * kEps * y_sq_.Value()) ss_tot = 0;
  m.r2 = R2(sq_error_.Value(), ss_tot);
  return m;
}

void RegressionAccumulator::EncodeTo(util::BinaryWriter& w) const {
  w.Bool(shift_.has_value());
  if (shift_) w.Double(*shift_);
  w.Signed(count_);
  for (const CompensatedSum* s :
       {&abs_error_, &sq_error_, &pct_error_, &y_, &y_sq_}) {
    s->EncodeTo(w);
  }
}

absl::Status RegressionAccumulator::DecodeFrom(util::BinaryReader& r) {
  RegressionAccumulator tmp;
  if (r.Bool("regression has shift")) tmp.shift_ = r.Double("regression shift");
  tmp.count_ = r.Int("regression count", 0, INT64_MAX);
  for (CompensatedSum* s : {&tmp.abs_error_, &tmp.sq_error_, &tmp.pct_error_,
                            &tmp.y_, &tmp.y_sq_}) {
    if (!s->DecodeFrom(r).ok()) break;
  }
  if (!r.ok()) return r.status();
  *this = tmp;
  return absl::OkStatus();
}

}  // namespace aiq::stats
