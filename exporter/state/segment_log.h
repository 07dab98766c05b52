// The state log's records on disk: append-only segment files of framed,
// checksummed records, numbered by sequence. Why not RocksDB (which the
// store uses for keyed data): log records are written once, read once at
// recovery and deleted after the next checkpoint; an LSM tree would copy
// each one into its memtable, then into SST files, then through
// compaction, for nothing (measured: 23% of a 1000-event request's CPU in
// RocksDB's write path, against a single write() here).
//
// Format (docs/state.md, "On disk"): `log/segment-<first seq>.log`, each a
// sequence of records
//
//   fixed32  payload length
//   fixed32  CRC-32 (zlib) of seq and payload
//   fixed64  seq (consecutive across segments)
//   payload
//
// Open() reads the last segment: a torn or corrupt tail (a crash
// mid-write) is cut at the last intact record. Earlier segments are checked
// when ForEach reads them, so a restart reads only the records it replays:
// a damaged record there (or a gap in the sequence) ends the log at that
// point, and the segments after it are renamed `*.damaged` (kept for
// inspection, never replayed). Both are counted in recovery().
//
// Example, given `std::string dir`:
//   absl::StatusOr<std::unique_ptr<SegmentLog>> log = SegmentLog::Open(dir);
//   absl::Status st = (*log)->Append(1, "payload");
//   const std::string body = "a large body";
//   st = (*log)->Append(2, {"head", body, SegmentLog::PartCrc(body)});
//   st = (*log)->Sync();  // fdatasync: record 1 is durable
//   st = (*log)->ForEach(0, [](uint64_t, std::string_view) {
//     return absl::OkStatus();  // replay (seq, payload)
//   });
//
// Not thread-safe: the StateStore serializes appends and syncs.
#ifndef AIQ_EXPORTER_STATE_SEGMENT_LOG_H_
#define AIQ_EXPORTER_STATE_SEGMENT_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace aiq::state {

struct SegmentLogRecovery {
  int64_t torn_tail_bytes = 0;      // cut from the last segment
  int64_t damaged_segments = 0;     // renamed *.damaged
  std::vector<std::string> events;  // what was cut or renamed, and why
  absl::Duration took;              // reading and checking the segments
};

class SegmentLog {
 public:
  // Segments roll over past this size.
  static constexpr int64_t kSegmentBytes = 64 << 20;

  static absl::StatusOr<std::unique_ptr<SegmentLog>> Open(
      const std::string& dir, int64_t segment_bytes = kSegmentBytes);
  ~SegmentLog();

  // The highest sequence number in the log (0: none ever).
  uint64_t last_seq() const { return last_seq_; }
  const SegmentLogRecovery& recovery() const { return recovery_; }

  // A payload given as `head` + `tail`, with the CRC of `tail` computed
  // beforehand (PartCrc): a large tail (a request body) is then neither
  // copied nor checksummed under the lock that serializes appends. On disk
  // it is the same record, with the same CRC, as the concatenation.
  struct PayloadParts {
    std::string_view head;
    std::string_view tail;
    uint32_t tail_crc = 0;  // PartCrc(tail)
  };
  static uint32_t PartCrc(std::string_view bytes);

  // Appends record `seq`, which must be last_seq() + 1. Written to the
  // file (the page cache) but not synced. Unavailable on ENOSPC/EROFS; on
  // any error nothing of the record remains in the file (a part that could
  // not be cut at once is cut before the next append writes).
  absl::Status Append(uint64_t seq, const PayloadParts& payload);
  absl::Status Append(uint64_t seq, std::string_view payload) {
    return Append(seq, PayloadParts{payload, {}, PartCrc({})});
  }
  // fdatasync of everything appended so far.
  absl::Status Sync();
  // Whether an fdatasync by Sync() (also the one before a rollover) has
  // failed since the current segment began. See StartNewSegment.
  bool sync_failed() const { return sync_failed_; }
  // Continues the log in a new segment without syncing the current one.
  // For after a failed fdatasync: Linux reports a writeback error once and
  // may drop the pages, so a later sync of the same file can succeed
  // without them; records after the failure must not share its file, or a
  // restart would stop at the lost ones. No-op while the current segment
  // is empty. Clears sync_failed().
  absl::Status StartNewSegment();
  // A descriptor of the segment being appended to, for an fdatasync that
  // runs while appends go on (group commit); the caller closes it. Earlier
  // segments were synced when they were finished.
  absl::StatusOr<int> DupForSync() const;

  // Calls f(seq, payload) for every record after `after_seq`, in order,
  // checking each segment it reads; stops where the log is damaged, and
  // cuts it there (see above) before returning OK. Call before appending.
  absl::Status ForEach(
      uint64_t after_seq,
      const std::function<absl::Status(uint64_t, std::string_view)>& f);

  // Deletes the segments whose records are all <= seq.
  absl::Status DropThrough(uint64_t seq);

  // Bytes in the live segments.
  int64_t bytes() const;

 private:
  struct Segment {
    uint64_t first_seq;
    std::string path;
    int64_t size;
  };
  SegmentLog(std::string dir, int64_t segment_bytes)
      : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}
  absl::Status Recover();
  // Reads and checks segment `i` (passing records after `after_seq` to `f`
  // when set, its status to `f_status`); cuts the log at damage.
  absl::Status Check(
      size_t i, uint64_t after_seq,
      const std::function<absl::Status(uint64_t, std::string_view)>* f,
      absl::Status* f_status);
  // Renames the segments after `i` *.damaged; the log then ends at
  // `end_seq`, in segment `i`.
  absl::Status SetAsideAfter(size_t i, uint64_t end_seq, std::string_view why);
  absl::Status OpenForAppend(uint64_t first_seq, bool create);

  std::string dir_;
  int64_t segment_bytes_;
  std::vector<Segment> segments_;  // by first_seq; the last one is open
  int fd_ = -1;                    // the last segment, for appends
  // The last segment's file may hold a partial record beyond its `size`
  // (an append failed and the cut failed too).
  bool tail_dirty_ = false;
  bool sync_failed_ = false;
  uint64_t last_seq_ = 0;
  SegmentLogRecovery recovery_;
};

}  // namespace aiq::state

#endif  // AIQ_EXPORTER_STATE_SEGMENT_LOG_H_
