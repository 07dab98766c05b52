#include "exporter/backtest/input_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <variant>

#include "absl/strings/str_cat.h"
#include "exporter/util/gzip.h"

namespace aiq::backtest {

std::string BadLine::ToString() const {
  return absl::StrCat(file, ":", line, ": ", message);
}

absl::Time EventTime(const ingest::Event& e) {
  return std::visit([](const auto& ev) { return ev.timestamp; }, e);
}

namespace detail {
namespace {

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

absl::Status ReadAll(int fd, const std::string& path, std::string& out) {
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n == 0) return absl::OkStatus();
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::DataLossError(
          absl::StrCat(path, ": read error: ", std::strerror(errno)));
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<InputFile>> InputFile::Open(
    const std::string& path, ingest::EventKind kind, int number,
    int64_t lines_per_slice) {
  std::unique_ptr<InputFile> f(new InputFile(path, kind, number));
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat(path, ": cannot open: ", std::strerror(errno)));
  }
  struct stat st;
  absl::Status read = absl::OkStatus();
  // A regular file is mapped: no copy, and no fresh pages to clear.
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    void* p = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ,
                     MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      ::madvise(p, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
      f->mapped_ = p;
      f->mapped_size_ = static_cast<size_t>(st.st_size);
      f->text_ = std::string_view(static_cast<const char*>(p), f->mapped_size_);
    } else {
      read = ReadAll(fd, path, f->owned_);
      f->text_ = f->owned_;
    }
  } else {
    read = ReadAll(fd, path, f->owned_);
    f->text_ = f->owned_;
  }
  ::close(fd);
  if (!read.ok()) return read;
  const std::string_view t = f->text_;
  if (t.size() >= 2 && static_cast<unsigned char>(t[0]) == 0x1f &&
      static_cast<unsigned char>(t[1]) == 0x8b) {
    absl::StatusOr<std::string> text =
        util::Gunzip(t, /*max_output_bytes=*/size_t{1} << 40);
    if (!text.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", text.status().message()));
    }
    f->Release();
    f->owned_ = *std::move(text);
    f->text_ = f->owned_;
  }
  f->Cut(lines_per_slice);
  return f;
}

InputFile::~InputFile() { Release(); }

void InputFile::Release() {
  if (mapped_ != nullptr) ::munmap(mapped_, mapped_size_);
  mapped_ = nullptr;
  std::string().swap(owned_);
  text_ = std::string_view();
}

void InputFile::Cut(int64_t lines_per_slice) {
  size_t begin = 0, pos = 0;
  int64_t line = 0, first_line = 1;
  while (pos < text_.size()) {
    const size_t nl = text_.find('\n', pos);
    pos = nl == std::string_view::npos ? text_.size() : nl + 1;
    if (++line - first_line + 1 == lines_per_slice) {
      cuts_.push_back({begin, pos, first_line});
      begin = pos;
      first_line = line + 1;
    }
  }
  if (begin < text_.size()) cuts_.push_back({begin, text_.size(), first_line});
}

DecodedSlice InputFile::Decode(size_t i, const ingest::Decoder& decoder) const {
  const Slice& cut = cuts_[i];
  const std::string_view text = text_.substr(cut.begin, cut.end - cut.begin);
  DecodedSlice out;
  out.file = number_;
  // The file line of each non-blank line: the decoder numbers those.
  std::vector<int64_t> line_of;
  int64_t line = cut.first_line;
  for (size_t pos = 0; pos < text.size(); ++line) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    if (!IsBlank(text.substr(pos, nl - pos))) line_of.push_back(line);
    pos = nl + 1;
  }
  out.lines = static_cast<int64_t>(line_of.size());
  absl::StatusOr<ingest::DecodeResult> decoded =
      decoder.Decode(kind_, ingest::BodyFormat::kNdjson, text, absl::Now());
  if (!decoded.ok()) {  // NDJSON lines stand alone: not expected
    out.bad_lines.push_back({path_, cut.first_line, kind_,
                             ingest::RejectReason::kInvalidJson,
                             std::string(decoded.status().message())});
    return out;
  }
  for (const ingest::EventError& e : decoded->errors) {
    out.bad_lines.push_back({path_, line_of[static_cast<size_t>(e.index)],
                             kind_, e.reason, e.message});
  }
  out.events = std::move(decoded->events);
  out.times.reserve(out.events.size());
  for (ingest::DecodedEvent& e : out.events) {
    e.index = LineId(number_, line_of[static_cast<size_t>(e.index)]);
    out.times.push_back(absl::ToUnixNanos(EventTime(e.event)));
  }
  return out;
}

std::optional<absl::Time> InputFile::LastTime(
    const ingest::Decoder& decoder) const {
  constexpr int kLinesTried = 16;
  size_t end = text_.size();
  for (int tried = 0; tried < kLinesTried && end > 0;) {
    const size_t nl = end > 1 ? text_.rfind('\n', end - 2) : std::string::npos;
    const size_t begin = nl == std::string_view::npos ? 0 : nl + 1;
    const std::string_view line = text_.substr(begin, end - begin);
    end = begin;
    if (IsBlank(line)) continue;
    ++tried;
    absl::StatusOr<ingest::DecodeResult> r =
        decoder.Decode(kind_, ingest::BodyFormat::kNdjson, line, absl::Now());
    if (r.ok() && !r->events.empty()) return EventTime(r->events[0].event);
  }
  return std::nullopt;
}

absl::Status InputSet::Add(const std::string& path, ingest::EventKind kind) {
  absl::StatusOr<std::unique_ptr<InputFile>> f = InputFile::Open(
      path, kind, static_cast<int>(files_.size()), lines_per_slice_);
  if (!f.ok()) return f.status();
  files_.push_back(*std::move(f));
  return absl::OkStatus();
}

void InputSet::Keep(DecodedSlice& slice) {
  lines_ += slice.lines;
  for (BadLine& b : slice.bad_lines) {
    bad_lines_.emplace_back(slice.file, std::move(b));
  }
  slice.bad_lines.clear();
}

ingest::EventKind InputSet::Reject(const ingest::EventError& error) {
  const int file = FileOfLineId(error.index);
  const InputFile& f = *files_[static_cast<size_t>(file)];
  bad_lines_.emplace_back(file, BadLine{f.path(), LineOfLineId(error.index),
                                        f.kind(), error.reason, error.message});
  return f.kind();
}

std::vector<BadLine> InputSet::bad_lines() const {
  std::vector<std::pair<int, BadLine>> sorted = bad_lines_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) {
                     return std::make_pair(a.first, a.second.line) <
                            std::make_pair(b.first, b.second.line);
                   });
  std::vector<BadLine> out;
  out.reserve(sorted.size());
  for (auto& [file, b] : sorted) out.push_back(std::move(b));
  return out;
}

}  // namespace detail
}  // namespace aiq::backtest
