// The streaming quality window of one (model, version): classification and
// regression quality, calibration, confidence, estimated accuracy, fairness
// per segment, and concept drift on the error stream, as defined in
// docs/metrics.md and docs/streaming_quality.md.
//
// Events land in the current bucket of an epoch-aligned SlidingWindow
// (window.duration / window.buckets wide); each bucket keeps mergeable
// accumulators (confusion matrix, calibration bins, Brier and regression
// sums, segment counts). Snapshot() merges the live buckets, so a bucket
// that ages out simply stops contributing. Concept-drift detectors are not
// windowed: they see every labelled sample since construction.
//
// Example, given `const config::ModelConfig& model_config`,
// `std::shared_ptr<const ConfidenceCalibration> calibration_from_reference`,
// `absl::Time now`, `int class_index` and `int region_value_index`:
//   aiq::model::QualityWindow w(model_config);          // one per version
//   w.SetCalibration(calibration_from_reference);       // optional (CBPE)
//   // On a prediction event:
//   aiq::model::PredictionSample p;
//   p.predicted_class = class_index;                    // classification
//   p.confidence = 0.83;
//   p.probabilities = {0.17, 0.83};                     // by class index
//   p.segment = {region_value_index};                   // per attribute
//   w.AddPrediction(now, p);
//   // When its label joins:
//   aiq::model::LabeledSample s;
//   s.prediction = p;
//   s.true_class = 1;
//   w.AddLabeled(now, s);
//   // At scrape time:
//   aiq::model::QualitySnapshot q = w.Snapshot(now);
//   if (q.classification) { /* export q.classification->accuracy */ }
//
// Checkpoints hold the buckets, the detectors, the number of classes and
// the resolved positive class; the calibration is not part of them (set it
// again after decoding).
//
// Example (a checkpoint), given `const QualityWindow& original` and
// `const config::ModelConfig& model_config`:
//   util::BinaryWriter out;
//   original.EncodeTo(out);
//   aiq::model::QualityWindow restored(model_config);
//   util::BinaryReader r(out.data());
//   absl::Status st = restored.DecodeFrom(r);
// DecodeFrom is FailedPrecondition when the checkpoint's shape differs from
// this window's (task, window buckets or width, segment attributes and
// their value counts, positive_class, detector options) and DataLoss when
// the input is truncated or malformed. low_confidence_threshold is not
// checked: restored buckets keep what they counted until they age out.
//
// Memory is O(buckets x (classes^2 + sum over segment attributes of
// (values + 1))) plus ADWIN's O(log n) rows: bounded by configuration,
// independent of traffic. In steady state an event allocates nothing; a
// bucket allocates when it is recycled (once per bucket width).
//
// Not thread-safe: owned by a ModelState and used under its lock.
#ifndef AIQ_EXPORTER_MODEL_QUALITY_WINDOW_H_
#define AIQ_EXPORTER_MODEL_QUALITY_WINDOW_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/config/config.h"
#include "exporter/model/sliding_window.h"
#include "exporter/stats/classification.h"
#include "exporter/stats/concept_drift.h"
#include "exporter/stats/regression.h"
#include "exporter/util/binary_codec.h"
#include "exporter/util/enum_names.h"

namespace aiq::model {

// Upper bounds ("le") of the aiq_confidence histogram; +Inf is implicit.
inline constexpr std::array<double, 10> kConfidenceBounds = {
    0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};

// The concept-drift detectors, in exposition order.
enum class Detector { kAdwin = 0, kDdm = 1, kPageHinkley = 2 };
inline constexpr int kNumDetectors = 3;
// The `detector` label.
inline constexpr auto kDetectorNames = util::MakeEnumNames<Detector>({
    {Detector::kAdwin, "adwin"},
    {Detector::kDdm, "ddm"},
    {Detector::kPageHinkley, "page_hinkley"},
});
static_assert(kDetectorNames.size() == kNumDetectors);
inline const char* DetectorName(Detector d) { return kDetectorNames.Name(d); }

// What the window needs from one accepted prediction.
struct PredictionSample {
  // Classification: index into the model's classes; -1 = unknown, in which
  // case the argmax of `probabilities` is used when they are given.
  int predicted_class = -1;
  std::optional<double> predicted_value;  // regression
  // In [0, 1]. When absent, the largest of `probabilities` stands in.
  std::optional<double> confidence;
  // Aligned with class indices; may be empty, may be shorter than the
  // number of classes (missing classes have probability 0).
  std::vector<double> probabilities;
  // One entry per declared segment attribute (config order): the index of
  // the event's value among the attribute's declared values,
  // values.size() for "other", -1 when the event does not carry it. May be
  // shorter than the number of attributes (the rest are absent).
  std::vector<int> segment;
};

struct LabeledSample {
  PredictionSample prediction;
  int true_class = -1;               // classification
  std::optional<double> true_value;  // regression
};

// Reference-derived calibration for estimated accuracy (the idea of
// NannyML's CBPE): P(correct | confidence) by histogram binning over the 10
// equal-width bins of stats::CalibrationAccumulator::BinOf ([i/10,
// (i+1)/10), last bin closed). A bin with no reference rows falls back to
// the raw confidence. A default-constructed calibration is the identity.
//
//   absl::StatusOr<ConfidenceCalibration> c =
//       ConfidenceCalibration::Fit(ref_confidence, ref_correct);
//   double p = c->Calibrate(0.93);   // reference accuracy in [0.9, 1.0]
class ConfidenceCalibration {
 public:
  static constexpr int kNumBins = stats::CalibrationAccumulator::kNumBins;

