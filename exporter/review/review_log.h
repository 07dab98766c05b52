// The review log: a JSONL file that sampled events (review_sampler.h) are
// appended to, one line per event, with size-based rotation.
//
// Line format (docs/review.md):
//
//   {"received":"2024-05-01T12:00:00.123Z","model":"m","kind":"prediction",
//    "reasons":["safety","low_confidence"],"event":{...as received...}}
//
// (one line, shown wrapped). `event` is the caller's JSON text verbatim,
// except that CR/LF (JSON whitespace outside strings, where they are the
// only place they may appear) become spaces so the line stays one line.
//
// Rotation: before a write that would make the file exceed max_bytes, the
// file is rotated logrotate-style: path.<max_files> is deleted, path.<i>
// becomes path.<i+1>, path becomes path.1, and a new path is started. A line
// is never split across files; a single line longer than max_bytes goes
// alone into a fresh file.
//
// Durability: each line is handed to the kernel with one write(2) on an
// O_APPEND descriptor before Append returns (no user-space buffer), so a
// process crash loses no accepted line; a machine crash can lose what the
// kernel had not yet written back (no fsync).
//
// Thread safety: Append and Counts may be called concurrently. One mutex
// guards the file descriptor, its size and rotation, so lines from
// concurrent appenders never interleave; the JSON line is built before the
// mutex is taken. Counters are atomics (Counts never waits for the disk).
//
// Errors: a failed write or rotation (disk full, file removed, ...) does not
// throw or abort; it is returned, counted in ReviewCounts::write_errors and
// reported once on stderr. A partially written line is truncated away.
//
// Example, given `const config::Config& config`, `ReasonSet reasons` and
// `std::string_view raw_json`:
//   absl::StatusOr<std::unique_ptr<aiq::review::ReviewLog>> log =
//       aiq::review::ReviewLog::Open(config);
//   if (!log.ok()) { /* log.status() names the path */ }
//   else if (*log != nullptr) {          // nullptr: review is off
//     (*log)->Append("m", reasons, "prediction", raw_json, absl::Now())
//         .IgnoreError();
//   }
#ifndef AIQ_EXPORTER_REVIEW_REVIEW_LOG_H_
#define AIQ_EXPORTER_REVIEW_REVIEW_LOG_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "exporter/config/config.h"
#include "exporter/review/review_sampler.h"

namespace aiq::review {

// A snapshot of the log's counters, for exposition (metrics/review_metrics.h).
struct ReviewCounts {
  struct Model {
    std::string model;
    std::array<uint64_t, kNumReasons> samples{};  // indexed by Reason
  };
  // Every configured model (config order, zeros included), then "other"
  // if events of unconfigured models were appended.
  std::vector<Model> models;
  uint64_t lines_written = 0;
  uint64_t bytes_written = 0;
  uint64_t rotations = 0;
  uint64_t write_errors = 0;  // lines lost or rotations failed
};

class ReviewLog {
 public:
  // Label used for events of models not passed to Open.
  static constexpr std::string_view kOtherModel = "other";

  // Opens (creating it and missing parent directories) config.path for
  // appending; an existing file is continued. Returns nullptr when
  // config.path is empty: review is off and nothing is created. Errors name
  // the path and the cause. `models` are the label values counted
  // individually (bounded: from the config, not from traffic).
  static absl::StatusOr<std::unique_ptr<ReviewLog>> Open(
      const config::ReviewConfig& config, std::vector<std::string> models);
  // Same, with config.review and the names of config.models.
  static absl::StatusOr<std::unique_ptr<ReviewLog>> Open(
      const config::Config& config);

  ~ReviewLog();
  ReviewLog(const ReviewLog&) = delete;
  ReviewLog& operator=(const ReviewLog&) = delete;

  // Writes one line for an event sampled for `reasons` (non-empty) and counts
  // each reason once for `model` (counted even if the write then fails).
  // `kind` is "prediction" or "feedback"; `event_json` one JSON value (empty
  // is written as null).
  absl::Status Append(std::string_view model, ReasonSet reasons,
                      std::string_view kind, std::string_view event_json,
                      absl::Time received);
  // Same with reasons by name ("random", "safety", "low_feedback",
  // "low_confidence"); an unknown or repeated name is InvalidArgument and
  // nothing is written.
  absl::Status Append(std::string_view model,
                      std::span<const std::string_view> reasons,
                      std::string_view kind, std::string_view event_json,
                      absl::Time received);

  ReviewCounts Counts() const;
  const std::string& path() const { return path_; }

 private:
  ReviewLog(const config::ReviewConfig& config, std::vector<std::string> models,
            int fd, int64_t size);

  absl::Status WriteLine(std::string_view line) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RotateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ReopenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReportErrorOnce(const absl::Status& status);

  const std::string path_;
  const int64_t max_bytes_;
  const int max_files_;

  absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;  // -1: reopened on the next Append
  int64_t size_ ABSL_GUARDED_BY(mu_) = 0;

  // Counters: models_[i] for configured model i, the last entry for "other".
  std::vector<std::string> models_;
  absl::flat_hash_map<std::string, size_t> model_index_;
  std::unique_ptr<std::array<std::atomic<uint64_t>, kNumReasons>[]> samples_;
  std::atomic<uint64_t> lines_written_{0};
  std::atomic<uint64_t> bytes_written_{0};
  std::atomic<uint64_t> rotations_{0};
  std::atomic<uint64_t> write_errors_{0};
  std::atomic<bool> error_reported_{false};
};

// The JSON line (with its trailing '\n') that Append writes; exposed for
// tests and documentation.
std::string FormatReviewLine(std::string_view model,
                             std::span<const std::string_view> reasons,
                             std::string_view kind, std::string_view event_json,
                             absl::Time received);

}  // namespace aiq::review

#endif  // AIQ_EXPORTER_REVIEW_REVIEW_LOG_H_
