#include "exporter/backtest/event_log.h"

#include <algorithm>
#include <utility>

#include "exporter/util/parallel_for.h"

namespace aiq::backtest {

EventLog::EventLog(const config::Config& config)
    : decoder_(config, {.require_timestamp = true}),
      inputs_(config.limits.max_events_per_request) {}

absl::Status EventLog::Read(const std::string& path, ingest::EventKind kind) {
  if (absl::Status st = inputs_.Add(path, kind); !st.ok()) return st;
  detail::InputFile& file = inputs_.file(inputs_.size() - 1);
  std::vector<detail::DecodedSlice> slices(file.slices());
  util::ParallelFor(slices.size(), /*max_threads=*/0,
                    [&](size_t i) { slices[i] = file.Decode(i, decoder_); });
  file.Release();  // the events hold what they need of it
  size_t decoded = 0;
  for (const detail::DecodedSlice& s : slices) decoded += s.events.size();
  events_.reserve(events_.size() + decoded);
  times_.reserve(times_.size() + decoded);
  for (detail::DecodedSlice& s : slices) {
    inputs_.Keep(s);
    times_.insert(times_.end(), s.times.begin(), s.times.end());
    // Moving the vector keeps its elements where they are.
    chunks_.push_back(std::move(s.events));
    for (ingest::DecodedEvent& e : chunks_.back()) events_.push_back(&e);
    s = detail::DecodedSlice();  // free it now
  }
  order_.resize(events_.size());
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
  return absl::OkStatus();
}

void EventLog::SortByTime() {
  const auto by_time = [&](size_t a, size_t b) {
    return times_[a] < times_[b];
  };
  // Logs are usually written in time order already.
  if (std::is_sorted(order_.begin(), order_.end(), by_time)) return;
  // Stable: ties keep the read order.
  std::stable_sort(order_.begin(), order_.end(), by_time);
}

std::optional<absl::Time> EventLog::NextTime() {
  if (next_ >= order_.size()) return std::nullopt;
  return time_at(next_);
}

ingest::DecodedEvent& EventLog::TakeNext() { return at(next_++); }

std::optional<absl::Time> EventLog::LastTimeHint() const {
  if (order_.empty()) return std::nullopt;
  return time_at(order_.size() - 1);
}

ingest::EventKind EventLog::Reject(const ingest::EventError& error) {
  return inputs_.Reject(error);
}

std::vector<BadLine> EventLog::bad_lines() const { return inputs_.bad_lines(); }

}  // namespace aiq::backtest
