#include "exporter/model/quality_window.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace aiq::model {
namespace {

bool IsProbability(double x) { return std::isfinite(x) && x >= 0 && x <= 1; }

double Ratio(int64_t num, int64_t den) {
  return static_cast<double>(num) / static_cast<double>(den);
}

// max - min over the present values; absent unless two or more are.
std::optional<double> Spread(const std::vector<SegmentValueQuality>& values,
                             std::optional<double> SegmentValueQuality::*m) {
  int n = 0;
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (const SegmentValueQuality& v : values) {
    if (!(v.*m).has_value()) continue;
    ++n;
    lo = std::min(lo, *(v.*m));
    hi = std::max(hi, *(v.*m));
  }
  if (n < 2) return std::nullopt;
  return hi - lo;
}

}  // namespace

// ---------------------------------------------------------------------------
// ConfidenceCalibration

absl::StatusOr<ConfidenceCalibration> ConfidenceCalibration::Fit(
    std::span<const double> confidence, std::span<const bool> correct) {
  if (confidence.size() != correct.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("confidence calibration: ", confidence.size(),
                     " confidences but ", correct.size(), " outcomes"));
  }
  if (confidence.empty()) {
    return absl::InvalidArgumentError("confidence calibration: no rows");
  }
  ConfidenceCalibration c;
  for (size_t i = 0; i < confidence.size(); ++i) {
    if (absl::Status s = c.Add(confidence[i], correct[i]); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(s.message(), " (row ", i, ")"));
    }
  }
  return c;
}

absl::Status ConfidenceCalibration::Add(double confidence, bool correct) {
  if (!IsProbability(confidence)) {
    return absl::InvalidArgumentError(
        absl::StrCat("confidence calibration: confidence ", confidence,
                     " is not in [0, 1]"));
  }
  const size_t b = Index(stats::CalibrationAccumulator::BinOf(confidence));
  ++count_[b];
  if (correct) ++correct_[b];
  ++total_;
  return absl::OkStatus();
}

std::optional<double> ConfidenceCalibration::bin_accuracy(int bin) const {
  const size_t b = Index(bin);
  if (count_[b] == 0) return std::nullopt;
  return Ratio(correct_[b], count_[b]);
}

double ConfidenceCalibration::Calibrate(double confidence) const {
  if (!IsProbability(confidence)) return confidence;
  return bin_accuracy(stats::CalibrationAccumulator::BinOf(confidence))
      .value_or(confidence);
}

// ---------------------------------------------------------------------------
// QualityWindow

namespace {

int SegmentSlots(const config::ModelConfig& model) {
  if (model.task != config::Task::kClassification) return 0;
  int slots = 0;
  for (const config::SegmentConfig& s : model.segments) {
    slots += static_cast<int>(s.values.size()) + 1;  // + "other"
  }
  return slots;
}

}  // namespace

QualityWindow::QualityWindow(const config::ModelConfig& model)
    : task_(model.task),
      duration_(model.window.duration),
      min_samples_(std::max<int64_t>(1, model.window.min_samples)),
      low_confidence_threshold_(model.low_confidence_threshold),
      positive_class_name_(model.positive_class),
      num_classes_(static_cast<int>(model.classes.size())),
      num_segment_slots_(SegmentSlots(model)),
      // Every bucket, fresh or recycled, starts at the size known now; a
      // bucket recycled after more classes were registered grows on its
      // first labelled sample (once per bucket, not per event).
      window_(model.window.duration, std::max(1, model.window.buckets),
              [classes = num_classes_, slots = num_segment_slots_] {
                Bucket b;
                if (classes > 0) b.confusion.Resize(classes);
                b.segments.resize(static_cast<size_t>(slots));
                return b;
              }) {
  if (num_segment_slots_ > 0) {
    int offset = 0;
    for (const config::SegmentConfig& s : model.segments) {
      segment_offset_.push_back(offset);
      segment_values_.push_back(static_cast<int>(s.values.size()));
      offset += static_cast<int>(s.values.size()) + 1;
    }
  }
  EnsureClasses(std::span<const std::string>(model.classes));
}

void QualityWindow::EnsureClasses(int num_classes) {
  num_classes_ = std::max(num_classes_, num_classes);
}

void QualityWindow::EnsureClasses(std::span<const std::string> class_names) {
  EnsureClasses(static_cast<int>(class_names.size()));
  if (positive_class_ >= 0 || positive_class_name_.empty()) return;
  for (size_t i = 0; i < class_names.size(); ++i) {
    if (class_names[i] == positive_class_name_) {
      positive_class_ = static_cast<int>(i);
      return;
    }
  }
}