  ConfidenceCalibration() = default;

  // Same non-zero length; every confidence finite and in [0, 1], else
  // InvalidArgument.
  static absl::StatusOr<ConfidenceCalibration> Fit(
      std::span<const double> confidence, std::span<const bool> correct);

  // Incremental form of Fit (e.g. while streaming a reference file).
  absl::Status Add(double confidence, bool correct);

  // The reference accuracy of confidence's bin, or `confidence` itself
  // when that bin is empty.
  double Calibrate(double confidence) const;

  int64_t count() const { return total_; }
  int64_t bin_count(int bin) const { return count_[Index(bin)]; }
  // Reference accuracy of a bin; nullopt when the bin is empty.
  std::optional<double> bin_accuracy(int bin) const;

 private:
  static size_t Index(int bin) { return static_cast<size_t>(bin); }

  std::array<int64_t, kNumBins> count_{};
  std::array<int64_t, kNumBins> correct_{};
  int64_t total_ = 0;
};

// Non-cumulative: counts[i] are confidences in (bounds[i-1], bounds[i]] of
// kConfidenceBounds; counts[10] above 1 (always 0 for valid input).
struct ConfidenceHistogram {
  std::array<uint64_t, kConfidenceBounds.size() + 1> counts{};
  double sum = 0;
  uint64_t count = 0;
};

struct ConceptDriftState {
  Detector detector = Detector::kAdwin;
  // Detections since the window was created (never windowed).
  int64_t detections = 0;
  // DDM: in its warning zone after the last update. ADWIN, Page-Hinkley:
  // a detection happened within the last window.duration.
  bool warning = false;
};

struct SegmentValueQuality {
  int64_t predictions = 0;  // window predictions with a predicted class
  int64_t labeled = 0;
  std::optional<double> accuracy;       // labeled >= min_samples
  std::optional<double> positive_rate;  // predictions >= min_samples
  std::optional<double> tpr;            // actual positives >= min_samples
};

struct SegmentAttributeQuality {
  // Declared values in config order, then "other" (index values.size()).
  std::vector<SegmentValueQuality> values;
  // max - min over values whose positive_rate / tpr is present; absent
  // unless at least two values qualify.
  std::optional<double> demographic_parity_difference;
  std::optional<double> equal_opportunity_difference;
};

// Everything optional is absent when the window holds fewer than
// window.min_samples samples of the kind the statistic needs.
struct QualitySnapshot {
  int64_t predictions = 0;  // AddPrediction calls in the window
  int64_t labeled = 0;      // accepted AddLabeled calls in the window
  // sklearn semantics (zero_division=0, labels = classes present as true
  // or predicted); per_class[i].class_index indexes the model's classes.
  std::optional<stats::ClassificationMetrics> classification;
  std::optional<double> ece;    // labelled samples with confidence
  std::optional<double> brier;  // labelled samples with probabilities
  std::optional<ConfidenceHistogram> confidence;  // predictions w/ conf.
  std::optional<double> low_confidence_ratio;
  std::optional<double> estimated_accuracy;  // classification only
  std::optional<stats::RegressionMetrics> regression;
  // Classification: adwin, ddm, page_hinkley; regression: adwin,
  // page_hinkley; generation: none.
  std::vector<ConceptDriftState> concept_drift;
  // Classification only; parallel to ModelConfig::segments.
  std::vector<SegmentAttributeQuality> segments;
};

class QualityWindow {
 public:
  // Reads task, window, classes, positive_class, low_confidence_threshold
  // and segments. `model` need not outlive the window.
  explicit QualityWindow(const config::ModelConfig& model);

  QualityWindow(QualityWindow&&) = default;
  QualityWindow& operator=(QualityWindow&&) = default;

  // nullptr = identity (estimated accuracy = mean confidence). Applies to
  // the whole window at the next Snapshot, not only to new events: the
  // window keeps per-bin confidence counts, not calibrated values.
  void SetCalibration(std::shared_ptr<const ConfidenceCalibration> c) {
    calibration_ = std::move(c);
  }

