#include "exporter/state/segment_log.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "exporter/state/atomic_file.h"
#include "exporter/util/absl_compat.h"

namespace aiq::state {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "segment-";
constexpr std::string_view kSuffix = ".log";
constexpr size_t kHeaderBytes = 16;

void PutFixed32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void PutFixed64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t GetFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  return v;
}
uint64_t GetFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  return v;
}

// zlib's crc32 of `bytes`, continuing `crc`, in pieces its uInt can count.
uLong Crc32(uLong crc, std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()),
                static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return crc;
}

// Over the seq's 8 bytes and the payload, so a record cannot be moved.
uint32_t RecordCrc(const char* seq_bytes, std::string_view payload) {
  return static_cast<uint32_t>(Crc32(
      Crc32(crc32(0L, Z_NULL, 0), std::string_view(seq_bytes, 8)), payload));
}

// The same over head + tail, from the tail's own CRC (crc32_combine: the
// CRC of a concatenation from the parts' CRCs and the second's length).
uint32_t RecordCrc(const char* seq_bytes,
                   const SegmentLog::PayloadParts& payload) {
  const uLong front = static_cast<uLong>(RecordCrc(seq_bytes, payload.head));
  return static_cast<uint32_t>(crc32_combine(
      front, payload.tail_crc, static_cast<z_off_t>(payload.tail.size())));
}

std::string SegmentName(uint64_t first_seq) {
  return absl::StrFormat("%s%020d%s", std::string(kPrefix), first_seq,
                         std::string(kSuffix));
}

absl::Status IoError(std::string_view what, const std::string& path, int err) {
  const std::string message =
      absl::StrCat(std::string(what), " ", path, ": ", std::strerror(err));
  if (err == ENOSPC || err == EROFS || err == EDQUOT) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

// Parses records from `data` starting at seq `expected`; returns the offset
// after the last intact one, and why it stopped (empty: at the end).
struct Parsed {
  size_t good_bytes = 0;
  uint64_t last_seq = 0;  // 0 when no record
  std::string problem;
};
Parsed ParseRecords(
    std::string_view data, uint64_t expected,
    const std::function<absl::Status(uint64_t, std::string_view)>* f,
    uint64_t after_seq, absl::Status* f_status) {
  Parsed p;
  size_t off = 0;
  while (off < data.size()) {
    if (data.size() - off < kHeaderBytes) {
      p.problem = absl::StrCat("torn record header at byte ", off);
      break;
    }
    const uint32_t length = GetFixed32(data.data() + off);
    const uint32_t crc = GetFixed32(data.data() + off + 4);
    const uint64_t seq = GetFixed64(data.data() + off + 8);
    if (data.size() - off - kHeaderBytes < length) {
      p.problem = absl::StrCat("torn record at byte ", off, " (", length,
                               " payload bytes, ",
                               data.size() - off - kHeaderBytes, " present)");
      break;
    }
    const std::string_view payload = data.substr(off + kHeaderBytes, length);
    if (RecordCrc(data.data() + off + 8, payload) != crc) {
      p.problem = absl::StrCat("CRC mismatch in the record at byte ", off);
      break;
    }
    if (seq != expected) {
      p.problem = absl::StrCat("record at byte ", off, " has seq ", seq,
                               ", expected ", expected);
      break;
    }
    if (f != nullptr && seq > after_seq) {
      *f_status = (*f)(seq, payload);
      if (!f_status->ok()) break;
    }
    off += kHeaderBytes + length;
    p.good_bytes = off;
    p.last_seq = seq;
    ++expected;
  }
  return p;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SegmentLog>> SegmentLog::Open(
    const std::string& dir, int64_t segment_bytes) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("state log ", dir, ": cannot create it: ", ec.message()));
  }
  std::unique_ptr<SegmentLog> log(new SegmentLog(dir, segment_bytes));
  if (absl::Status st = log->Recover(); !st.ok()) return st;
  return log;
}

