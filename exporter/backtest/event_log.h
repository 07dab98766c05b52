// An event source (event_source.h) that reads every event of its files
// into memory, decoding on every core, and orders them by time: files in
// any order. EventStream (event_stream.h) does the same in bounded memory
// when each file is already in time order.
//
// Example, given `const config::Config& config`:
//   aiq::backtest::EventLog log(config);
//   absl::Status st = log.Read("predictions.ndjson.gz",
//                              aiq::ingest::EventKind::kPrediction);
//   if (st.ok()) {
//     st = log.Read("labels.ndjson", aiq::ingest::EventKind::kLabel);
//   }
//   log.SortByTime();
//   // log.at(k) for k < log.size(): in time order; or NextTime/TakeNext;
//   // log.bad_lines(): "file:line: message"
#ifndef AIQ_EXPORTER_BACKTEST_EVENT_LOG_H_
#define AIQ_EXPORTER_BACKTEST_EVENT_LOG_H_

#include <cstdint>
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

class EventLog : public EventSource {
 public:
  explicit EventLog(const config::Config& config);

  // Reads one file of `kind` events. An unreadable or undecompressable
  // file is an error naming it (nothing of it is kept); bad lines are not.
  absl::Status Read(const std::string& path, ingest::EventKind kind);

  // Orders the events by time; events of the same time keep the order they
  // were read in (files in Read order, then lines). Only an index is
  // sorted: the events stay where they were decoded.
  void SortByTime();

  // The events, in time order after SortByTime (else in read order).
  size_t size() const { return events_.size(); }
  ingest::DecodedEvent& at(size_t k) { return *events_[order_[k]]; }
  absl::Time time_at(size_t k) const {
    return absl::FromUnixNanos(times_[order_[k]]);
  }

  // EventSource: from the first event in time order (call SortByTime
  // first) to the last.
  std::optional<absl::Time> NextTime() override;
  ingest::DecodedEvent& TakeNext() override;
  // The log keeps every event until it is destroyed.
  void Release() override {}
  std::optional<absl::Time> LastTimeHint() const override;
  ingest::EventKind Reject(const ingest::EventError& error) override;
  absl::Status status() const override { return absl::OkStatus(); }
  std::vector<BadLine> bad_lines() const override;
  int64_t lines() const override { return inputs_.lines(); }

 private:
  ingest::Decoder decoder_;
  detail::InputSet inputs_;
  // Decoded slices, kept where they were decoded (moving 400-byte events
  // costs more than decoding them), and each event, read order.
  std::vector<std::vector<ingest::DecodedEvent>> chunks_;
  std::vector<ingest::DecodedEvent*> events_;
  std::vector<int64_t> times_;  // Unix ns, by event (read order)
  std::vector<size_t> order_;   // event positions, by time
  size_t next_ = 0;             // NextTime/TakeNext position in order_
};

}  // namespace aiq::backtest

#endif  // AIQ_EXPORTER_BACKTEST_EVENT_LOG_H_
