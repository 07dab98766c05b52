#include "exporter/stats/concept_drift.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "exporter/util/absl_compat.h"

// Floating-point expressions below keep River's operation order on purpose:
// the detection index on a borderline cut depends on the last bit, and parity
// with River is checked bit-for-bit on its own regression vectors.

namespace aiq::stats {
namespace {

// Items summarised by one bucket of row r.
double BucketSize(int r) {
  return static_cast<double>(std::uint64_t{1} << static_cast<unsigned>(r));
}

// The first byte of every encoded detector.
enum class DetectorTag : uint8_t { kAdwin = 1, kDdm = 2, kPageHinkley = 3 };

std::string_view TagName(uint8_t tag) {
  switch (static_cast<DetectorTag>(tag)) {
    case DetectorTag::kAdwin:
      return "adwin";
    case DetectorTag::kDdm:
      return "ddm";
    case DetectorTag::kPageHinkley:
      return "page_hinkley";
  }
  return "an unknown detector";
}

// DataLoss when the reader failed, FailedPrecondition when the encoded tag
// is another detector's.
absl::Status CheckTag(util::BinaryReader& r, DetectorTag expected) {
  const uint8_t tag = r.U8("concept-drift detector type");
  if (!r.ok()) return r.status();
  if (tag != static_cast<uint8_t>(expected)) {
    return absl::FailedPreconditionError(
        absl::StrCat("concept-drift detector: the checkpoint holds ",
                     util::ToAbsl(TagName(tag)), " state, this detector is ",
                     util::ToAbsl(TagName(static_cast<uint8_t>(expected)))));
  }
  return absl::OkStatus();
}

// Accumulates the first option that differs between the checkpoint and this
// detector.
class OptionCheck {
 public:
  explicit OptionCheck(std::string_view detector) : detector_(detector) {}
  template <typename T>
  void Same(std::string_view option, T encoded, T configured) {
    if (!status_.ok() || encoded == configured) return;
    status_ = absl::FailedPreconditionError(
        absl::StrCat(util::ToAbsl(detector_),
                     ": the checkpoint was written with ", util::ToAbsl(option),
                     " = ", encoded, ", this detector has ", configured));
  }
  absl::Status status() const { return status_; }