SegmentLog::~SegmentLog() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status SegmentLog::Recover() {
  const absl::Time start = absl::Now();
  struct Took {
    absl::Time start;
    absl::Duration& took;
    ~Took() { took = absl::Now() - start; }
  } took{start, recovery_.took};
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= kPrefix.size() + kSuffix.size() ||
        name.rfind(kPrefix, 0) != 0 ||
        name.substr(name.size() - kSuffix.size()) != kSuffix) {
      continue;
    }
    uint64_t first = 0;
    if (!absl::SimpleAtoi(
            name.substr(kPrefix.size(),
                        name.size() - kPrefix.size() - kSuffix.size()),
            &first)) {
      continue;
    }
    std::error_code size_ec;
    const auto size = fs::file_size(it->path(), size_ec);
    segments_.push_back(
        {first, it->path().string(), size_ec ? 0 : static_cast<int64_t>(size)});
  }
  std::sort(segments_.begin(), segments_.end(),
            [](const Segment& a, const Segment& b) {
              return a.first_seq < b.first_seq;
            });
  if (segments_.empty()) return OpenForAppend(1, /*create=*/true);
  // Only the last segment is read now: it is the one a crash can leave
  // torn, and appends continue it. The others are checked when a replay
  // reads them (ForEach), so a restart does not read the log's gigabytes
  // from before the checkpoint it starts from.
  const size_t last = segments_.size() - 1;
  last_seq_ = segments_[last].first_seq - 1;
  if (absl::Status st = Check(last, 0, nullptr, nullptr); !st.ok()) return st;
  return OpenForAppend(segments_.back().first_seq, /*create=*/false);
}

absl::Status SegmentLog::Check(
    size_t i, uint64_t after_seq,
    const std::function<absl::Status(uint64_t, std::string_view)>* f,
    absl::Status* f_status) {
  Segment& s = segments_[i];
  absl::StatusOr<std::string> data = ReadWholeFile(s.path);
  if (!data.ok()) return data.status();
  const Parsed p = ParseRecords(*data, s.first_seq, f, after_seq, f_status);
  if (f_status != nullptr && !f_status->ok()) return absl::OkStatus();
  const uint64_t end_seq = p.last_seq != 0 ? p.last_seq : s.first_seq - 1;
  const bool is_last = i + 1 == segments_.size();
  if (p.problem.empty()) {
    s.size = static_cast<int64_t>(p.good_bytes);
    if (is_last) {
      last_seq_ = end_seq;
      return absl::OkStatus();
    }
    if (segments_[i + 1].first_seq == end_seq + 1) return absl::OkStatus();
    // A gap: the later segments cannot continue the log.
    const std::string why =
        absl::StrCat("starts at seq ", segments_[i + 1].first_seq,
                     " but the log ends at ", end_seq);
    return SetAsideAfter(i, end_seq, why);
  }
  // Cut here: what follows cannot be trusted to continue the sequence.
  const int64_t cut = static_cast<int64_t>(data->size() - p.good_bytes);
  if (::truncate(s.path.c_str(), static_cast<off_t>(p.good_bytes)) != 0) {
    return IoError("truncate", s.path, errno);
  }
  s.size = static_cast<int64_t>(p.good_bytes);
  recovery_.torn_tail_bytes += cut;
  recovery_.events.push_back(
      absl::StrCat(s.path, ": ", p.problem, "; cut ", cut, " bytes"));
  if (is_last) {
    last_seq_ = end_seq;
    return absl::OkStatus();
  }
  return SetAsideAfter(i, end_seq, "after a damaged record");
}

absl::Status SegmentLog::SetAsideAfter(size_t i, uint64_t end_seq,
                                       std::string_view why) {
  std::error_code ec;
  for (size_t j = i + 1; j < segments_.size(); ++j) {
    const std::string damaged = segments_[j].path + ".damaged";
    fs::rename(segments_[j].path, damaged, ec);
    ++recovery_.damaged_segments;
    recovery_.events.push_back(absl::StrCat(
        segments_[j].path, ": ", util::ToAbsl(why), "; renamed to ", damaged));
  }
  segments_.resize(i + 1);
  last_seq_ = end_seq;
  // Appends continue the segment that now ends the log.
  return OpenForAppend(segments_.back().first_seq, /*create=*/false);
}