int QualityWindow::PredictedClass(const PredictionSample& p) {
  if (p.predicted_class >= 0) return p.predicted_class;
  if (!p.probabilities.empty()) return stats::ArgMax(p.probabilities);
  return -1;
}

std::optional<double> QualityWindow::Confidence(const PredictionSample& p) {
  double c;
  if (p.confidence.has_value()) {
    c = *p.confidence;
  } else if (!p.probabilities.empty()) {
    c = *std::max_element(p.probabilities.begin(), p.probabilities.end());
  } else {
    return std::nullopt;
  }
  if (!IsProbability(c)) return std::nullopt;
  return c;
}

int QualityWindow::SegmentSlot(size_t a, const PredictionSample& p) const {
  if (a >= p.segment.size()) return -1;
  const int v = p.segment[a];
  if (v < 0 || v > segment_values_[a]) return -1;
  return segment_offset_[a] + v;
}

void QualityWindow::AddPrediction(absl::Time now, const PredictionSample& p) {
  Bucket& b = window_.Current(now);
  ++b.predictions;
  if (const std::optional<double> c = Confidence(p); c.has_value()) {
    const auto le = std::lower_bound(kConfidenceBounds.begin(),
                                     kConfidenceBounds.end(), *c);
    ++b.confidence.counts[static_cast<size_t>(le - kConfidenceBounds.begin())];
    b.confidence.sum += *c;
    ++b.confidence.count;
    if (*c < low_confidence_threshold_) ++b.low_confidence;
    const size_t bin =
        static_cast<size_t>(stats::CalibrationAccumulator::BinOf(*c));
    ++b.conf_bin_count[bin];
    b.conf_bin_sum[bin] += *c;
  }
  if (segment_offset_.empty()) return;
  const int predicted = PredictedClass(p);
  if (predicted < 0) return;
  for (size_t a = 0; a < segment_offset_.size(); ++a) {
    const int slot = SegmentSlot(a, p);
    if (slot < 0) continue;
    SegmentCounts& s = b.segments[static_cast<size_t>(slot)];
    ++s.predictions;
    if (positive_class_ >= 0 && predicted == positive_class_) {
      ++s.predicted_positive;
    }
  }
}

void QualityWindow::AddLabeled(absl::Time now, std::optional<absl::Time> at,
                               const LabeledSample& s) {
  const PredictionSample& p = s.prediction;
  if (task_ == config::Task::kRegression) {
    if (!p.predicted_value.has_value() || !s.true_value.has_value() ||
        !std::isfinite(*p.predicted_value) || !std::isfinite(*s.true_value)) {
      return;
    }
    if (at) {
      Bucket& b = window_.Current(*at);
      ++b.labeled;
      b.regression.Add(*s.true_value, *p.predicted_value).IgnoreError();
    }
    UpdateDetectors(now, std::abs(*s.true_value - *p.predicted_value),
                    /*use_ddm=*/false);
    return;
  }
  if (task_ != config::Task::kClassification) return;
  const int predicted = PredictedClass(p);
  const int truth = s.true_class;
  if (predicted < 0 || truth < 0) return;
  if (at) AddLabeledClass(window_.Current(*at), s, predicted, truth);
  UpdateDetectors(now, predicted == truth ? 0.0 : 1.0, /*use_ddm=*/true);
}

void QualityWindow::AddLabeledClass(Bucket& b, const LabeledSample& s,
                                    int predicted, int truth) {
  const PredictionSample& p = s.prediction;
  ++b.labeled;
  // Pre-size to every known class, so the matrix grows once per bucket
  // rather than once per new class index seen.
  const int needed = std::max({num_classes_, predicted + 1, truth + 1});
  if (b.confusion.num_classes() < needed) b.confusion.Resize(needed);
  b.confusion.Add(truth, predicted).IgnoreError();
  const bool correct = predicted == truth;

  if (!p.probabilities.empty()) {
    // As stats/classification.h (and sklearn-style ECE): confidence = max
    // probability, correct = argmax is the true class.
    const int top = stats::ArgMax(p.probabilities);
    const double conf = p.probabilities[static_cast<size_t>(top)];
    if (IsProbability(conf)) {
      b.calibration.Add(conf, top == truth).IgnoreError();
    }
    if (static_cast<size_t>(truth) < p.probabilities.size()) {
      b.brier.Add(p.probabilities, truth).IgnoreError();
    } else {
      // The true class has no probability: it is 0 (e.g. a class
      // registered after the model produced this row).
      brier_row_.assign(p.probabilities.begin(), p.probabilities.end());
      brier_row_.resize(static_cast<size_t>(truth) + 1, 0.0);
      b.brier.Add(brier_row_, truth).IgnoreError();
    }
  } else if (p.confidence.has_value() && IsProbability(*p.confidence)) {
    b.calibration.Add(*p.confidence, correct).IgnoreError();
  }

  for (size_t a = 0; a < segment_offset_.size(); ++a) {
    const int slot = SegmentSlot(a, p);
    if (slot < 0) continue;
    SegmentCounts& sc = b.segments[static_cast<size_t>(slot)];
    ++sc.labeled;
    if (correct) ++sc.correct;
    if (positive_class_ >= 0 && truth == positive_class_) {
      ++sc.actual_positive;
      if (correct) ++sc.true_positive;
    }
  }
}

