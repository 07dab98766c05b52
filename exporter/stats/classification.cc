#include "exporter/stats/classification.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"

namespace aiq::stats {
namespace {

size_t Cell(int n, int t, int p) {
  return static_cast<size_t>(t) * static_cast<size_t>(n) +
         static_cast<size_t>(p);
}

// sklearn's _prf_divide with zero_division=0.
double Divide(double num, double den) { return den == 0 ? 0.0 : num / den; }

}  // namespace

void ConfusionMatrix::Resize(int num_classes) {
  if (num_classes <= num_classes_) return;
  std::vector<int64_t> grown(
      static_cast<size_t>(num_classes) * static_cast<size_t>(num_classes), 0);
  for (int t = 0; t < num_classes_; ++t) {
    for (int p = 0; p < num_classes_; ++p) {
      grown[Cell(num_classes, t, p)] = counts_[Cell(num_classes_, t, p)];
    }
  }
  counts_ = std::move(grown);
  num_classes_ = num_classes;
}

absl::Status ConfusionMatrix::Add(int true_class, int predicted_class,
                                  int64_t n) {
  if (true_class < 0 || predicted_class < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("confusion matrix: negative class index (", true_class,
                     ", ", predicted_class, ")"));
  }
  if (n < 0) return Subtract(true_class, predicted_class, -n);
  Resize(std::max(true_class, predicted_class) + 1);
  counts_[Cell(num_classes_, true_class, predicted_class)] += n;
  total_ += n;
  return absl::OkStatus();
}

absl::Status ConfusionMatrix::Subtract(int true_class, int predicted_class,
                                       int64_t n) {
  if (true_class < 0 || predicted_class < 0 || n < 0 ||
      true_class >= num_classes_ || predicted_class >= num_classes_ ||
      counts_[Cell(num_classes_, true_class, predicted_class)] < n) {
    return absl::FailedPreconditionError(
        absl::StrCat("confusion matrix: cannot remove ", n, " x (", true_class,
                     ", ", predicted_class, "): not present"));
  }
  counts_[Cell(num_classes_, true_class, predicted_class)] -= n;
  total_ -= n;
  return absl::OkStatus();
}

void ConfusionMatrix::Merge(const ConfusionMatrix& other) {
  Resize(other.num_classes_);
  for (int t = 0; t < other.num_classes_; ++t) {
    for (int p = 0; p < other.num_classes_; ++p) {
      counts_[Cell(num_classes_, t, p)] +=
          other.counts_[Cell(other.num_classes_, t, p)];
    }
  }
  total_ += other.total_;
}

absl::Status ConfusionMatrix::Unmerge(const ConfusionMatrix& other) {
  for (int t = 0; t < other.num_classes_; ++t) {
    for (int p = 0; p < other.num_classes_; ++p) {
      if (other.counts_[Cell(other.num_classes_, t, p)] > count(t, p)) {
        return absl::FailedPreconditionError(
            "confusion matrix: unmerging counts that were never merged");
      }
    }
  }
  for (int t = 0; t < other.num_classes_; ++t) {
    for (int p = 0; p < other.num_classes_; ++p) {
      counts_[Cell(num_classes_, t, p)] -=
          other.counts_[Cell(other.num_classes_, t, p)];
    }
  }
  total_ -= other.total_;
  return absl::OkStatus();
}

int64_t ConfusionMatrix::count(int true_class, int predicted_class) const {
  if (true_class < 0 || predicted_class < 0 || true_class >= num_classes_ ||
      predicted_class >= num_classes_) {
    return 0;
  }
  return counts_[Cell(num_classes_, true_class, predicted_class)];
}

