// The input files of a backtest, for the event sources (event_source.h):
// each file's text (mapped from the file, or inflated when gzip) cut into
// slices of whole lines that decode independently and concurrently, and
// the bad lines met, by file and line.
//
// Example, given `const ingest::Decoder& decoder`:
//   aiq::backtest::detail::InputSet inputs(/*max_events_per_request=*/1000);
//   absl::Status st = inputs.Add("labels.ndjson.gz",
//                                aiq::ingest::EventKind::kLabel);
//   if (st.ok()) {
//     const aiq::backtest::detail::InputFile& f = inputs.file(0);
//     for (size_t i = 0; i < f.slices(); ++i) {
//       aiq::backtest::detail::DecodedSlice s = f.Decode(i, decoder);
//       inputs.Keep(s);  // its bad lines and line count
//       // s.events[k] happened at s.times[k] (Unix ns)
//     }
//   }
#ifndef AIQ_EXPORTER_BACKTEST_INPUT_FILE_H_
#define AIQ_EXPORTER_BACKTEST_INPUT_FILE_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/backtest/event_source.h"
#include "exporter/ingest/decoder.h"

namespace aiq::backtest::detail {

// An event's `index` while it is replayed: its file's number and its line.
constexpr int kLineBits = 40;
inline int64_t LineId(int file, int64_t line) {
  return (static_cast<int64_t>(file) << kLineBits) | line;
}
inline int FileOfLineId(int64_t id) {
  return static_cast<int>(id >> kLineBits);
}
inline int64_t LineOfLineId(int64_t id) {
  return id & ((int64_t{1} << kLineBits) - 1);
}

// The events and bad lines of one slice of a file, in file order.
struct DecodedSlice {
  int file = 0;                              // its file's number
  std::vector<ingest::DecodedEvent> events;  // index = LineId
  std::vector<int64_t> times;                // Unix ns, by event
  std::vector<BadLine> bad_lines;
  int64_t lines = 0;  // non-blank
};

// Lines per slice: enough for decoding to dominate the work of cutting,
// few enough that a slice's events stay a few tens of MB.
constexpr int64_t kLinesPerSlice = 1 << 16;

class InputFile {
 public:
  // Opens `path` (regular files are mapped, others read; gzip inflated by
  // its magic number, whatever the name). NotFound / DataLoss /
  // InvalidArgument naming the file when it cannot be read.
  static absl::StatusOr<std::unique_ptr<InputFile>> Open(
      const std::string& path, ingest::EventKind kind, int number,
      int64_t lines_per_slice);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  ingest::EventKind kind() const { return kind_; }
  int number() const { return number_; }
  size_t slices() const { return cuts_.size(); }

  // Decodes slice i; safe to call concurrently.
  DecodedSlice Decode(size_t i, const ingest::Decoder& decoder) const;
  // The time of the last line that decodes (trying the last few lines),
  // which is the file's latest when it is in time order.
  std::optional<absl::Time> LastTime(const ingest::Decoder& decoder) const;
  // Frees the text once every slice is decoded (Decode and LastTime may
  // not be called after it).
  void Release();

 private:
  InputFile(std::string path, ingest::EventKind kind, int number)
      : path_(std::move(path)), kind_(kind), number_(number) {}
  void Cut(int64_t lines_per_slice);

  struct Slice {
    size_t begin, end;   // byte range of whole lines
    int64_t first_line;  // 1-based line number of its first line
  };
  std::string path_;
  ingest::EventKind kind_;
  int number_;
  void* mapped_ = nullptr;  // when the file is mapped
  size_t mapped_size_ = 0;
  std::string owned_;  // when read or inflated
  std::string_view text_;
  std::vector<Slice> cuts_;
};

// The files of one source, numbered in the order added, and the bad lines
// met in them.
class InputSet {
 public:
  // Slices of at most kLinesPerSlice lines, and of no more than a request
  // may carry (the decoder's limit).
  explicit InputSet(int64_t max_events_per_request)
      : lines_per_slice_(std::min(kLinesPerSlice, max_events_per_request)) {}

  absl::Status Add(const std::string& path, ingest::EventKind kind);
  size_t size() const { return files_.size(); }
  const InputFile& file(size_t i) const { return *files_[i]; }
  InputFile& file(size_t i) { return *files_[i]; }

  // Takes a decoded slice's bad lines and counts its lines.
  void Keep(DecodedSlice& slice);
  // A model's refusal of an event of these files (index = LineId).
  ingest::EventKind Reject(const ingest::EventError& error);
  // Every bad line so far, by file and line.
  std::vector<BadLine> bad_lines() const;
  int64_t lines() const { return lines_; }

 private:
  int64_t lines_per_slice_;
  std::vector<std::unique_ptr<InputFile>> files_;
  std::vector<std::pair<int, BadLine>> bad_lines_;  // with the file number
  int64_t lines_ = 0;
};

}  // namespace aiq::backtest::detail

#endif  // AIQ_EXPORTER_BACKTEST_INPUT_FILE_H_
