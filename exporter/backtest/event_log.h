// The events a backtest replays: NDJSON files of predictions, labels,
// feedback and evaluations (gzip allowed), in the HTTP API's event schema, each
// event with its own `timestamp`. Read with the same decoder and validation as
// `serve`; a bad line is kept as a BadLine naming its file and line, and
// skipped. The events are then put in event-time order.
//
// Example, given `const config::Config& config`:
//   aiq::backtest::EventLog log(config);
//   absl::Status st = log.Read("predictions.ndjson.gz",
//                              aiq::ingest::EventKind::kPrediction);
//   if (st.ok()) {
//     st = log.Read("labels.ndjson", aiq::ingest::EventKind::kLabel);
//   }
//   log.SortByTime();
//   // log.at(k) for k < log.size(): in time order;
//   // log.bad_lines(): "file:line: message"
#ifndef AIQ_EXPORTER_BACKTEST_EVENT_LOG_H_
#define AIQ_EXPORTER_BACKTEST_EVENT_LOG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/config/config.h"
#include "exporter/ingest/decoder.h"

namespace aiq::backtest {

// A line that was not replayed: it did not decode, or the model refused it
// (e.g. a duplicate id).
struct BadLine {
  std::string file;
  int64_t line = 0;  // 1-based
  ingest::EventKind kind = ingest::EventKind::kPrediction;
  ingest::RejectReason reason = ingest::RejectReason::kInvalidField;
  std::string message;  // names the field, as the API's errors do

  std::string ToString() const;  // "file:line: message"
};

// The time an event happened (its `timestamp`).
absl::Time EventTime(const ingest::Event& e);

class EventLog {
 public:
  explicit EventLog(const config::Config& config);

  // Reads one file of `kind` events, decoding its lines on every core. An
  // unreadable or undecompressable file is an error naming it (nothing of
  // it is kept); bad lines are not.
  absl::Status Read(const std::string& path, ingest::EventKind kind);

  // Orders the events by time; events of the same time keep the order they
  // were read in (files in Read order, then lines). Only an index is
  // sorted: the events stay where they were decoded.
  void SortByTime();

  // The events, in time order after SortByTime (else in read order). Each
  // event's `index` identifies its line (Reject).
  size_t size() const { return events_.size(); }
  ingest::DecodedEvent& at(size_t k) { return *events_[order_[k]]; }
  absl::Time time_at(size_t k) const {
    return absl::FromUnixNanos(times_[order_[k]]);
  }
  // Records the refusal of an event read from this log; returns its kind.
  ingest::EventKind Reject(const ingest::EventError& error);
  const std::vector<BadLine>& bad_lines() const { return bad_lines_; }
  // Non-blank lines read, good and bad.
  int64_t lines() const { return lines_; }

 private:
  struct Origin {
    int file;
    int64_t line;
    ingest::EventKind kind;
  };
  // The events and bad lines of one slice of a file.
  struct Slice {
    std::string_view text;
    int64_t first_line = 0;        // of the file
    std::vector<int64_t> line_of;  // file line of each non-blank line
    absl::StatusOr<ingest::DecodeResult> decoded;
  };
  // Decodes the non-blank lines of a slice (safe to run concurrently).
  void DecodeSlice(Slice& slice, ingest::EventKind kind) const;
  // Keeps a decoded slice's events and bad lines (in file order).
  void Keep(Slice& slice, int file, ingest::EventKind kind);

  const config::Config& config_;
  ingest::Decoder decoder_;
  std::vector<std::string> files_;
  std::vector<Origin> origins_;  // by event index
  // Decoded slices, kept where they were decoded (moving 400-byte events
  // costs more than decoding them), and each event by index, read order.
  std::vector<std::vector<ingest::DecodedEvent>> chunks_;
  std::vector<ingest::DecodedEvent*> events_;
  std::vector<int64_t> times_;  // Unix ns, by event index
  std::vector<size_t> order_;   // event indices, by time
  std::vector<BadLine> bad_lines_;
  int64_t lines_ = 0;
};

}  // namespace aiq::backtest

#endif  // AIQ_EXPORTER_BACKTEST_EVENT_LOG_H_