// sklearn.metrics.precision_recall_fscore_support (1.2) per label, then
// accuracy_score and the macro / weighted averages.
absl::StatusOr<ClassificationMetrics> ComputeClassificationMetrics(
    const ConfusionMatrix& m) {
  if (m.total() == 0) {
    return absl::InvalidArgumentError("classification metrics: no rows");
  }
  const int k = m.num_classes();
  std::vector<int64_t> true_sum(static_cast<size_t>(k), 0),
      pred_sum(static_cast<size_t>(k), 0);
  int64_t correct = 0;
  for (int t = 0; t < k; ++t) {
    for (int p = 0; p < k; ++p) {
      const int64_t c = m.count(t, p);
      true_sum[static_cast<size_t>(t)] += c;
      pred_sum[static_cast<size_t>(p)] += c;
      if (t == p) correct += c;
    }
  }
  ClassificationMetrics out;
  out.count = m.total();
  out.accuracy = static_cast<double>(correct) / static_cast<double>(m.total());
  double sum_p = 0, sum_r = 0, sum_f = 0, wsum_p = 0, wsum_r = 0, wsum_f = 0;
  int64_t weight = 0;
  for (int c = 0; c < k; ++c) {
    const size_t i = static_cast<size_t>(c);
    if (true_sum[i] == 0 && pred_sum[i] == 0) continue;  // not a label here
    ClassMetrics cm;
    cm.class_index = c;
    cm.support = true_sum[i];
    const double tp = static_cast<double>(m.count(c, c));
    cm.precision = Divide(tp, static_cast<double>(pred_sum[i]));
    cm.recall = Divide(tp, static_cast<double>(true_sum[i]));
    const double denom = cm.precision + cm.recall;  // beta^2 = 1
    cm.f1 = denom == 0 ? 0.0 : 2 * cm.precision * cm.recall / denom;
    out.per_class.push_back(cm);
    sum_p += cm.precision;
    sum_r += cm.recall;
    sum_f += cm.f1;
    const double w = static_cast<double>(cm.support);
    wsum_p += cm.precision * w;
    wsum_r += cm.recall * w;
    wsum_f += cm.f1 * w;
    weight += cm.support;
  }
  const double n_labels = static_cast<double>(out.per_class.size());
  out.precision_macro = sum_p / n_labels;
  out.recall_macro = sum_r / n_labels;
  out.f1_macro = sum_f / n_labels;
  const double w = static_cast<double>(weight);
  out.precision_weighted = Divide(wsum_p, w);
  out.recall_weighted = Divide(wsum_r, w);
  out.f1_weighted = Divide(wsum_f, w);
  return out;
}

// Bins [i/10, (i+1)/10): start from floor(10 c) and correct against the
// edges i/10 themselves, since 10 c can round across an edge.
int CalibrationAccumulator::BinOf(double confidence) {
  int b = static_cast<int>(std::floor(confidence * kNumBins));
  b = std::clamp(b, 0, kNumBins - 1);
  if (b > 0 && confidence < static_cast<double>(b) / kNumBins) --b;
  if (b < kNumBins - 1 && confidence >= static_cast<double>(b + 1) / kNumBins) {
    ++b;
  }
  return b;
}

