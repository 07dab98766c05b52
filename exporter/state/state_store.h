// The exporter's durable store (docs/state.md): the ordered log of the
// requests that changed state (segment_log.h), the answers remembered for
// Idempotency-Key retries (RocksDB, expired by a compaction filter), and
// the FORMAT stamp of the state directory. Group commit: Append() writes
// without syncing, WaitDurable() returns once an fdatasync covers the
// record, and one fdatasync covers every record appended before it
// started, however many requests wait on it.
//
// Example, given `const config::StateConfig& options` (dir set):
//   absl::StatusOr<std::unique_ptr<StateStore>> store =
//       StateStore::Open(options);
//   if (!store.ok()) return;  // names the directory and what is wrong
//   absl::StatusOr<uint64_t> seq = (*store)->Append("record bytes", {});
//   if (seq.ok() && (*store)->WaitDurable(*seq).ok()) { /* acknowledge */ }
//
// Thread-safe. Append() calls must be serialized by the caller when their
// order matters (the app appends under its commit lock).
#ifndef AIQ_EXPORTER_STATE_STATE_STORE_H_
#define AIQ_EXPORTER_STATE_STATE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/config/config.h"
#include "exporter/state/segment_log.h"

namespace aiq::state {

// The version of everything under the state directory (the FORMAT file,
// the log records, the checkpoints). A directory written by another
// version is refused with an error naming it, never silently reset.
// Version 4 added OTLP log records and the models' evaluation and
// streaming-latency state; a version 3 directory is read (it holds
// neither) and its FORMAT becomes 4 at open, so that an older build then
// refuses it instead of taking the new records for damage.
inline constexpr int kStateFormatVersion = 4;
inline constexpr int kOldestReadableStateFormat = 3;

// "version V, this build reads version(s) ..." for a refusal.
std::string UnreadableFormatMessage(int version);

// An answer remembered for an Idempotency-Key.
struct StoredAnswer {
  absl::Time time;  // when it was first given
  std::string answer;
  // False while the request it answers is applied but not yet durable (its
  // first attempt is still waiting for the fsync, or that fsync failed and
  // no checkpoint has saved it yet): the answer must not be given yet.
  bool durable = true;
};

struct StoreStats {
  uint64_t log_bytes_appended = 0;  // since the process started
  uint64_t records_appended = 0;
  uint64_t syncs = 0;  // fsyncs, each covering one or more records
  uint64_t append_errors = 0;
  uint64_t sync_errors = 0;
  int64_t store_bytes = 0;      // everything under the state directory
  int64_t disk_free_bytes = 0;  // available to this process
};

class StateStore {
 public:
  // Opens (creating when missing) `options.dir`: FORMAT, log/, db/
  // (RocksDB: the answers) and checkpoints/. FailedPrecondition when FORMAT
  // names another version or the directory holds something else; the message
  // names the path.
  static absl::StatusOr<std::unique_ptr<StateStore>> Open(
      const config::StateConfig& options);
  ~StateStore();

  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  const std::string& dir() const;
  std::string checkpoint_dir() const;

  // Appends `record` with the next sequence number, together (atomically)
  // with `answer_key` -> `answer` when `answer_key` is non-empty. Not yet
  // durable: see WaitDurable. Unavailable when the disk is full or the
  // store is read-only (nothing was written).
  absl::StatusOr<uint64_t> Append(std::string_view record,
                                  std::string_view answer_key = {},
                                  std::string_view answer = {},
                                  absl::Time now = absl::InfinitePast());
  // The same for a record in two parts (SegmentLog::PayloadParts), whose
  // large tail was checksummed before the caller took its lock.
  absl::StatusOr<uint64_t> Append(const SegmentLog::PayloadParts& record);
  // Remembers the answer to the request logged as record `seq` (not yet
  // durable either; replaying the record stores it again).
  absl::Status PutAnswer(std::string_view key, std::string_view answer,
                         absl::Time now, uint64_t seq);
  // Blocks until record `seq` (and all before it) is on disk.
  absl::Status WaitDurable(uint64_t seq);

  // The highest sequence number appended (0 = none yet).
  uint64_t last_seq() const;

  // A random number chosen when the directory was created (kept in db/):
  // the seed of streams that must continue across restarts, such as the
  // review sampler's draws (review::ReviewSampler::SetSeed).
  uint64_t stream_seed() const;

  // Calls `f(seq, record)` for every record after `after_seq`, in order.
  // Stops at the first error `f` returns, or at a record the store cannot
  // read (DataLoss naming its sequence number).
  // Call before appending: a record found damaged here ends the log at it
  // (SegmentLog::ForEach), and log_recovery() then says so.
  absl::Status ForEachRecord(
      uint64_t after_seq,
      const std::function<absl::Status(uint64_t, std::string_view)>& f);

  // Drops the records up to and including `seq` (they are in a checkpoint);
  // whole segments only, so some may remain (replay skips them).
  absl::Status TruncateLog(uint64_t seq);

  // What opening the log cut from a torn or damaged tail.
  const SegmentLogRecovery& log_recovery() const;

  // The answer stored for `key`, if it is younger than `ttl` at `now` and
  // its record was not lost. Each answer carries its record's seq and the
  // store's epoch (a count of opens): an answer from an earlier run whose
  // record lies beyond where that run's log was found to end (a crash lost
  // the record but RocksDB kept the answer) is no answer, so the retry is
  // applied afresh rather than acknowledged with nothing behind it.
  std::optional<StoredAnswer> FindAnswer(std::string_view key, absl::Time now,
                                         absl::Duration ttl) const;

  // Whether ingest may write: OK, or Unavailable saying why (disk below
  // min_free_bytes, the store stopped after a write error, a failed
  // fdatasync not yet followed by a checkpoint). A stopped store is
  // resumed here once space is back, so ingest recovers by itself.
  absl::Status CheckWritable();

  // After a failed fdatasync of the log. Linux reports a writeback error
  // once and may drop the pages it could not write, so a later successful
  // fdatasync proves nothing about the records before it. From then on
  // the store acknowledges nothing (WaitDurable fails) and CheckWritable
  // refuses, until a checkpoint has saved the in-memory state, which holds
  // every record applied: needs_checkpoint() says so.
  bool needs_checkpoint() const;
  // Before writing a checkpoint of the state through `seq`:
  // WaitDurable(seq), or nothing after a failed fdatasync (the checkpoint
  // then stands in for the log).
  absl::Status SyncForCheckpoint(uint64_t seq);
  // A checkpoint through `seq` is durable. After a failed fdatasync (and
  // when nothing was appended after `seq`), continues the log in a new
  // segment, so no record acknowledged later shares a file with the
  // records whose pages may be lost, and acknowledges again.
  absl::Status CheckpointSaved(uint64_t seq);

  StoreStats Stats() const;

 private:
  struct Impl;
  explicit StateStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace aiq::state

#endif  // AIQ_EXPORTER_STATE_STATE_STORE_H_