void QualityWindow::UpdateDetectors(absl::Time now, double error,
                                    bool use_ddm) {
  if (adwin_.Update(error)) {
    last_detection_[static_cast<size_t>(Detector::kAdwin)] = now;
  }
  if (use_ddm && ddm_.Update(error)) {
    last_detection_[static_cast<size_t>(Detector::kDdm)] = now;
  }
  if (page_hinkley_.Update(error)) {
    last_detection_[static_cast<size_t>(Detector::kPageHinkley)] = now;
  }
}

QualitySnapshot QualityWindow::Snapshot(absl::Time now) const {
  QualitySnapshot q;
  stats::ConfusionMatrix confusion(num_classes_);
  stats::CalibrationAccumulator calibration;
  stats::BrierAccumulator brier;
  stats::RegressionAccumulator regression;
  ConfidenceHistogram hist;
  int64_t low_confidence = 0;
  std::array<int64_t, kNumCalibrationBins> bin_count{};
  std::array<double, kNumCalibrationBins> bin_sum{};
  std::vector<SegmentCounts> segments(static_cast<size_t>(num_segment_slots_));
  window_.ForEachLive(now, [&](const Bucket& b) {
    q.predictions += b.predictions;
    q.labeled += b.labeled;
    for (size_t i = 0; i < hist.counts.size(); ++i) {
      hist.counts[i] += b.confidence.counts[i];
    }
    hist.sum += b.confidence.sum;
    hist.count += b.confidence.count;
    low_confidence += b.low_confidence;
    for (size_t i = 0; i < kNumCalibrationBins; ++i) {
      bin_count[i] += b.conf_bin_count[i];
      bin_sum[i] += b.conf_bin_sum[i];
    }
    confusion.Merge(b.confusion);
    calibration.Merge(b.calibration);
    brier.Merge(b.brier);
    regression.Merge(b.regression);
    for (size_t i = 0; i < b.segments.size() && i < segments.size(); ++i) {
      SegmentCounts& s = segments[i];
      const SegmentCounts& o = b.segments[i];
      s.predictions += o.predictions;
      s.predicted_positive += o.predicted_positive;
      s.labeled += o.labeled;
      s.correct += o.correct;
      s.actual_positive += o.actual_positive;
      s.true_positive += o.true_positive;
    }
  });

  const int64_t with_confidence = static_cast<int64_t>(hist.count);
  if (with_confidence >= min_samples_) {
    q.confidence = hist;
    q.low_confidence_ratio = Ratio(low_confidence, with_confidence);
    if (task_ == config::Task::kClassification) {
      // Mean of Calibrate(c) over the window, by bin: a calibrated bin
      // contributes n_b x reference accuracy, an empty one its raw sum.
      double estimated = 0;
      for (size_t i = 0; i < kNumCalibrationBins; ++i) {
        const std::optional<double> acc =
            calibration_ == nullptr
                ? std::nullopt
                : calibration_->bin_accuracy(static_cast<int>(i));
        estimated += acc.has_value() ? static_cast<double>(bin_count[i]) * *acc
                                     : bin_sum[i];
      }
      q.estimated_accuracy = estimated / static_cast<double>(with_confidence);
    }
  }

  if (task_ == config::Task::kClassification) {
    if (confusion.total() >= min_samples_) {
      if (absl::StatusOr<stats::ClassificationMetrics> m =
              stats::ComputeClassificationMetrics(confusion);
          m.ok()) {
        q.classification = *std::move(m);
      }
    }
    if (calibration.count() >= min_samples_) {
      if (absl::StatusOr<double> e = calibration.Ece(); e.ok()) q.ece = *e;
    }
    if (brier.count() >= min_samples_) {
      if (absl::StatusOr<double> e = brier.Score(); e.ok()) q.brier = *e;
    }
    for (int d = 0; d < kNumDetectors; ++d) {
      q.concept_drift.push_back({static_cast<Detector>(d), 0, false});
    }
  } else if (task_ == config::Task::kRegression) {
    if (regression.count() >= min_samples_) {
      if (absl::StatusOr<stats::RegressionMetrics> m = regression.Metrics();
          m.ok()) {
        q.regression = *m;
      }
    }
    q.concept_drift.push_back({Detector::kAdwin, 0, false});
    q.concept_drift.push_back({Detector::kPageHinkley, 0, false});
  }
  for (ConceptDriftState& d : q.concept_drift) {
    const stats::DriftDetector& det =
        d.detector == Detector::kAdwin
            ? static_cast<const stats::DriftDetector&>(adwin_)
        : d.detector == Detector::kDdm
            ? static_cast<const stats::DriftDetector&>(ddm_)
            : static_cast<const stats::DriftDetector&>(page_hinkley_);
    d.detections = det.detections();
    if (d.detector == Detector::kDdm) {
      d.warning = ddm_.warning();
    } else {
      const std::optional<absl::Time>& last =
          last_detection_[static_cast<size_t>(d.detector)];
      d.warning = last.has_value() && now - *last < duration_;
    }
  }

  for (size_t a = 0; a < segment_offset_.size(); ++a) {
    SegmentAttributeQuality attr;
    const int n = segment_values_[a] + 1;
    attr.values.resize(static_cast<size_t>(n));
    for (int v = 0; v < n; ++v) {
      const SegmentCounts& s =
          segments[static_cast<size_t>(segment_offset_[a] + v)];
      SegmentValueQuality& out = attr.values[static_cast<size_t>(v)];
      out.predictions = s.predictions;
      out.labeled = s.labeled;
      if (s.labeled >= min_samples_) out.accuracy = Ratio(s.correct, s.labeled);
      if (positive_class_ < 0) continue;
      if (s.predictions >= min_samples_) {
        out.positive_rate = Ratio(s.predicted_positive, s.predictions);
      }
      if (s.actual_positive >= min_samples_) {
        out.tpr = Ratio(s.true_positive, s.actual_positive);
      }
    }
    attr.demographic_parity_difference =
        Spread(attr.values, &SegmentValueQuality::positive_rate);
    attr.equal_opportunity_difference =
        Spread(attr.values, &SegmentValueQuality::tpr);
    q.segments.push_back(std::move(attr));
  }
  return q;
}

