// What a backtest replays: events in event-time order, from NDJSON files of
// predictions, labels, feedback and evaluations (gzip allowed) in the HTTP
// API's event schema, each event with its own `timestamp`, read with the
// same decoder and validation as `serve`. A bad line is kept as a BadLine
// naming its file and line, and skipped. Two sources implement it:
// EventLog (event_log.h) reads every event into memory and sorts them;
// EventStream (event_stream.h) merges files already in time order as it
// goes, in bounded memory.
//
// Example, given an `aiq::backtest::EventSource& events`:
//   while (std::optional<absl::Time> t = events.NextTime()) {
//     aiq::ingest::DecodedEvent& e = events.TakeNext();  // at *t
//     // ... apply e (a batch of them) ...
//     events.Release();  // e no longer needed
//   }
//   if (!events.status().ok()) {
//     // the events could not all be delivered in time order
//   }
//   // events.bad_lines(): "file:line: message", by file and line
#ifndef AIQ_EXPORTER_BACKTEST_EVENT_SOURCE_H_
#define AIQ_EXPORTER_BACKTEST_EVENT_SOURCE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
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

class EventSource {
 public:
  virtual ~EventSource() = default;

  // The time of the next event; nullopt when none is left, or when the
  // source failed (status()). Ties keep the order the events were given
  // in: files in the order added, then lines.
  virtual std::optional<absl::Time> NextTime() = 0;
  // The next event; only after NextTime() gave its time. Its `index`
  // identifies its line (Reject). It stays where it was decoded, valid
  // with every event taken after it until Release(), so a batch of events
  // is applied without moving them.
  virtual ingest::DecodedEvent& TakeNext() = 0;
  // Says that the events taken so far are no longer needed.
  virtual void Release() = 0;
  // The last event's time if known before reading to the end (progress).
  virtual std::optional<absl::Time> LastTimeHint() const = 0;

  // Records the refusal by a model of an event taken from this source;
  // returns its kind.
  virtual ingest::EventKind Reject(const ingest::EventError& error) = 0;
  // OK, or why not every event could be delivered in time order.
  virtual absl::Status status() const = 0;
  // The bad lines met so far, by file (in the order added) and line.
  virtual std::vector<BadLine> bad_lines() const = 0;
  // Non-blank lines read so far, good and bad.
  virtual int64_t lines() const = 0;
};

}  // namespace aiq::backtest

#endif  // AIQ_EXPORTER_BACKTEST_EVENT_SOURCE_H_
