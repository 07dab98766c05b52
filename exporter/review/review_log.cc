#include "exporter/review/review_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "exporter/util/absl_compat.h"

namespace aiq::review {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

absl::Status PathError(const std::string& path, std::string_view what,
                       int err) {
  return absl::UnavailableError(absl::StrCat(
      "review log ", path, ": ", util::ToAbsl(what), ": ", ErrnoText(err)));
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 0xf]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

bool IsJsonSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Opens `path` for appending; returns the descriptor and current size.
absl::Status OpenForAppend(const std::string& path, int& fd, int64_t& size) {
  fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return PathError(path, "cannot open for appending", errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fd = -1;
    return PathError(path, "cannot stat", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fd = -1;
    return absl::FailedPreconditionError(
        absl::StrCat("review log ", path, ": not a regular file"));
  }
  size = static_cast<int64_t>(st.st_size);
  return absl::OkStatus();
}

}  // namespace

std::string FormatReviewLine(std::string_view model,
                             std::span<const std::string_view> reasons,
                             std::string_view kind, std::string_view event_json,
                             absl::Time received) {
  while (!event_json.empty() && IsJsonSpace(event_json.front())) {
    event_json.remove_prefix(1);
  }
  while (!event_json.empty() && IsJsonSpace(event_json.back())) {
    event_json.remove_suffix(1);
  }
  std::string out;
  out.reserve(96 + model.size() + event_json.size());
  out += "{\"received\":\"";
  out +=
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", received, absl::UTCTimeZone());
  out += "\",\"model\":";
  AppendJsonString(out, model);
  out += ",\"kind\":";
  AppendJsonString(out, kind);
  out += ",\"reasons\":[";
  for (size_t i = 0; i < reasons.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(out, reasons[i]);
  }
  out += "],\"event\":";
  if (event_json.empty()) {
    out += "null";
  } else {
    const size_t start = out.size();
    out.append(event_json.data(), event_json.size());
    for (size_t i = start; i < out.size(); ++i) {
      if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
    }
  }
  out += "}\n";
  return out;
}

absl::StatusOr<std::unique_ptr<ReviewLog>> ReviewLog::Open(
    const config::ReviewConfig& config, std::vector<std::string> models) {
  if (config.path.empty()) return std::unique_ptr<ReviewLog>();
  if (config.max_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("review log ", config.path,
                     ": max_bytes must be positive, got ", config.max_bytes));
  }
  if (config.max_files < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("review log ", config.path,
                     ": max_files must be at least 1, got ", config.max_files));
  }
  const std::filesystem::path parent =
      std::filesystem::path(config.path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("review log ", config.path, ": cannot create directory ",
                       parent.string(), ": ", ec.message()));
    }
  }
  int fd = -1;
  int64_t size = 0;
  if (absl::Status s = OpenForAppend(config.path, fd, size); !s.ok()) return s;
  return std::unique_ptr<ReviewLog>(
      new ReviewLog(config, std::move(models), fd, size));
}

absl::StatusOr<std::unique_ptr<ReviewLog>> ReviewLog::Open(
    const config::Config& config) {
  std::vector<std::string> models;
  models.reserve(config.models.size());
  for (const config::ModelConfig& m : config.models) models.push_back(m.name);
  return Open(config.review, std::move(models));
}

ReviewLog::ReviewLog(const config::ReviewConfig& config,
                     std::vector<std::string> models, int fd, int64_t size)
    : path_(config.path),
      max_bytes_(config.max_bytes),
      max_files_(config.max_files),
      fd_(fd),
      size_(size) {
  for (std::string& name : models) {
    if (model_index_.try_emplace(name, models_.size()).second) {
      models_.push_back(std::move(name));  // duplicates counted once
    }
  }
  // One slot per configured model plus "other"; value-initialized to zero.
  samples_ = std::make_unique<std::array<std::atomic<uint64_t>, kNumReasons>[]>(
      models_.size() + 1);
}

ReviewLog::~ReviewLog() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

absl::Status ReviewLog::Append(std::string_view model, ReasonSet reasons,
                               std::string_view kind,
                               std::string_view event_json,
                               absl::Time received) {
  if (reasons.empty()) {
    return absl::InvalidArgumentError("review log: no reasons to append");
  }
  auto it = model_index_.find(util::ToAbsl(model));
  const size_t slot = it == model_index_.end() ? models_.size() : it->second;
  for (int r = 0; r < kNumReasons; ++r) {
    if (reasons.Has(static_cast<Reason>(r))) {
      samples_[slot][static_cast<size_t>(r)].fetch_add(
          1, std::memory_order_relaxed);
    }
  }
  const ReasonNames names = reasons.Names();
  return WriteLine(
      FormatReviewLine(model, names.span(), kind, event_json, received));
}