size_t QualityWindow::WindowBytes(absl::Time now) const {
  size_t bytes = 0;
  window_.ForEachLive(now, [&](const Bucket& b) {
    const size_t k = static_cast<size_t>(b.confusion.num_classes());
    bytes += sizeof(Bucket) + k * k * sizeof(int64_t) +
             b.segments.capacity() * sizeof(SegmentCounts);
  });
  return bytes;
}

// ---------------------------------------------------------------------------
// Checkpoints

void QualityWindow::EncodeBucket(util::BinaryWriter& w, const Bucket& b) {
  w.Signed(b.predictions);
  w.Signed(b.labeled);
  for (uint64_t n : b.confidence.counts) w.Varint(n);
  w.Double(b.confidence.sum);
  w.Varint(b.confidence.count);
  w.Signed(b.low_confidence);
  for (size_t i = 0; i < kNumCalibrationBins; ++i) {
    w.Signed(b.conf_bin_count[i]);
    w.Double(b.conf_bin_sum[i]);
  }
  b.confusion.EncodeTo(w);
  b.calibration.EncodeTo(w);
  b.brier.EncodeTo(w);
  b.regression.EncodeTo(w);
  // As many as the window has segment slots (in the shape header).
  for (const SegmentCounts& s : b.segments) {
    for (int64_t n : {s.predictions, s.predicted_positive, s.labeled, s.correct,
                      s.actual_positive, s.true_positive}) {
      w.Signed(n);
    }
  }
}