absl::Status SegmentLog::OpenForAppend(uint64_t first_seq, bool create) {
  const std::string path = (fs::path(dir_) / SegmentName(first_seq)).string();
  const int fd =
      ::open(path.c_str(),
             O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
  if (fd < 0) return IoError("open", path, errno);
  if (create) {
    if (absl::Status st = SyncDirectory(dir_); !st.ok()) {
      ::close(fd);
      return st;
    }
    segments_.push_back({first_seq, path, 0});
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  return absl::OkStatus();
}

uint32_t SegmentLog::PartCrc(std::string_view bytes) {
  return static_cast<uint32_t>(Crc32(crc32(0L, Z_NULL, 0), bytes));
}

absl::Status SegmentLog::Append(uint64_t seq, const PayloadParts& payload) {
  if (seq != last_seq_ + 1) {
    return absl::InternalError(
        absl::StrCat("state log: append of seq ", seq, " after ", last_seq_));
  }
  Segment* cur = &segments_.back();
  if (tail_dirty_) {
    // O_APPEND would write after the partial record a failed append left.
    if (::ftruncate(fd_, static_cast<off_t>(cur->size)) != 0) {
      return IoError("ftruncate", cur->path, errno);
    }
    tail_dirty_ = false;
  }
  const size_t payload_bytes = payload.head.size() + payload.tail.size();
  const int64_t frame = static_cast<int64_t>(kHeaderBytes + payload_bytes);
  if (cur->size > 0 && cur->size + frame > segment_bytes_) {
    // Roll over; the finished segment is synced first, so a later sync of
    // the new one covers everything.
    if (absl::Status st = Sync(); !st.ok()) return st;
    if (absl::Status st = OpenForAppend(seq, /*create=*/true); !st.ok()) {
      return st;
    }
    cur = &segments_.back();
  }
  char header[kHeaderBytes];
  PutFixed32(header, static_cast<uint32_t>(payload_bytes));
  PutFixed64(header + 8, seq);
  PutFixed32(header + 4, RecordCrc(header + 8, payload));
  const iovec iov[3] = {
      {header, kHeaderBytes},
      {const_cast<char*>(payload.head.data()), payload.head.size()},
      {const_cast<char*>(payload.tail.data()), payload.tail.size()}};
  size_t done = 0;
  const size_t total = static_cast<size_t>(frame);
  while (done < total) {
    // Resume after a partial write.
    iovec part[3];
    int n = 0;
    size_t skip = done;
    for (const iovec& v : iov) {
      if (skip >= v.iov_len) {
        skip -= v.iov_len;
        continue;
      }
      part[n++] = {static_cast<char*>(v.iov_base) + skip, v.iov_len - skip};
      skip = 0;
    }
    const ssize_t w = ::writev(fd_, part, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      // Leave no partial record behind (or cut it before the next append;
      // a restart cuts it as a torn tail).
      tail_dirty_ = ::ftruncate(fd_, static_cast<off_t>(cur->size)) != 0;
      return IoError("write", cur->path, err);
    }
    done += static_cast<size_t>(w);
  }
  cur->size += frame;
  last_seq_ = seq;
  return absl::OkStatus();
}

absl::Status SegmentLog::Sync() {
  if (::fdatasync(fd_) != 0) {
    sync_failed_ = true;
    return IoError("fdatasync", segments_.back().path, errno);
  }
  return absl::OkStatus();
}

absl::Status SegmentLog::StartNewSegment() {
  Segment& cur = segments_.back();
  if (cur.size > 0) {
    if (absl::Status st = OpenForAppend(last_seq_ + 1, /*create=*/true);
        !st.ok()) {
      return st;
    }
    tail_dirty_ = false;
  } else if (tail_dirty_) {
    // Nothing intact in it: the segment can be emptied instead.
    if (::ftruncate(fd_, 0) != 0) return IoError("ftruncate", cur.path, errno);
    tail_dirty_ = false;
  }
  sync_failed_ = false;
  return absl::OkStatus();
}

absl::Status SegmentLog::ForEach(
    uint64_t after_seq,
    const std::function<absl::Status(uint64_t, std::string_view)>& f) {
  for (size_t i = 0; i < segments_.size(); ++i) {
    if (i + 1 < segments_.size() &&
        segments_[i + 1].first_seq <= after_seq + 1) {
      continue;  // every record in it is <= after_seq
    }
    absl::Status f_status;
    if (absl::Status st = Check(i, after_seq, &f, &f_status); !st.ok()) {
      return st;
    }
    if (!f_status.ok()) return f_status;
    // Check may have cut the log at this segment.
  }
  return absl::OkStatus();
}

absl::Status SegmentLog::DropThrough(uint64_t seq) {
  size_t drop = 0;
  while (drop + 1 < segments_.size() &&
         segments_[drop + 1].first_seq <= seq + 1) {
    if (::unlink(segments_[drop].path.c_str()) != 0 && errno != ENOENT) {
      return IoError("unlink", segments_[drop].path, errno);
    }
    ++drop;
  }
  if (drop == 0) return absl::OkStatus();
  segments_.erase(segments_.begin(), segments_.begin() + drop);
  return SyncDirectory(dir_);
}

absl::StatusOr<int> SegmentLog::DupForSync() const {
  const int fd = ::dup(fd_);
  if (fd < 0) return IoError("dup", segments_.back().path, errno);
  return fd;
}

int64_t SegmentLog::bytes() const {
  int64_t total = 0;
  for (const Segment& s : segments_) total += s.size;
  return total;
}

}  // namespace aiq::state
