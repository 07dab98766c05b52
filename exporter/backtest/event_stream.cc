#include "exporter/backtest/event_stream.h"

#include <algorithm>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"

namespace aiq::backtest {
namespace {

// Slices decoded ahead per file: one being decoded while the one before it
// is replayed, and one more to ride over an uneven slice.
constexpr size_t kReadAhead = 2;

}  // namespace

EventStream::EventStream(const config::Config& config)
    : decoder_(config, {.require_timestamp = true}),
      inputs_(config.limits.max_events_per_request) {}

// Waits for the decoding still under way (the futures' destructors would,
// in an unspecified order).
EventStream::~EventStream() {
  if (freeing_.valid()) freeing_.wait();
  for (Cursor& c : cursors_) {
    for (std::future<detail::DecodedSlice>& f : c.decoding) {
      if (f.valid()) f.wait();
    }
  }
}

absl::Status EventStream::Add(const std::string& path, ingest::EventKind kind) {
  if (absl::Status st = inputs_.Add(path, kind); !st.ok()) return st;
  cursors_.emplace_back();
  const std::optional<absl::Time> last =
      inputs_.file(inputs_.size() - 1).LastTime(decoder_);
  if (last && (!last_ || *last > *last_)) last_ = last;
  ReadAhead(cursors_.size() - 1);
  return absl::OkStatus();
}

void EventStream::ReadAhead(size_t f) {
  Cursor& c = cursors_[f];
  const detail::InputFile& file = inputs_.file(f);
  while (c.decoding.size() < kReadAhead && c.next_slice < file.slices()) {
    const size_t slice = c.next_slice++;
    const auto decode = [&file, slice, this] {
      return file.Decode(slice, decoder_);
    };
    try {
      c.decoding.push_back(std::async(std::launch::async, decode));
    } catch (const std::system_error&) {  // no thread: decode when needed
      c.decoding.push_back(std::async(std::launch::deferred, decode));
    }
  }
}

bool EventStream::Fill(size_t f) {
  Cursor& c = cursors_[f];
  while (!c.done && c.pos >= c.current.events.size()) {
    // Its events may be in a batch not yet applied.
    if (!c.current.events.empty()) retired_.push_back(std::move(c.current));
    c.current = detail::DecodedSlice();
    if (c.decoding.empty()) {
      c.done = true;
      break;
    }
    c.current = c.decoding.front().get();
    c.decoding.pop_front();
    c.pos = 0;
    ReadAhead(f);
    inputs_.Keep(c.current);
    // Sorted files only: the merge has no way back.
    for (size_t k = 0; k < c.current.events.size(); ++k) {
      const int64_t t = c.current.times[k];
      const int64_t line = detail::LineOfLineId(c.current.events[k].index);
      if (t < c.last_ns) {
        status_ = absl::FailedPreconditionError(
            absl::StrCat(inputs_.file(f).path(), ":", line,
                         ": timestamp is earlier than line ", c.last_line,
                         "'s: the file is not in time order"));
        return false;
      }
      c.last_ns = t;
      c.last_line = line;
    }
  }
  return !c.done;
}

std::optional<absl::Time> EventStream::NextTime() {
  if (!status_.ok()) return std::nullopt;
  if (next_file_ < 0) {
    int64_t best = 0;
    for (size_t f = 0; f < cursors_.size(); ++f) {
      if (!Fill(f)) {
        if (!status_.ok()) return std::nullopt;
        continue;
      }
      const Cursor& c = cursors_[f];
      const int64_t t = c.current.times[c.pos];
      // Strictly earlier: ties go to the file added first.
      if (next_file_ < 0 || t < best) {
        next_file_ = static_cast<int>(f);
        best = t;
      }
    }
    if (next_file_ < 0) return std::nullopt;
  }
  const Cursor& c = cursors_[static_cast<size_t>(next_file_)];
  return absl::FromUnixNanos(c.current.times[c.pos]);
}

ingest::DecodedEvent& EventStream::TakeNext() {
  Cursor& c = cursors_[static_cast<size_t>(next_file_)];
  next_file_ = -1;
  return c.current.events[c.pos++];
}

void EventStream::Release() {
  if (retired_.empty()) return;
  // Freeing a slice's events is a few ms of the replay thread's time.
  if (freeing_.valid()) freeing_.wait();
  auto free = [slices = std::move(retired_)]() mutable { slices.clear(); };
  retired_.clear();
  try {
    freeing_ = std::async(std::launch::async, std::move(free));
  } catch (const std::system_error&) {
    // No thread: the slices went with the failed call's state, or are
    // freed here if the call had not taken them yet.
    free();
  }
}

ingest::EventKind EventStream::Reject(const ingest::EventError& error) {
  return inputs_.Reject(error);
}

std::vector<BadLine> EventStream::bad_lines() const {
  return inputs_.bad_lines();
}

}  // namespace aiq::backtest