  // Classes can be auto-registered at run time: pre-sizes confusion
  // matrices (so adding to them does not reallocate). Never shrinks.
  void EnsureClasses(int num_classes);
  // The same, from the model's class names by index; also resolves the
  // configured positive_class once it has been registered.
  void EnsureClasses(std::span<const std::string> class_names);
  // Index of the class counted positive for fairness; -1 = none.
  int positive_class() const { return positive_class_; }

  // `at` selects the bucket (the event's time as the caller defines it;
  // it must be inside the window, see ModelState).
  void AddPrediction(absl::Time at, const PredictionSample& p);
  // Classification needs a predicted class (or probabilities) and
  // true_class >= 0; regression needs finite predicted_value and
  // true_value. Other samples are ignored. The sample goes into the bucket
  // of `at`, or, when nullopt (a late label), only to the detectors, which
  // are not windowed; `now` dates their detections.
  void AddLabeled(absl::Time now, std::optional<absl::Time> at,
                  const LabeledSample& s);
  void AddLabeled(absl::Time now, const LabeledSample& s) {
    AddLabeled(now, now, s);
  }

  QualitySnapshot Snapshot(absl::Time now) const;

  // Heap and inline bytes of the buckets live at `now` (the detectors
  // excluded): at most buckets x (sizeof(Bucket) + classes^2 x 8 + segment
  // slots x 48), whatever the traffic.
  size_t WindowBytes(absl::Time now) const;
  // ADWIN's bucket rows: grows with log2 of its current window length.
  int adwin_rows() const { return adwin_.rows(); }

  // Writes the dynamic state (everything not derived from the constructor's
  // configuration, and not the calibration) after a header of its shape.
  void EncodeTo(util::BinaryWriter& w) const;
  // Restores what EncodeTo wrote into a window constructed from the same
  // configuration (errors above). Unchanged on error.
  absl::Status DecodeFrom(util::BinaryReader& r);

 private:
  struct SegmentCounts {
    int64_t predictions = 0;
    int64_t predicted_positive = 0;
    int64_t labeled = 0;
    int64_t correct = 0;
    int64_t actual_positive = 0;
    int64_t true_positive = 0;
  };
  static constexpr size_t kNumCalibrationBins =
      static_cast<size_t>(stats::CalibrationAccumulator::kNumBins);
  struct Bucket {
    int64_t predictions = 0;
    int64_t labeled = 0;
    // Confidence of predictions: Prometheus buckets, and calibration bins
    // (count and sum) so estimated accuracy is computed at Snapshot time
    // with whatever calibration is current.
    ConfidenceHistogram confidence;
    int64_t low_confidence = 0;
    std::array<int64_t, kNumCalibrationBins> conf_bin_count{};
    std::array<double, kNumCalibrationBins> conf_bin_sum{};
    // Labelled samples.
    stats::ConfusionMatrix confusion;
    stats::CalibrationAccumulator calibration;
    stats::BrierAccumulator brier;
    stats::RegressionAccumulator regression;
    // [segment_offset_[a] + value slot].
    std::vector<SegmentCounts> segments;
  };

  // -1 when the sample has no usable predicted class.
  static int PredictedClass(const PredictionSample& p);
  // The sample's confidence (explicit, else max probability) when in
  // [0, 1].
  static std::optional<double> Confidence(const PredictionSample& p);
  // Slot of attribute a's value in Bucket::segments, or -1.
  int SegmentSlot(size_t a, const PredictionSample& p) const;
  void UpdateDetectors(absl::Time now, double error, bool use_ddm);
  // A labelled classification sample's share of bucket b.
  void AddLabeledClass(Bucket& b, const LabeledSample& s, int predicted,
                       int truth);
  static void EncodeBucket(util::BinaryWriter& w, const Bucket& b);
  absl::Status DecodeBucket(util::BinaryReader& r, Bucket& b) const;

  config::Task task_;
  absl::Duration duration_;
  int64_t min_samples_;
  double low_confidence_threshold_;
  std::string positive_class_name_;
  int positive_class_ = -1;
  int num_classes_ = 0;
  int num_segment_slots_ = 0;
  // Per declared attribute: first slot, and number of declared values
  // ("other" is slot offset + values).
  std::vector<int> segment_offset_;
  std::vector<int> segment_values_;
  std::shared_ptr<const ConfidenceCalibration> calibration_;
  SlidingWindow<Bucket> window_;
  // Row buffer for Brier when probabilities are shorter than the true
  // class index; reused so that path does not allocate per event.
  std::vector<double> brier_row_;

  stats::Adwin adwin_;
  stats::Ddm ddm_;
  stats::PageHinkley page_hinkley_;
  std::array<std::optional<absl::Time>, kNumDetectors> last_detection_;
};

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_QUALITY_WINDOW_H_
