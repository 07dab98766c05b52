// Concept-drift detectors for a model's error stream: ADWIN, DDM and
// Page-Hinkley, each reproducing River's (online-ml/river 0.22+) update rules,
// default parameters and post-drift reset, so a detection index computed here
// is the one `river.drift.*` reports on the same input.
//
// Feed one value per labelled prediction: 1 for an error and 0 for a correct
// prediction (classification), or the absolute error (regression; ADWIN and
// Page-Hinkley only, DDM needs bits).
//
// Example, given `std::span<const bool> prediction_was_wrong` (one per
// labelled prediction, in arrival order):
//   #include <span>
//   aiq::stats::Adwin adwin;                  // delta = 0.002, clock = 32
//   aiq::stats::Ddm ddm;                      // warning 2 sigma, drift 3 sigma
//   for (bool wrong : prediction_was_wrong) {
//     double err = wrong ? 1.0 : 0.0;
//     if (adwin.Update(err)) { /* error rate changed: alert, retrain */ }
//     ddm.Update(err);
//     if (ddm.warning()) { /* error rate rising: start buffering */ }
//   }
//
// Semantics shared by all three (River's DriftDetector contract):
//  - Update(x) returns true iff this update detected a drift; drift_detected()
//    repeats that answer until the next Update().
//  - The update after a detection first resets the detector's state (River's
//    `if self.drift_detected: self._reset()`), so each detection starts a new
//    concept. detections() and updates() count across these automatic resets
//    and are cleared only by Reset(). (River's ADWIN.n_detections lives in the
//    object that is reset, so it never exceeds 1; ours keeps counting.)
//  - Non-finite inputs (and, for DDM, inputs outside [0, 1], on which River
//    raises) are ignored: a no-op that returns false.
//  - Deterministic, and no allocation per update: DDM and Page-Hinkley are
//    O(1) state; ADWIN keeps O(log n) bucket rows and allocates only when the
//    window first grows past a power of two it has not reached before.
//  - Not thread-safe; one instance per stream.
//  - EncodeTo/DecodeFrom checkpoint every bit of a detector's state, so a
//    decoded detector detects exactly where the original would have.
//    DecodeFrom is DataLoss on truncated or malformed input and
//    FailedPrecondition when the input is another detector type or was
//    written with other options (the message names the option); on error
//    the detector is unchanged.
//
// Example (a checkpoint), given `const Adwin& adwin`:
//   util::BinaryWriter w;
//   adwin.EncodeTo(w);
//   Adwin restored;  // the same options
//   util::BinaryReader r(w.data());
//   absl::Status st = restored.DecodeFrom(r);
#ifndef AIQ_EXPORTER_STATS_CONCEPT_DRIFT_H_
#define AIQ_EXPORTER_STATS_CONCEPT_DRIFT_H_

#include <cstdint>
#include <limits>
#include <vector>

#include "absl/status/status.h"
#include "exporter/util/binary_codec.h"

namespace aiq::stats {

// Common interface, so the exporter can hold "a detector per model" chosen by
// configuration. The concrete classes are final: calls through a concrete type
// are devirtualised.
class DriftDetector {
 public:
  virtual ~DriftDetector() = default;

  // Adds one observation; true iff a drift was detected on this update.
  virtual bool Update(double x) = 0;
  // True iff the last Update() detected a drift.
  bool drift_detected() const { return drift_; }
  // True while the detector is in its warning zone. Only DDM has one; ADWIN
  // and Page-Hinkley never warn (River gives them no warning_detected).
  virtual bool warning() const { return false; }
  // Drifts detected since construction or Reset().
  int64_t detections() const { return detections_; }
  // Finite observations accepted since construction or Reset().
  int64_t updates() const { return updates_; }
  // Back to the freshly constructed state (parameters kept).
  virtual void Reset() = 0;

  // Writes the dynamic state (everything not derived from the options),
  // after a header naming the detector type and its options.
  virtual void EncodeTo(util::BinaryWriter& w) const = 0;
  // Restores what EncodeTo wrote into a detector of the same type and
  // options; see the file comment for the errors. Unchanged on error.
  virtual absl::Status DecodeFrom(util::BinaryReader& r) = 0;

 protected:
  DriftDetector() = default;
  DriftDetector(const DriftDetector&) = default;
  DriftDetector& operator=(const DriftDetector&) = default;

  // The counters shared by every detector.
  void EncodeCounters(util::BinaryWriter& w) const;
  void DecodeCounters(util::BinaryReader& r);

  bool drift_ = false;
  int64_t detections_ = 0;
  int64_t updates_ = 0;
};

// ---------------------------------------------------------------------------
// ADWIN: adaptive windowing (Bifet & Gavaldà, "Learning from Time-Changing
// Data with Adaptive Windowing", SDM 2007), the bucketed ADWIN2 variant as
// River implements it (river/drift/adwin.py + the AdaptiveWindowing core,
// rust_src/adwin.rs, identical to the 0.22+ Cython). Works on any bounded
// real-valued stream; the cut test uses the window variance (Bernstein-style
// bound), not the [0, 1] Hoeffding bound of the paper.
struct AdwinOptions {
  double delta = 0.002;       // significance of the cut test
  int clock = 32;             // test for a cut every `clock` updates
  int max_buckets = 5;        // buckets kept per size before two are merged
  int min_window_length = 5;  // both sub-windows need at least this many items
  int grace_period = 10;      // no test until the window is longer than this
};

class Adwin final : public DriftDetector {
 public:
  explicit Adwin(AdwinOptions options = {});

