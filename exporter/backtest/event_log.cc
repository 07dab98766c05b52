#include "exporter/backtest/event_log.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <variant>

#include "absl/strings/str_cat.h"
#include "exporter/util/gzip.h"
#include "exporter/util/parallel_for.h"

namespace aiq::backtest {
namespace {

absl::Status ReadFile(const std::string& path, std::string& out) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"),
                                          &std::fclose);
  if (f == nullptr) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  }
  // One allocation of the file's size when it has one (a pipe has not).
  if (std::fseek(f.get(), 0, SEEK_END) == 0) {
    const long size = std::ftell(f.get());
    if (size > 0) out.reserve(static_cast<size_t>(size));
    std::rewind(f.get());
  }
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f.get())) > 0) out.append(buf, n);
  if (std::ferror(f.get())) {
    return absl::DataLossError(absl::StrCat(path, ": read error"));
  }
  return absl::OkStatus();
}

// Lines decoded per call: bounded so one call's events and errors stay
// small, and within limits.max_events_per_request.
constexpr int64_t kLinesPerSlice = 1 << 16;

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

std::string BadLine::ToString() const {
  return absl::StrCat(file, ":", line, ": ", message);
}

absl::Time EventTime(const ingest::Event& e) {
  return std::visit([](const auto& ev) { return ev.timestamp; }, e);
}

EventLog::EventLog(const config::Config& config)
    : config_(config), decoder_(config, {.require_timestamp = true}) {}

absl::Status EventLog::Read(const std::string& path, ingest::EventKind kind) {
  std::string data;
  if (absl::Status st = ReadFile(path, data); !st.ok()) return st;
  // gzip by its magic number, whatever the file is called.
  if (data.size() >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
      static_cast<unsigned char>(data[1]) == 0x8b) {
    absl::StatusOr<std::string> text =
        util::Gunzip(data, /*max_output_bytes=*/size_t{1} << 40);
    if (!text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", text.status().message()));
    }
    data = *std::move(text);
  }
  // Room for every line of the file at once (reserving per slice would
  // copy all events read so far each time).
  const size_t lines =
      static_cast<size_t>(std::count(data.begin(), data.end(), '\n') + 1);
  events_.reserve(events_.size() + lines);
  origins_.reserve(origins_.size() + lines);
  const int file = static_cast<int>(files_.size());
  files_.push_back(path);
  const int64_t per_slice =
      std::min<int64_t>(kLinesPerSlice, config_.limits.max_events_per_request);
  // Slices of at most per_slice non-blank lines, cut at line ends.
  std::vector<Slice> slices;
  size_t slice_start = 0, pos = 0;
  int64_t line = 0, in_slice = 0;
  Slice current;
  current.first_line = 1;
  while (pos < data.size()) {
    size_t end = data.find('\n', pos);
    if (end == std::string::npos) end = data.size();
    ++line;
    if (!IsBlank(std::string_view(data).substr(pos, end - pos))) {
      current.line_of.push_back(line);
      ++in_slice;
    }
    pos = end + 1;
    if (in_slice == per_slice) {
      const size_t cut = std::min(pos, data.size());
      current.text =
          std::string_view(data).substr(slice_start, cut - slice_start);
      slices.push_back(std::move(current));
      current = Slice();
      current.first_line = line + 1;
      slice_start = cut;
      in_slice = 0;
    }
  }
  if (in_slice > 0) {
    current.text = std::string_view(data).substr(slice_start);
    slices.push_back(std::move(current));
  }
  util::ParallelFor(slices.size(), /*max_threads=*/0,
                    [&](size_t i) { DecodeSlice(slices[i], kind); });
  size_t decoded = 0;
  for (const Slice& slice : slices) {
    if (slice.decoded.ok()) decoded += slice.decoded->events.size();
  }
  events_.reserve(events_.size() + decoded);
  times_.reserve(times_.size() + decoded);
  origins_.reserve(origins_.size() + decoded);
  for (Slice& slice : slices) Keep(slice, file, kind);
  order_.resize(events_.size());
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
  return absl::OkStatus();
}

void EventLog::DecodeSlice(Slice& slice, ingest::EventKind kind) const {
  slice.decoded = decoder_.Decode(kind, ingest::BodyFormat::kNdjson, slice.text,
                                  absl::Now());
}

void EventLog::Keep(Slice& slice, int file, ingest::EventKind kind) {
  lines_ += static_cast<int64_t>(slice.line_of.size());
  const std::string& name = files_[static_cast<size_t>(file)];
  if (!slice.decoded.ok()) {  // NDJSON lines stand alone: not expected
    bad_lines_.push_back({name, slice.first_line, kind,
                          ingest::RejectReason::kInvalidJson,
                          std::string(slice.decoded.status().message())});
    return;
  }
  for (const ingest::EventError& e : slice.decoded->errors) {
    bad_lines_.push_back({name, slice.line_of[static_cast<size_t>(e.index)],
                          kind, e.reason, e.message});
  }
  // Moving the vector keeps its elements where they are.
  chunks_.push_back(std::move(slice.decoded->events));
  for (ingest::DecodedEvent& e : chunks_.back()) {
    const int64_t index = static_cast<int64_t>(events_.size());
    origins_.push_back(
        {file, slice.line_of[static_cast<size_t>(e.index)], kind});
    times_.push_back(absl::ToUnixNanos(EventTime(e.event)));
    e.index = index;
    events_.push_back(&e);
  }
  slice.decoded = absl::StatusOr<ingest::DecodeResult>();  // free it now
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

ingest::EventKind EventLog::Reject(const ingest::EventError& error) {
  const Origin& o = origins_[static_cast<size_t>(error.index)];
  bad_lines_.push_back({files_[static_cast<size_t>(o.file)], o.line, o.kind,
                        error.reason, error.message});
  return o.kind;
}

}  // namespace aiq::backtest