absl::Status ReviewLog::Append(std::string_view model,
                               std::span<const std::string_view> reasons,
                               std::string_view kind,
                               std::string_view event_json,
                               absl::Time received) {
  ReasonSet set;
  for (std::string_view name : reasons) {
    std::optional<Reason> r = ReasonFromName(name);
    if (!r.has_value() || set.Has(*r)) {
      return absl::InvalidArgumentError(
          absl::StrCat("review log: ", r.has_value() ? "repeated" : "unknown",
                       " reason \"", util::ToAbsl(name), "\""));
    }
    set.Add(*r);
  }
  return Append(model, set, kind, event_json, received);
}

absl::Status ReviewLog::WriteLine(std::string_view line) {
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    const auto len = static_cast<int64_t>(line.size());
    if (fd_ < 0) status = ReopenLocked();  // after an earlier failure
    if (fd_ >= 0 && size_ > 0 && size_ + len > max_bytes_) {
      status = RotateLocked();  // on failure keeps appending to path
    }
    if (fd_ >= 0) {
      size_t done = 0;
      while (done < line.size()) {
        const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
        if (n < 0) {
          if (errno == EINTR) continue;
          status = PathError(path_, "write failed", errno);
          break;
        }
        if (n == 0) {
          status = PathError(path_, "write failed", EIO);
          break;
        }
        done += static_cast<size_t>(n);
      }
      if (done == line.size()) {
        size_ += len;
        lines_written_.fetch_add(1, std::memory_order_relaxed);
        bytes_written_.fetch_add(line.size(), std::memory_order_relaxed);
        // A rotation error with the line still written: the line is kept,
        // the rotation failure is reported and counted below.
      } else if (done > 0) {
        // Drop the partial line so the file stays whole lines.
        if (::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
          // Nothing more we can do; the next reopen re-reads the size.
          ::close(fd_);
          fd_ = -1;
        }
      }
    }
  }
  if (!status.ok()) {
    write_errors_.fetch_add(1, std::memory_order_relaxed);
    ReportErrorOnce(status);
  }
  return status;
}

absl::Status ReviewLog::RotateLocked() {
  ::close(fd_);
  fd_ = -1;
  absl::Status status;
  auto numbered = [this](int i) { return absl::StrCat(path_, ".", i); };
  // Drop the oldest, then shift path.i -> path.i+1 from the oldest down.
  const std::string oldest = numbered(max_files_);
  if (::unlink(oldest.c_str()) != 0 && errno != ENOENT) {
    status = PathError(oldest, "cannot delete oldest rotated file", errno);
  }
  for (int i = max_files_ - 1; i >= 1 && status.ok(); --i) {
    const std::string from = numbered(i);
    const std::string to = numbered(i + 1);
    if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) {
      status = PathError(from, absl::StrCat("cannot rename to ", to), errno);
    }
  }
  if (status.ok()) {
    const std::string first = numbered(1);
    if (::rename(path_.c_str(), first.c_str()) != 0) {
      status =
          PathError(path_, absl::StrCat("cannot rename to ", first), errno);
    } else {
      rotations_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // Continue in path: a fresh file after a rotation, the old one otherwise.
  absl::Status reopen = ReopenLocked();
  return status.ok() ? reopen : status;
}

absl::Status ReviewLog::ReopenLocked() {
  int fd = -1;
  int64_t size = 0;
  absl::Status s = OpenForAppend(path_, fd, size);
  if (!s.ok()) return s;
  fd_ = fd;
  size_ = size;
  return absl::OkStatus();
}

void ReviewLog::ReportErrorOnce(const absl::Status& status) {
  if (error_reported_.exchange(true, std::memory_order_relaxed)) return;
  const std::string text = status.ToString();
  std::fprintf(stderr,
               "ai-quality-exporter: %s (further review log errors are only "
               "counted in aiq_review_write_errors_total)\n",
               text.c_str());
}

ReviewCounts ReviewLog::Counts() const {
  ReviewCounts c;
  c.models.reserve(models_.size() + 1);
  auto snapshot = [&](size_t slot, std::string name) {
    ReviewCounts::Model m;
    m.model = std::move(name);
    for (size_t r = 0; r < kNumReasons; ++r) {
      m.samples[r] = samples_[slot][r].load(std::memory_order_relaxed);
    }
    return m;
  };
  for (size_t i = 0; i < models_.size(); ++i) {
    c.models.push_back(snapshot(i, models_[i]));
  }
  ReviewCounts::Model other =
      snapshot(models_.size(), std::string(kOtherModel));
  for (uint64_t v : other.samples) {
    if (v != 0) {
      c.models.push_back(std::move(other));
      break;
    }
  }
  c.lines_written = lines_written_.load(std::memory_order_relaxed);
  c.bytes_written = bytes_written_.load(std::memory_order_relaxed);
  c.rotations = rotations_.load(std::memory_order_relaxed);
  c.write_errors = write_errors_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace aiq::review
