// Classification quality as sklearn computes it, from mergeable accumulators
// a streaming window can add and subtract per time bucket:
//  - ConfusionMatrix (class indices) -> accuracy, precision/recall/F1 macro
//    and weighted, per-class precision/recall/F1/support;
//  - CalibrationAccumulator (10 confidence bins) -> expected calibration
//    error;
//  - BrierAccumulator -> multiclass Brier score.
// Plus a batch entry point over string labels.
//
// Example, given `std::span<const std::string> y_true` and
// `std::span<const std::string> y_pred`:
//   aiq::stats::ConfusionMatrix cm(3);          // classes 0..2
//   absl::Status added = cm.Add(/*true=*/0, /*pred=*/2);  // index checks
//   absl::StatusOr<aiq::stats::ClassificationMetrics> m =
//       aiq::stats::ComputeClassificationMetrics(cm);
//
//   absl::StatusOr<aiq::stats::ClassificationReport> r =
//       aiq::stats::EvaluateClassification(y_true, y_pred);   // strings
//
// Definitions (sklearn 1.2, zero_division=0): labels = classes that occur in
// y_true or y_pred (a class with no row and no column in the window is left
// out of the averages); precision_k = TP/(TP+FP), recall_k = TP/(TP+FN),
// F1_k = 2PR/(P+R), each 0 when its denominator is 0; macro = unweighted
// mean over labels, weighted = support-weighted mean.
// ECE = sum_b (n_b/N) |acc_b - conf_b| over bins [i/10, (i+1)/10) (last bin
// closed), confidence = max probability, correct = (argmax class == true
// class); first maximal class wins ties, like numpy.argmax.
// Brier = mean over rows of sum_k (p_k - [k == true])^2.
#ifndef AIQ_EXPORTER_STATS_CLASSIFICATION_H_
#define AIQ_EXPORTER_STATS_CLASSIFICATION_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "exporter/stats/summation.h"
#include "exporter/util/binary_codec.h"

namespace aiq::stats {

// counts[t][p]: rows with true class t predicted as p. Grows on demand.
class ConfusionMatrix {
 public:
  ConfusionMatrix() = default;
  explicit ConfusionMatrix(int num_classes) { Resize(num_classes); }

  int num_classes() const { return num_classes_; }
  // Grows (never shrinks) to `num_classes`, keeping counts.
  void Resize(int num_classes);

  // Class indices >= 0; the matrix grows to fit. Negative is an error.
  absl::Status Add(int true_class, int predicted_class, int64_t n = 1);
  // Removing more than was added is FailedPrecondition (state unchanged).
  absl::Status Subtract(int true_class, int predicted_class, int64_t n = 1);
  void Merge(const ConfusionMatrix& other);
  absl::Status Unmerge(const ConfusionMatrix& other);

  int64_t count(int true_class, int predicted_class) const;
  int64_t total() const { return total_; }

  // The size and every cell. DecodeFrom: DataLoss on truncated or
  // malformed input (negative count, more cells than the input holds);
  // unchanged on error.
  void EncodeTo(util::BinaryWriter& w) const;
  absl::Status DecodeFrom(util::BinaryReader& r);

 private:
  int num_classes_ = 0;
  std::vector<int64_t> counts_;  // row-major num_classes_^2
  int64_t total_ = 0;
};

struct ClassMetrics {
  int class_index = 0;
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  int64_t support = 0;  // rows whose true class is this one
};

struct ClassificationMetrics {
  int64_t count = 0;
  double accuracy = 0;
  double precision_macro = 0;
  double recall_macro = 0;
  double f1_macro = 0;
  double precision_weighted = 0;
  double recall_weighted = 0;
  double f1_weighted = 0;
  // One entry per label present in y_true or y_pred, ascending class index.
  std::vector<ClassMetrics> per_class;
};

// Empty matrix is InvalidArgument.
absl::StatusOr<ClassificationMetrics> ComputeClassificationMetrics(
    const ConfusionMatrix& matrix);

class CalibrationAccumulator {
 public:
  static constexpr int kNumBins = 10;

  // Bin of a confidence in [0, 1]: [i/10, (i+1)/10), 1.0 in the last bin.
  static int BinOf(double confidence);

  // confidence in [0, 1] (finite), else InvalidArgument.
  absl::Status Add(double confidence, bool correct);
  absl::Status Subtract(double confidence, bool correct);
  void Merge(const CalibrationAccumulator& other);
  void Unmerge(const CalibrationAccumulator& other);

  int64_t count() const { return total_; }
  int64_t bin_count(int bin) const { return count_[bin]; }
  double bin_confidence_sum(int bin) const { return confidence_[bin].Value(); }
  int64_t bin_correct(int bin) const { return correct_[bin]; }

  // Empty is InvalidArgument.
  absl::StatusOr<double> Ece() const;

  // Every bin, bit-exact. DecodeFrom: DataLoss on truncated or malformed
  // input; unchanged on error.
  void EncodeTo(util::BinaryWriter& w) const;
  absl::Status DecodeFrom(util::BinaryReader& r);

 private:
  std::array<int64_t, kNumBins> count_{};
  std::array<int64_t, kNumBins> correct_{};
  std::array<CompensatedSum, kNumBins> confidence_{};
  int64_t total_ = 0;
};

class BrierAccumulator {
 public:
  // One row of class probabilities (finite) and the true class index
  // (0 <= true_class < probabilities.size()).
  absl::Status Add(std::span<const double> probabilities, int true_class);
  absl::Status Subtract(std::span<const double> probabilities, int true_class);
  void Merge(const BrierAccumulator& other);
  void Unmerge(const BrierAccumulator& other);

  int64_t count() const { return count_; }
  // Empty is InvalidArgument.
  absl::StatusOr<double> Score() const;

  // The per-row term sum_k (p_k - y_k)^2, e.g. to keep per bucket.
  static double RowScore(std::span<const double> probabilities, int true_class);

  // Bit-exact. DecodeFrom: DataLoss on truncated or malformed input;
  // unchanged on error.
  void EncodeTo(util::BinaryWriter& w) const;
  absl::Status DecodeFrom(util::BinaryReader& r);

 private:
  CompensatedSum sum_;
  int64_t count_ = 0;
};

// Index of the first maximal probability (numpy.argmax). Non-empty input.
int ArgMax(std::span<const double> probabilities);

struct ClassificationReport {
  // Sorted union of y_true and y_pred (plus `classes` when given); class
  // index i in `metrics` is labels[i].
  std::vector<std::string> labels;
  ClassificationMetrics metrics;
  std::optional<double> ece;    // with probabilities only
  std::optional<double> brier;  // with probabilities only
};

// y_true and y_pred the same non-zero length.
absl::StatusOr<ClassificationReport> EvaluateClassification(
    std::span<const std::string> y_true, std::span<const std::string> y_pred);

// With probabilities: row-major y_true.size() x classes.size(), rows aligned
// with `classes` (distinct). Every y_true must be one of `classes`.
absl::StatusOr<ClassificationReport> EvaluateClassification(
    std::span<const std::string> y_true, std::span<const std::string> y_pred,
    std::span<const std::string> classes,
    std::span<const double> probabilities);

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_CLASSIFICATION_H_