 private:
  std::string_view detector_;
  absl::Status status_;
};

}  // namespace

void DriftDetector::EncodeCounters(util::BinaryWriter& w) const {
  w.Bool(drift_);
  w.Signed(detections_);
  w.Signed(updates_);
}

void DriftDetector::DecodeCounters(util::BinaryReader& r) {
  drift_ = r.Bool("detector drift flag");
  detections_ = r.Int("detector detections", 0, INT64_MAX);
  updates_ = r.Int("detector updates", 0, INT64_MAX);
}

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

// ---------------------------------------------------------------------------
// Codecs (durable state)

void Adwin::EncodeTo(util::BinaryWriter& w) const {
  w.U8(static_cast<uint8_t>(DetectorTag::kAdwin));
  w.Double(options_.delta);
  w.Signed(options_.clock);
  w.Signed(options_.max_buckets);
  w.Signed(options_.min_window_length);
  w.Signed(options_.grace_period);
  EncodeCounters(w);
  w.Double(total_);
  w.Double(variance_);
  w.Double(width_);
  w.Signed(tick_);
  // Only the rows in use: rows past num_rows_ are spare storage.
  w.Signed(num_rows_);
  for (int row = 0; row < num_rows_; ++row) {
    const int count = count_[static_cast<size_t>(row)];
    w.Signed(count);
    for (int k = 0; k < count; ++k) {
      w.Double(totals_[Index(row) + static_cast<size_t>(k)]);
      w.Double(variances_[Index(row) + static_cast<size_t>(k)]);
    }
  }
}

absl::Status Adwin::DecodeFrom(util::BinaryReader& r) {
  if (absl::Status s = CheckTag(r, DetectorTag::kAdwin); !s.ok()) return s;
  AdwinOptions o;
  o.delta = r.Double("adwin delta");
  o.clock = static_cast<int>(r.Int("adwin clock", 1, INT32_MAX));
  o.max_buckets = static_cast<int>(r.Int("adwin max_buckets", 1, INT32_MAX));
  o.min_window_length =
      static_cast<int>(r.Int("adwin min_window_length", INT32_MIN, INT32_MAX));
  o.grace_period =
      static_cast<int>(r.Int("adwin grace_period", INT32_MIN, INT32_MAX));
  if (!r.ok()) return r.status();
  OptionCheck check("adwin");
  check.Same("delta", o.delta, options_.delta);
  check.Same("clock", o.clock, options_.clock);
  check.Same("max_buckets", o.max_buckets, options_.max_buckets);
  check.Same("min_window_length", o.min_window_length,
             options_.min_window_length);
  check.Same("grace_period", o.grace_period, options_.grace_period);
  if (!check.status().ok()) return check.status();

  Adwin tmp(options_);
  tmp.DecodeCounters(r);
  tmp.total_ = r.Double("adwin total");
  tmp.variance_ = r.Double("adwin variance");
  tmp.width_ = r.Double("adwin width");
  tmp.tick_ = r.Int("adwin tick", 0, INT64_MAX);
  // Row r holds buckets of 2^r items; 64 rows would overflow any count.
  const int64_t rows = r.Int("adwin rows", 0, 63);
  if (!r.ok()) return r.status();
  tmp.num_rows_ = static_cast<int>(rows);
  tmp.count_.assign(static_cast<size_t>(rows), 0);
  tmp.totals_.assign(static_cast<size_t>(rows) * static_cast<size_t>(stride_),
                     0.0);
  tmp.variances_.assign(tmp.totals_.size(), 0.0);
  double width = 0;
  for (int row = 0; row < tmp.num_rows_ && r.ok(); ++row) {
    const int count =
        static_cast<int>(r.Int("adwin row buckets", 0, options_.max_buckets));
    tmp.count_[static_cast<size_t>(row)] = count;
    for (int k = 0; k < count; ++k) {
      tmp.totals_[Index(row) + static_cast<size_t>(k)] =
          r.Double("adwin bucket total");
      tmp.variances_[Index(row) + static_cast<size_t>(k)] =
          r.Double("adwin bucket variance");
    }
    width += static_cast<double>(count) * BucketSize(row);
  }
  if (r.ok() && width != tmp.width_) {
    r.Fail("adwin width",
           absl::StrCat(tmp.width_, " but the buckets hold ", width, " items"));
  }
  if (!r.ok()) return r.status();
  *this = std::move(tmp);
  return absl::OkStatus();
}

void Ddm::EncodeTo(util::BinaryWriter& w) const {
  w.U8(static_cast<uint8_t>(DetectorTag::kDdm));
  w.Signed(options_.warm_start);
  w.Double(options_.warning_threshold);
  w.Double(options_.drift_threshold);
  EncodeCounters(w);
  w.Bool(warning_);
  for (double v : {n_, p_, p_min_, s_min_, ps_min_}) w.Double(v);
}

absl::Status Ddm::DecodeFrom(util::BinaryReader& r) {
  if (absl::Status s = CheckTag(r, DetectorTag::kDdm); !s.ok()) return s;
  DdmOptions o;
  o.warm_start =
      static_cast<int>(r.Int("ddm warm_start", INT32_MIN, INT32_MAX));
  o.warning_threshold = r.Double("ddm warning_threshold");
  o.drift_threshold = r.Double("ddm drift_threshold");
  if (!r.ok()) return r.status();
  OptionCheck check("ddm");
  check.Same("warm_start", o.warm_start, options_.warm_start);
  check.Same("warning_threshold", o.warning_threshold,
             options_.warning_threshold);
  check.Same("drift_threshold", o.drift_threshold, options_.drift_threshold);
  if (!check.status().ok()) return check.status();

  Ddm tmp(options_);
  tmp.DecodeCounters(r);
  tmp.warning_ = r.Bool("ddm warning");
  for (double* v : {&tmp.n_, &tmp.p_, &tmp.p_min_, &tmp.s_min_, &tmp.ps_min_}) {
    *v = r.Double("ddm statistic");
  }
  if (!r.ok()) return r.status();
  *this = tmp;
  return absl::OkStatus();
}

void PageHinkley::EncodeTo(util::BinaryWriter& w) const {
  w.U8(static_cast<uint8_t>(DetectorTag::kPageHinkley));
  w.Signed(options_.min_instances);
  w.Double(options_.delta);
  w.Double(options_.threshold);
  w.Double(options_.alpha);
  w.Signed(static_cast<int64_t>(options_.mode));
  EncodeCounters(w);
  for (double v : {n_, mean_, sum_increase_, sum_decrease_, min_increase_,
                   max_decrease_}) {
    w.Double(v);
  }
}

absl::Status PageHinkley::DecodeFrom(util::BinaryReader& r) {
  if (absl::Status s = CheckTag(r, DetectorTag::kPageHinkley); !s.ok()) {
    return s;
  }
  PageHinkleyOptions o;
  o.min_instances = static_cast<int>(
      r.Int("page_hinkley min_instances", INT32_MIN, INT32_MAX));
  o.delta = r.Double("page_hinkley delta");
  o.threshold = r.Double("page_hinkley threshold");
  o.alpha = r.Double("page_hinkley alpha");
  const int64_t mode =
      r.Int("page_hinkley mode", static_cast<int64_t>(PageHinkleyMode::kUp),
            static_cast<int64_t>(PageHinkleyMode::kBoth));
  if (!r.ok()) return r.status();
  OptionCheck check("page_hinkley");
  check.Same("min_instances", o.min_instances, options_.min_instances);
  check.Same("delta", o.delta, options_.delta);
  check.Same("threshold", o.threshold, options_.threshold);
  check.Same("alpha", o.alpha, options_.alpha);
  check.Same("mode", mode, static_cast<int64_t>(options_.mode));
  if (!check.status().ok()) return check.status();

  PageHinkley tmp(options_);
  tmp.DecodeCounters(r);
  for (double* v : {&tmp.n_, &tmp.mean_, &tmp.sum_increase_, &tmp.sum_decrease_,
                    &tmp.min_increase_, &tmp.max_decrease_}) {
    *v = r.Double("page_hinkley statistic");
  }
  if (!r.ok()) return r.status();
  *this = tmp;
  return absl::OkStatus();
}

}  // namespace aiq::stats
