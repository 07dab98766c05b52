#include "exporter/stats/concept_drift.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

// Floating-point expressions below keep River's operation order on purpose:
// the detection index on a borderline cut depends on the last bit, and parity
// with River is checked bit-for-bit on its own regression vectors.

namespace aiq::stats {
namespace {

// Items summarised by one bucket of row r.
double BucketSize(int r) {
  return static_cast<double>(std::uint64_t{1} << static_cast<unsigned>(r));
}

}  // namespace

// ---------------------------------------------------------------------------
// ADWIN

Adwin::Adwin(AdwinOptions options) : options_(options) {
  // Degenerate settings would divide by zero or never merge; River rejects
  // nothing, so clamp to the nearest meaningful value instead of failing.
  options_.clock = std::max(options_.clock, 1);
  options_.max_buckets = std::max(options_.max_buckets, 1);
  stride_ = options_.max_buckets + 1;  // a row briefly holds max_buckets + 1
  ClearWindow();
}

void Adwin::Reset() {
  ClearWindow();
  drift_ = false;
  detections_ = 0;
  updates_ = 0;
}

// River's ADWIN._reset: a fresh AdaptiveWindowing (window and clock phase).
// Row storage is kept so a refill does not allocate again.
void Adwin::ClearWindow() {
  total_ = 0;
  variance_ = 0;
  width_ = 0;
  tick_ = 0;
  num_rows_ = 0;
  AddRow();
}

void Adwin::AddRow() {
  if (static_cast<std::size_t>(num_rows_) == count_.size()) {
    count_.push_back(0);
    totals_.resize(totals_.size() + static_cast<std::size_t>(stride_), 0.0);
    variances_.resize(totals_.size(), 0.0);
  }
  count_[static_cast<std::size_t>(num_rows_)] = 0;
  ++num_rows_;
}

void Adwin::DropOldest(int r, int n) {
  int& count = count_[static_cast<std::size_t>(r)];
  double* t = row_totals(r);
  double* v = row_variances(r);
  std::copy(t + n, t + count, t);
  std::copy(v + n, v + count, v);
  count -= n;
}

bool Adwin::Update(double x) {
  if (!std::isfinite(x)) return false;
  if (drift_) ClearWindow();  // River resets the whole window after a drift
  ++updates_;
  Insert(x);
  drift_ = DetectChange();
  if (drift_) ++detections_;
  return drift_;
}

void Adwin::Insert(double x) {
  if (num_rows_ == 0) AddRow();  // only if every bucket was ever deleted
  {
    int& c0 = count_[0];
    row_totals(0)[c0] = x;
    row_variances(0)[c0] = 0.0;
    ++c0;
  }

  // Streaming update of the sum of squared deviations (Welford's identity).
  width_ += 1.0;
  double incremental = 0.0;
  if (width_ > 1.0) {
    const double d = x - total_ / (width_ - 1.0);
    incremental = (width_ - 1.0) * d * d / width_;
  }
  variance_ += incremental;
  total_ += x;

  // Exponential histogram: a row that reaches max_buckets + 1 buckets merges
  // its two oldest into one bucket of the next row, which may cascade.
  for (int r = 0;; ++r) {
    if (count_[static_cast<std::size_t>(r)] != options_.max_buckets + 1) break;
    const double n1 = BucketSize(r);
    const double t0 = row_totals(r)[0], t1 = row_totals(r)[1];
    const double v0 = row_variances(r)[0], v1 = row_variances(r)[1];
    const double mu1 = t0 / n1;
    const double mu2 = t1 / n1;
    // Chan et al. pairwise merge; n1 * n2 / (n1 + n2) = n1 / 2 here.
    const double merged_variance =
        v0 + v1 + n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2);
    if (r + 1 == num_rows_) AddRow();
    int& next = count_[static_cast<std::size_t>(r) + 1];
    row_totals(r + 1)[next] = t0 + t1;
    row_variances(r + 1)[next] = merged_variance;
    ++next;
    DropOldest(r, 2);
    if (next <= options_.max_buckets) break;
  }
}

void Adwin::DeleteOldestBucket() {
  const int last = num_rows_ - 1;
  const double n = BucketSize(last);
  const double u = row_totals(last)[0];
  const double v = row_variances(last)[0];
  const double mu = u / n;
  width_ -= n;
  total_ -= u;
  const double mu_window = total_ / width_;
  variance_ -=
      v + n * width_ * (mu - mu_window) * (mu - mu_window) / (n + width_);
  DropOldest(last, 1);
  if (count_[static_cast<std::size_t>(last)] == 0) --num_rows_;
}

bool Adwin::CutExceeds(double n0, double n1, double delta_mean,
                       double delta_prime, double variance_per_item) const {
  const double min_len = static_cast<double>(options_.min_window_length);
  // 1/m, m being the harmonic mean of the two sub-window lengths, each
  // shortened by min_window_length - 1 as River does.
  const double m_recip =
      1.0 / (n0 - min_len + 1.0) + 1.0 / (n1 - min_len + 1.0);
  const double epsilon =
      std::sqrt(2.0 * m_recip * variance_per_item * delta_prime) +
      2.0 / 3.0 * delta_prime * m_recip;
  return std::fabs(delta_mean) > epsilon;
}

