// An event source (event_source.h) for files that are each in time order,
// as logs are written: it merges them as it goes, decoding the next slices
// of every file on other cores while the events before them are replayed,
// so memory stays bounded (a few slices per file) whatever the log's
// length. A file found out of order fails the stream (FailedPrecondition
// naming the file and line): replay it with EventLog (event_log.h), which
// sorts in memory.
//
// Example, given `const config::Config& config`:
//   aiq::backtest::EventStream events(config);
//   absl::Status st = events.Add("predictions.ndjson.gz",
//                                aiq::ingest::EventKind::kPrediction);
//   while (st.ok() && events.NextTime()) {
//     aiq::ingest::DecodedEvent& e = events.TakeNext();
//     events.Release();  // after using e
//   }
//   if (st.ok()) st = events.status();  // FailedPrecondition: not sorted
#ifndef AIQ_EXPORTER_BACKTEST_EVENT_STREAM_H_
#define AIQ_EXPORTER_BACKTEST_EVENT_STREAM_H_

#include <cstdint>
#include <deque>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "exporter/backtest/event_source.h"
#include "exporter/backtest/input_file.h"
#include "exporter/config/config.h"
#include "exporter/ingest/decoder.h"

namespace aiq::backtest {

class EventStream : public EventSource {
 public:
  explicit EventStream(const config::Config& config);
  ~EventStream() override;

  // Adds a file of `kind` events (before the first NextTime). An
  // unreadable or undecompressable file is an error naming it.
  absl::Status Add(const std::string& path, ingest::EventKind kind);

  std::optional<absl::Time> NextTime() override;
  ingest::DecodedEvent& TakeNext() override;
  // Frees the slices whose events were all taken, on a thread of its own
  // rather than the replay's.
  void Release() override;
  // The latest of the files' last lines.
  std::optional<absl::Time> LastTimeHint() const override { return last_; }
  ingest::EventKind Reject(const ingest::EventError& error) override;
  absl::Status status() const override { return status_; }
  std::vector<BadLine> bad_lines() const override;
  int64_t lines() const override { return inputs_.lines(); }

 private:
  // Where the merge is in one file.
  struct Cursor {
    size_t next_slice = 0;  // the next slice to start decoding
    std::deque<std::future<detail::DecodedSlice>> decoding;
    detail::DecodedSlice current;
    size_t pos = 0;  // next event in `current`
    int64_t last_ns = INT64_MIN;
    int64_t last_line = 0;
    bool done = false;
  };
  // Starts decoding slices of file f up to the read-ahead.
  void ReadAhead(size_t f);
  // Makes file f's next event available; false at its end or on failure.
  bool Fill(size_t f);

  ingest::Decoder decoder_;
  detail::InputSet inputs_;
  std::deque<Cursor> cursors_;  // by file; a deque: futures do not copy
  std::optional<absl::Time> last_;
  int next_file_ = -1;  // the file of the event NextTime gave, or -1
  // Slices passed by the merge whose events may still be in use (until
  // Release), and the freeing of the ones released before.
  std::vector<detail::DecodedSlice> retired_;
  std::future<void> freeing_;
  absl::Status status_;
};

}  // namespace aiq::backtest

#endif  // AIQ_EXPORTER_BACKTEST_EVENT_STREAM_H_