absl::Status CalibrationAccumulator::Add(double confidence, bool correct) {
  if (!(confidence >= 0 && confidence <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calibration: confidence must be within [0, 1], got ", confidence));
  }
  const size_t b = static_cast<size_t>(BinOf(confidence));
  ++count_[b];
  if (correct) ++correct_[b];
  confidence_[b].Add(confidence);
  ++total_;
  return absl::OkStatus();
}

absl::Status CalibrationAccumulator::Subtract(double confidence, bool correct) {
  if (!(confidence >= 0 && confidence <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calibration: confidence must be within [0, 1], got ", confidence));
  }
  const size_t b = static_cast<size_t>(BinOf(confidence));
  if (count_[b] == 0 || (correct && correct_[b] == 0)) {
    return absl::FailedPreconditionError(
        "calibration: removing a row that was never added");
  }
  --count_[b];
  if (correct) --correct_[b];
  confidence_[b].Subtract(confidence);
  if (count_[b] == 0) confidence_[b].Reset();  // no residue in empty bins
  --total_;
  return absl::OkStatus();
}

void CalibrationAccumulator::Merge(const CalibrationAccumulator& other) {
  for (size_t b = 0; b < kNumBins; ++b) {
    count_[b] += other.count_[b];
    correct_[b] += other.correct_[b];
    confidence_[b].Merge(other.confidence_[b]);
  }
  total_ += other.total_;
}

void CalibrationAccumulator::Unmerge(const CalibrationAccumulator& other) {
  for (size_t b = 0; b < kNumBins; ++b) {
    count_[b] -= other.count_[b];
    correct_[b] -= other.correct_[b];
    confidence_[b].Unmerge(other.confidence_[b]);
    if (count_[b] == 0) confidence_[b].Reset();
  }
  total_ -= other.total_;
}

// ECE = sum_b (n_b / N) |acc_b - conf_b| (Naeini et al. 2015; Guo et al.
// 2017, "On Calibration of Modern Neural Networks").
absl::StatusOr<double> CalibrationAccumulator::Ece() const {
  if (total_ == 0) return absl::InvalidArgumentError("calibration: no rows");
  const double n = static_cast<double>(total_);
  double ece = 0;
  for (size_t b = 0; b < kNumBins; ++b) {
    if (count_[b] == 0) continue;
    const double nb = static_cast<double>(count_[b]);
    const double acc = static_cast<double>(correct_[b]) / nb;
    const double conf = confidence_[b].Value() / nb;
    ece += nb / n * std::abs(acc - conf);
  }
  return ece;
}

double BrierAccumulator::RowScore(std::span<const double> probabilities,
                                  int true_class) {
  double s = 0;
  for (size_t k = 0; k < probabilities.size(); ++k) {
    const double y = static_cast<int>(k) == true_class ? 1.0 : 0.0;
    const double d = probabilities[k] - y;
    s += d * d;
  }
  return s;
}

absl::Status BrierAccumulator::Add(std::span<const double> probabilities,
                                   int true_class) {
  if (true_class < 0 ||
      static_cast<size_t>(true_class) >= probabilities.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("brier: true class ", true_class, " outside the ",
                     probabilities.size(), " probabilities"));
  }
  for (double p : probabilities) {
    if (!std::isfinite(p)) {
      return absl::InvalidArgumentError("brier: non-finite probability");
    }
  }
  sum_.Add(RowScore(probabilities, true_class));
  ++count_;
  return absl::OkStatus();
}

absl::Status BrierAccumulator::Subtract(std::span<const double> probabilities,
                                        int true_class) {
  if (count_ == 0) {
    return absl::FailedPreconditionError("brier: removing from an empty sum");
  }
  if (true_class < 0 ||
      static_cast<size_t>(true_class) >= probabilities.size()) {
    return absl::InvalidArgumentError("brier: true class out of range");
  }
  sum_.Subtract(RowScore(probabilities, true_class));
  if (--count_ == 0) sum_.Reset();
  return absl::OkStatus();
}

void BrierAccumulator::Merge(const BrierAccumulator& other) {
  sum_.Merge(other.sum_);
  count_ += other.count_;
}

void BrierAccumulator::Unmerge(const BrierAccumulator& other) {
  sum_.Unmerge(other.sum_);
  count_ -= other.count_;
  if (count_ == 0) sum_.Reset();
}

absl::StatusOr<double> BrierAccumulator::Score() const {
  if (count_ == 0) return absl::InvalidArgumentError("brier: no rows");
  return sum_.Value() / static_cast<double>(count_);
}

int ArgMax(std::span<const double> probabilities) {
  return static_cast<int>(
      std::max_element(probabilities.begin(), probabilities.end()) -
      probabilities.begin());
}

namespace {

absl::StatusOr<ClassificationReport> Evaluate(
    std::span<const std::string> y_true, std::span<const std::string> y_pred,
    std::span<const std::string> classes, std::span<const double> probabilities,
    bool with_probabilities) {
  if (y_true.size() != y_pred.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("classification: ", y_true.size(), " true labels but ",
                     y_pred.size(), " predictions"));
  }
  if (y_true.empty()) {
    return absl::InvalidArgumentError("classification: empty input");
  }
  std::map<std::string, int, std::less<>> index;
  for (const std::string& s : y_true) index.emplace(s, 0);
  for (const std::string& s : y_pred) index.emplace(s, 0);
  for (const std::string& s : classes) index.emplace(s, 0);
  ClassificationReport r;
  for (auto& [label, i] : index) {
    i = static_cast<int>(r.labels.size());
    r.labels.push_back(label);
  }
  ConfusionMatrix m(static_cast<int>(r.labels.size()));
  for (size_t row = 0; row < y_true.size(); ++row) {
    if (absl::Status s = m.Add(index.find(y_true[row])->second,
                               index.find(y_pred[row])->second);
        !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<ClassificationMetrics> metrics =
      ComputeClassificationMetrics(m);
  if (!metrics.ok()) return metrics.status();
  r.metrics = *std::move(metrics);
  if (!with_probabilities) return r;

  const size_t k = classes.size();
  if (k == 0) return absl::InvalidArgumentError("classification: no classes");
  if (probabilities.size() != y_true.size() * k) {
    return absl::InvalidArgumentError(
        absl::StrCat("classification: expected ", y_true.size(), " x ", k,
                     " probabilities, got ", probabilities.size()));
  }
  std::map<std::string_view, int, std::less<>> class_index;
  for (size_t c = 0; c < k; ++c) {
    if (!class_index.emplace(classes[c], static_cast<int>(c)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("classification: duplicate class \"", classes[c], "\""));
    }
  }
  CalibrationAccumulator calibration;
  BrierAccumulator brier;
  for (size_t row = 0; row < y_true.size(); ++row) {
    auto it = class_index.find(y_true[row]);
    if (it == class_index.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "classification: true label \"", y_true[row], "\" at row ", row,
          " is not one of the probability classes"));
    }
    std::span<const double> p = probabilities.subspan(row * k, k);
    if (absl::Status s = brier.Add(p, it->second); !s.ok()) return s;
    const int top = ArgMax(p);
    if (absl::Status s =
            calibration.Add(p[static_cast<size_t>(top)], top == it->second);
        !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<double> ece = calibration.Ece();
  if (!ece.ok()) return ece.status();
  r.ece = *ece;
  absl::StatusOr<double> b = brier.Score();
  if (!b.ok()) return b.status();
  r.brier = *b;
  return r;
}

}  // namespace

absl::StatusOr<ClassificationReport> EvaluateClassification(
    std::span<const std::string> y_true, std::span<const std::string> y_pred) {
  return Evaluate(y_true, y_pred, {}, {}, false);
}

absl::StatusOr<ClassificationReport> EvaluateClassification(
    std::span<const std::string> y_true, std::span<const std::string> y_pred,
    std::span<const std::string> classes,
    std::span<const double> probabilities) {
  return Evaluate(y_true, y_pred, classes, probabilities, true);
}

// ---------------------------------------------------------------------------
// Codecs (durable state)

void ConfusionMatrix::EncodeTo(util::BinaryWriter& w) const {
  w.Varint(static_cast<uint64_t>(num_classes_));
  for (int64_t c : counts_) w.Signed(c);
}

absl::Status ConfusionMatrix::DecodeFrom(util::BinaryReader& r) {
  const uint64_t k = r.Varint("confusion matrix classes");
  // Every cell takes at least one byte, so k^2 must fit in the input (this
  // also bounds k far below overflow).
  if (r.ok() && (k > (uint64_t{1} << 20) || k * k > r.remaining())) {
    r.Fail("confusion matrix classes",
           absl::StrCat(k, " classes need more cells than ", r.remaining(),
                        " bytes hold"));
  }
  if (!r.ok()) return r.status();
  std::vector<int64_t> counts(static_cast<size_t>(k * k));
  int64_t total = 0;
  for (int64_t& c : counts) {
    c = r.Int("confusion matrix cell", 0, INT64_MAX - total);
    total += c;
  }
  if (!r.ok()) return r.status();
  num_classes_ = static_cast<int>(k);
  counts_ = std::move(counts);
  total_ = total;
  return absl::OkStatus();
}

void CalibrationAccumulator::EncodeTo(util::BinaryWriter& w) const {
  for (size_t b = 0; b < kNumBins; ++b) {
    w.Signed(count_[b]);
    w.Signed(correct_[b]);
    confidence_[b].EncodeTo(w);
  }
  w.Signed(total_);
}

absl::Status CalibrationAccumulator::DecodeFrom(util::BinaryReader& r) {
  CalibrationAccumulator tmp;
  for (size_t b = 0; b < kNumBins && r.ok(); ++b) {
    tmp.count_[b] = r.Int("calibration bin count", 0, INT64_MAX);
    tmp.correct_[b] = r.Int("calibration bin correct", 0, tmp.count_[b]);
    if (!tmp.confidence_[b].DecodeFrom(r).ok()) break;
  }
  tmp.total_ = r.Int("calibration total", 0, INT64_MAX);
  if (!r.ok()) return r.status();
  *this = tmp;
  return absl::OkStatus();
}

void BrierAccumulator::EncodeTo(util::BinaryWriter& w) const {
  sum_.EncodeTo(w);
  w.Signed(count_);
}

absl::Status BrierAccumulator::DecodeFrom(util::BinaryReader& r) {
  BrierAccumulator tmp;
  if (!tmp.sum_.DecodeFrom(r).ok()) return r.status();
  tmp.count_ = r.Int("brier count", 0, INT64_MAX);
  if (!r.ok()) return r.status();
  *this = tmp;
  return absl::OkStatus();
}

}  // namespace aiq::stats