// Tests every bucket boundary as a cut W = W0 (older) | W1 (newer); on a
// significant difference of means drops the oldest bucket and tests again,
// until no cut is significant. Only every `clock`-th update, once the window
// is longer than the grace period.
bool Adwin::DetectChange() {
  bool change = false;
  ++tick_;
  if (tick_ % options_.clock != 0 ||
      !(width_ > static_cast<double>(options_.grace_period))) {
    return false;
  }
  const double min_len = static_cast<double>(options_.min_window_length);
  bool shrink = true;
  while (shrink) {
    shrink = false;
    double n0 = 0, n1 = width_, u0 = 0, u1 = total_;
    // Per-pass constants of the cut test (River recomputes them per cut; the
    // values are the same expressions on the same inputs, so bit-identical).
    const double delta_prime =
        std::log(2.0 * std::log(width_) / options_.delta);
    const double variance_per_item = variance_ / width_;
    bool done = false;
    for (int r = num_rows_ - 1; r >= 0 && !done; --r) {
      const double size = BucketSize(r);
      const int count = count_[static_cast<std::size_t>(r)];
      const double* totals = row_totals(r);
      for (int k = 0; k < count; ++k) {
        n0 += size;
        n1 -= size;
        u0 += totals[k];
        u1 -= totals[k];
        if (r == 0 && k == count - 1) {  // W1 would be empty
          done = true;
          break;
        }
        const double delta_mean = u0 / n0 - u1 / n1;
        if (n1 >= min_len && n0 >= min_len &&
            CutExceeds(n0, n1, delta_mean, delta_prime, variance_per_item)) {
          shrink = true;
          change = true;
          if (width_ > 0) {
            DeleteOldestBucket();
            done = true;
            break;
          }
        }
      }
    }
  }
  return change;
}

// ---------------------------------------------------------------------------
// DDM

Ddm::Ddm(DdmOptions options) : options_(options) {}

void Ddm::ClearConcept() {
  warning_ = false;
  drift_ = false;
  n_ = 0;
  p_ = 0;
  p_min_ = 0;
  s_min_ = 0;
  ps_min_ = std::numeric_limits<double>::infinity();
}

void Ddm::Reset() {
  ClearConcept();
  detections_ = 0;
  updates_ = 0;
}

bool Ddm::Update(double x) {
  if (!(x >= 0.0 && x <= 1.0)) return false;  // also rejects NaN
  if (drift_) ClearConcept();
  ++updates_;
  // river.stats.Mean: n += 1; mean += (1 / n) * (x - mean).
  n_ += 1.0;
  p_ += (1.0 / n_) * (x - p_);
  // Bernoulli standard error of p. The clamp only matters where rounding
  // leaves p a hair outside [0, 1] (River would raise a math domain error).
  const double s = std::sqrt(std::max(0.0, p_ * (1.0 - p_) / n_));
  if (n_ > static_cast<double>(options_.warm_start)) {
    if (p_ + s <= ps_min_) {
      p_min_ = p_;
      s_min_ = s;
      ps_min_ = p_min_ + s_min_;
    }
    warning_ = p_ + s > p_min_ + options_.warning_threshold * s_min_;
    if (p_ + s > p_min_ + options_.drift_threshold * s_min_) {
      drift_ = true;
      warning_ = false;
    }
  }
  if (drift_) ++detections_;
  return drift_;
}

// ---------------------------------------------------------------------------
// Page-Hinkley

PageHinkley::PageHinkley(PageHinkleyOptions options) : options_(options) {}

void PageHinkley::ClearConcept() {
  drift_ = false;
  n_ = 0;
  mean_ = 0;
  sum_increase_ = 0;
  sum_decrease_ = 0;
  min_increase_ = std::numeric_limits<double>::infinity();
  max_decrease_ = -1;
}

void PageHinkley::Reset() {
  ClearConcept();
  detections_ = 0;
  updates_ = 0;
}

double PageHinkley::increase_statistic() const {
  return n_ > 0 ? sum_increase_ - min_increase_ : 0.0;
}

double PageHinkley::decrease_statistic() const {
  return n_ > 0 ? max_decrease_ - sum_decrease_ : 0.0;
}

bool PageHinkley::Update(double x) {
  if (!std::isfinite(x)) return false;
  if (drift_) ClearConcept();
  ++updates_;
  n_ += 1.0;
  mean_ += (1.0 / n_) * (x - mean_);
  const double dev = x - mean_;
  sum_increase_ = options_.alpha * sum_increase_ + dev - options_.delta;
  sum_decrease_ = options_.alpha * sum_decrease_ + dev + options_.delta;
  min_increase_ = std::min(min_increase_, sum_increase_);
  max_decrease_ = std::max(max_decrease_, sum_decrease_);
  // Before min_instances River leaves drift_detected as it was, which after
  // the reset above is always false.
  if (n_ >= static_cast<double>(options_.min_instances)) {
    const double up = sum_increase_ - min_increase_;
    const double down = max_decrease_ - sum_decrease_;
    switch (options_.mode) {
      case PageHinkleyMode::kUp:
        drift_ = up > options_.threshold;
        break;
      case PageHinkleyMode::kDown:
        drift_ = down > options_.threshold;
        break;
      case PageHinkleyMode::kBoth:
        drift_ = up > options_.threshold || down > options_.threshold;
        break;
    }
  }
  if (drift_) ++detections_;
  return drift_;
}

}  // namespace aiq::stats