absl::Status QualityWindow::DecodeBucket(util::BinaryReader& r,
                                         Bucket& b) const {
  b.predictions = r.Int("quality bucket predictions", 0, INT64_MAX);
  b.labeled = r.Int("quality bucket labeled", 0, INT64_MAX);
  for (uint64_t& n : b.confidence.counts) n = r.Varint("confidence bucket");
  b.confidence.sum = r.Double("confidence sum");
  b.confidence.count = r.Varint("confidence count");
  b.low_confidence = r.Int("low-confidence count", 0, INT64_MAX);
  for (size_t i = 0; i < kNumCalibrationBins; ++i) {
    b.conf_bin_count[i] = r.Int("confidence bin count", 0, INT64_MAX);
    b.conf_bin_sum[i] = r.Double("confidence bin sum");
  }
  if (!r.ok() || !b.confusion.DecodeFrom(r).ok() ||
      !b.calibration.DecodeFrom(r).ok() || !b.brier.DecodeFrom(r).ok() ||
      !b.regression.DecodeFrom(r).ok()) {
    return r.status();
  }
  b.segments.assign(static_cast<size_t>(num_segment_slots_), SegmentCounts{});
  for (SegmentCounts& s : b.segments) {
    for (int64_t* n : {&s.predictions, &s.predicted_positive, &s.labeled,
                       &s.correct, &s.actual_positive, &s.true_positive}) {
      *n = r.Int("segment count", 0, INT64_MAX);
    }
  }
  return r.status();
}

void QualityWindow::EncodeTo(util::BinaryWriter& w) const {
  // Shape.
  w.Signed(static_cast<int64_t>(task_));
  w.String(positive_class_name_);
  w.Varint(segment_values_.size());
  for (int v : segment_values_) w.Signed(v);
  // State.
  w.Signed(num_classes_);
  w.Signed(positive_class_);
  for (const std::optional<absl::Time>& t : last_detection_) {
    w.Bool(t.has_value());
    if (t) w.Time(*t);
  }
  window_.EncodeTo(w, &QualityWindow::EncodeBucket);
  adwin_.EncodeTo(w);
  ddm_.EncodeTo(w);
  page_hinkley_.EncodeTo(w);
}

absl::Status QualityWindow::DecodeFrom(util::BinaryReader& r) {
  const int64_t task = r.Signed("quality window task");
  const std::string positive_name = r.String("quality window positive class");
  const size_t attributes = r.Count("quality window segment attributes", 1);
  std::vector<int> values;
  for (size_t a = 0; a < attributes && r.ok(); ++a) {
    values.push_back(static_cast<int>(
        r.Int("quality window segment values", 0, INT32_MAX - 1)));
  }
  if (!r.ok()) return r.status();
  if (task != static_cast<int64_t>(task_)) {
    return absl::FailedPreconditionError(
        absl::StrCat("quality window: the checkpoint is of task ", task,
                     ", this model's task is ", static_cast<int64_t>(task_)));
  }
  if (positive_name != positive_class_name_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "quality window: the checkpoint's positive_class is '", positive_name,
        "', this model's '", positive_class_name_, "'"));
  }
  if (values != segment_values_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "quality window: the checkpoint has segment value counts [",
        absl::StrJoin(values, ", "), "], this model [",
        absl::StrJoin(segment_values_, ", "), "]"));
  }
  const int num_classes =
      static_cast<int>(r.Int("quality window classes", 0, int64_t{1} << 20));
  const int positive = static_cast<int>(
      r.Int("quality window positive class index", -1, num_classes - 1));
  std::array<std::optional<absl::Time>, kNumDetectors> last_detection;
  for (std::optional<absl::Time>& t : last_detection) {
    if (r.Bool("detection time present")) t = r.Time("detection time");
  }
  if (!r.ok()) return r.status();
  if (positive_class_ >= 0 && positive != positive_class_) {
    return absl::FailedPreconditionError(
        absl::StrCat("quality window: positive class '", positive_class_name_,
                     "' is class ", positive, " in the checkpoint, ",
                     positive_class_, " here (the classes were reordered)"));
  }
  SlidingWindow<Bucket> window = window_;
  if (absl::Status s = window.DecodeFrom(
          r, [this](util::BinaryReader& in,
                    Bucket& b) { return DecodeBucket(in, b); });
      !s.ok()) {
    return s;
  }
  stats::Adwin adwin = adwin_;
  stats::Ddm ddm = ddm_;
  stats::PageHinkley page_hinkley = page_hinkley_;
  for (stats::DriftDetector* d : std::initializer_list<stats::DriftDetector*>{
           &adwin, &ddm, &page_hinkley}) {
    if (absl::Status s = d->DecodeFrom(r); !s.ok()) return s;
  }
  num_classes_ = std::max(num_classes_, num_classes);
  positive_class_ = positive;
  last_detection_ = last_detection;
  window_ = std::move(window);
  adwin_ = std::move(adwin);
  ddm_ = ddm;
  page_hinkley_ = page_hinkley;
  return absl::OkStatus();
}

}  // namespace aiq::model
