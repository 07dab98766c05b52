// A fixed-bucket histogram with Prometheus semantics (cumulative "le"
// buckets are derived at exposition; here each bucket counts only its own
// range). No Prometheus dependency: exposition converts it.
//
// Example:
//   Histogram h(std::make_shared<const std::vector<double>>(
//       std::vector<double>{0.1, 1, 10}));
//   h.Observe(0.5);   // counts()[1] == 1, sum() == 0.5
//
// Checkpoints write the bounds too, so decoding into a histogram with other
// bounds is FailedPrecondition rather than counts in the wrong buckets.
//
// Example (a checkpoint), given `const Histogram& h`:
//   util::BinaryWriter w;
//   h.EncodeTo(w);
//   Histogram restored(std::make_shared<const std::vector<double>>(
//       std::vector<double>{0.1, 1, 10}));
//   util::BinaryReader r(w.data());
//   absl::Status st = restored.DecodeFrom(r);  // restored.counts()[1] == 1
#ifndef AIQ_EXPORTER_MODEL_HISTOGRAM_H_
#define AIQ_EXPORTER_MODEL_HISTOGRAM_H_

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "exporter/util/binary_codec.h"

namespace aiq::model {

class Histogram {
 public:
  Histogram() = default;
  // `bounds` are shared between all histograms of one metric.
  explicit Histogram(std::shared_ptr<const std::vector<double>> bounds)
      : bounds_(std::move(bounds)), counts_(bounds_->size() + 1, 0) {}

  void Observe(double v) {
    // Upper bounds are inclusive ("le"), so the first bound >= v.
    const auto it = std::lower_bound(bounds_->begin(), bounds_->end(), v);
    ++counts_[static_cast<size_t>(it - bounds_->begin())];
    sum_ += v;
    ++count_;
  }

  // Adds a histogram of other bounds (an OTLP data point): `counts` has
  // one entry per bound in `upper_bounds` plus the last, +Inf. Each
  // source bucket's observations go to the first bucket here whose bound
  // is at least the source bucket's upper bound: exact when the bounds are
  // the same, otherwise an observation is counted at most one of our
  // buckets too high, never too low (quantiles err up). Counts saturate.
  void Merge(std::span<const double> upper_bounds,
             std::span<const uint64_t> counts, double sum) {
    for (size_t i = 0; i < counts.size(); ++i) {
      const size_t at =
          i < upper_bounds.size()
              ? static_cast<size_t>(std::lower_bound(bounds_->begin(),
                                                     bounds_->end(),
                                                     upper_bounds[i]) -
                                    bounds_->begin())
              : bounds_->size();
      counts_[at] = SaturatingAdd(counts_[at], counts[i]);
      count_ = SaturatingAdd(count_, counts[i]);
    }
    sum_ += sum;
  }

  const std::vector<double>& bounds() const { return *bounds_; }
  // counts()[i] observations in (bounds[i-1], bounds[i]]; the last entry
  // counts those above every bound (+Inf).
  const std::vector<uint64_t>& counts() const { return counts_; }
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

  // Writes the bounds (to recognise a mismatch), the counts, sum and count.
  void EncodeTo(util::BinaryWriter& w) const;
  // Restores what EncodeTo wrote into a histogram with the same bounds.
  // DataLoss when the input is truncated or malformed (the counts do not add
  // up to the count); FailedPrecondition, naming the first bound that
  // differs, when it was written with other bounds. Unchanged on error.
  absl::Status DecodeFrom(util::BinaryReader& r);

 private:
  static uint64_t SaturatingAdd(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
  }
  std::span<const double> bounds_or_empty() const {
    return bounds_ ? std::span<const double>(*bounds_)
                   : std::span<const double>();
  }

  std::shared_ptr<const std::vector<double>> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

inline void Histogram::EncodeTo(util::BinaryWriter& w) const {
  w.Doubles(bounds_or_empty());
  for (uint64_t c : counts_) w.Varint(c);
  w.Double(sum_);
  w.Varint(count_);
}

inline absl::Status Histogram::DecodeFrom(util::BinaryReader& r) {
  const std::vector<double> bounds = r.Doubles("histogram bounds");
  if (!r.ok()) return r.status();
  const std::span<const double> mine = bounds_or_empty();
  if (bounds.size() != mine.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("histogram: the checkpoint has ", bounds.size(),
                     " bucket bounds, this histogram ", mine.size()));
  }
  for (size_t i = 0; i < mine.size(); ++i) {
    // Bitwise, so that a NaN bound (never valid, but) equals itself.
    if (std::bit_cast<uint64_t>(bounds[i]) !=
        std::bit_cast<uint64_t>(mine[i])) {
      return absl::FailedPreconditionError(
          absl::StrCat("histogram: bucket bound ", i, " is ", bounds[i],
                       " in the checkpoint, ", mine[i], " here"));
    }
  }
  std::vector<uint64_t> counts(counts_.size());
  uint64_t total = 0;
  for (uint64_t& c : counts) {
    c = r.Varint("histogram bucket count");
    total += c;
  }
  const double sum = r.Double("histogram sum");
  const uint64_t count = r.Varint("histogram count");
  if (r.ok() && total != count) {
    r.Fail("histogram count", "does not equal the sum of the bucket counts");
  }
  if (!r.ok()) return r.status();
  counts_ = std::move(counts);
  sum_ = sum;
  count_ = count;
  return absl::OkStatus();
}

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_HISTOGRAM_H_
