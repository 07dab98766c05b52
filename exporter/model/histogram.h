// A fixed-bucket histogram with Prometheus semantics (cumulative "le"
// buckets are derived at exposition; here each bucket counts only its own
// range). No Prometheus dependency: exposition converts it.
//
// Example:
//   Histogram h(std::make_shared<const std::vector<double>>(
//       std::vector<double>{0.1, 1, 10}));
//   h.Observe(0.5);   // counts()[1] == 1, sum() == 0.5
#ifndef AIQ_EXPORTER_MODEL_HISTOGRAM_H_
#define AIQ_EXPORTER_MODEL_HISTOGRAM_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

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

  const std::vector<double>& bounds() const { return *bounds_; }
  // counts()[i] observations in (bounds[i-1], bounds[i]]; the last entry
  // counts those above every bound (+Inf).
  const std::vector<uint64_t>& counts() const { return counts_; }
  double sum() const { return sum_; }
  uint64_t count() const { return count_; }

 private:
  std::shared_ptr<const std::vector<double>> bounds_;
  std::vector<uint64_t> counts_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_HISTOGRAM_H_