  bool Update(double x) override;
  void Reset() override;
  void EncodeTo(util::BinaryWriter& w) const override;
  absl::Status DecodeFrom(util::BinaryReader& r) override;

  const AdwinOptions& options() const { return options_; }
  // Current window length, sum, and sum of squared deviations from its mean
  // (River's `width`, `total`, `variance`; note variance is not divided by n).
  double width() const { return width_; }
  double total() const { return total_; }
  double variance() const { return variance_; }
  // Mean of the window (River's `estimation`), 0 when empty.
  double estimation() const { return width_ > 0 ? total_ / width_ : 0.0; }
  // Number of bucket rows in use (row i holds buckets of 2^i items): the
  // O(log n) memory footprint.
  int rows() const { return num_rows_; }

 private:
  // Row r occupies [r * stride_, (r + 1) * stride_) of totals_/variances_;
  // count_[r] buckets are in use, oldest first.
  double* row_totals(int r) { return &totals_[Index(r)]; }
  double* row_variances(int r) { return &variances_[Index(r)]; }
  std::size_t Index(int r) const {
    return static_cast<std::size_t>(r) * static_cast<std::size_t>(stride_);
  }
  void ClearWindow();
  void AddRow();
  void DropOldest(int r, int n);  // drops the n oldest buckets of row r
  void Insert(double x);
  void DeleteOldestBucket();
  bool DetectChange();
  bool CutExceeds(double n0, double n1, double delta_mean, double delta_prime,
                  double variance_per_item) const;

  AdwinOptions options_;
  int stride_;
  double total_ = 0;
  double variance_ = 0;
  double width_ = 0;
  int64_t tick_ = 0;
  int num_rows_ = 0;
  std::vector<int> count_;
  std::vector<double> totals_;
  std::vector<double> variances_;
};

// ---------------------------------------------------------------------------
// DDM: Drift Detection Method (Gama, Medas, Castillo & Rodrigues, "Learning
// with Drift Detection", SBIA 2004) as river.drift.binary.DDM: with p the
// running error rate and s = sqrt(p (1 - p) / n), once n > warm_start it
// records (p_min, s_min) where p + s is smallest, warns when
// p + s > p_min + warning_threshold * s_min and detects drift when
// p + s > p_min + drift_threshold * s_min. Input: 1 = error, 0 = correct.
struct DdmOptions {
  int warm_start = 30;
  double warning_threshold = 2.0;
  double drift_threshold = 3.0;
};

class Ddm final : public DriftDetector {
 public:
  explicit Ddm(DdmOptions options = {});

  bool Update(double x) override;
  bool warning() const override { return warning_; }
  void Reset() override;
  void EncodeTo(util::BinaryWriter& w) const override;
  absl::Status DecodeFrom(util::BinaryReader& r) override;

  const DdmOptions& options() const { return options_; }
  // Running error rate of the current concept.
  double error_rate() const { return p_; }
  // Observations in the current concept (since the last drift).
  double n() const { return n_; }

 private:
  void ClearConcept();

  DdmOptions options_;
  bool warning_ = false;
  double n_ = 0;
  double p_ = 0;
  double p_min_ = 0;
  double s_min_ = 0;
  double ps_min_ = std::numeric_limits<double>::infinity();
};

// ---------------------------------------------------------------------------
// Page-Hinkley test (Page, "Continuous Inspection Schemes", Biometrika 1954)
// as river.drift.PageHinkley: cumulative, alpha-faded sums of the deviation
// from the running mean, minus delta (increase) or plus delta (decrease);
// drift when a sum departs from its running extreme by more than threshold.
enum class PageHinkleyMode { kUp, kDown, kBoth };

struct PageHinkleyOptions {
  int min_instances = 30;
  double delta = 0.005;
  double threshold = 50.0;
  double alpha = 1.0 - 0.0001;
  PageHinkleyMode mode = PageHinkleyMode::kBoth;
};

class PageHinkley final : public DriftDetector {
 public:
  explicit PageHinkley(PageHinkleyOptions options = {});

  bool Update(double x) override;
  void Reset() override;
  void EncodeTo(util::BinaryWriter& w) const override;
  absl::Status DecodeFrom(util::BinaryReader& r) override;

  const PageHinkleyOptions& options() const { return options_; }
  // The two test statistics after the last update (0 before any update):
  // sum_increase - min(sum_increase) and max(sum_decrease) - sum_decrease.
  double increase_statistic() const;
  double decrease_statistic() const;
  // Running mean of the current concept.
  double mean() const { return mean_; }

 private:
  void ClearConcept();

  PageHinkleyOptions options_;
  double n_ = 0;
  double mean_ = 0;
  double sum_increase_ = 0;
  double sum_decrease_ = 0;
  // River starts these at +inf and -1 (sic): the first update replaces
  // both, since sum_decrease >= delta > -1 after it.
  double min_increase_ = std::numeric_limits<double>::infinity();
  double max_decrease_ = -1;
};

}  // namespace aiq::stats

#endif  // AIQ_EXPORTER_STATS_CONCEPT_DRIFT_H_
