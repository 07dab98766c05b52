// The models' join tables on disk (RocksDB under `<state dir>/join/`), so
// limits.max_join_entries can be 10^8 while RAM stays bounded by
// state.join_memory_bytes (memtables and block cache; docs/state.md).
//
// Consistency with the state log: the log is the write-ahead log, so
// writes here skip RocksDB's. A checkpoint of the exporter's state takes a
// RocksDB checkpoint (memtables flushed, files hard-linked) under the
// commit lock, so it holds the tables exactly as of the checkpoint's
// sequence number. Recovery restores that copy and replays the log after
// it; whatever the live database held at the crash is discarded.
//
// Example, given `std::string dir` and `absl::Time now`:
//   absl::StatusOr<std::shared_ptr<JoinStore>> store =
//       JoinStore::Open(dir + "/join", /*memory_bytes=*/256 << 20);
//   if (!store.ok()) return;  // names the directory
//   std::unique_ptr<model::JoinTable> table =
//       (*store)->TableFor("churn", /*max_entries=*/100'000'000,
//                          absl::Hours(24 * 7));
//   table->Insert("req-1", model::JoinEntry{}, now);
//   absl::Status st = (*store)->Checkpoint(dir + "/checkpoints/join-42");
//
// Thread-safe: tables of different models may be used concurrently (each
// under its model's lock); Restore, DropUnclaimed and Checkpoint need
// every table idle (the app holds its commit lock). Each table shares
// ownership of its store, so either may be destroyed first.
#ifndef AIQ_EXPORTER_STATE_JOIN_STORE_H_
#define AIQ_EXPORTER_STATE_JOIN_STORE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "exporter/model/join_table.h"

namespace aiq::state {

namespace detail {
class DiskJoinTable;
}  // namespace detail

struct JoinStoreStats {
  int64_t memtable_bytes = 0;     // RocksDB memtables, all models
  int64_t block_cache_bytes = 0;  // RocksDB block cache in use
  int64_t live_sst_bytes = 0;     // the live database's files
  // Background compaction owed and running: a burst of inserts leaves
  // some, which then shares the CPU with ingest.
  bool compaction_pending = false;  // some family wants one
  int64_t running_compactions = 0;
};

class JoinStore : public std::enable_shared_from_this<JoinStore> {
 public:
  // Opens (creating when missing) the live database in `dir`.
  // `memory_bytes`: what its memtables and block cache may use together.
  static absl::StatusOr<std::shared_ptr<JoinStore>> Open(std::string dir,
                                                         int64_t memory_bytes);
  ~JoinStore();

  JoinStore(const JoinStore&) = delete;
  JoinStore& operator=(const JoinStore&) = delete;

  // A join table for `model` on this store.
  std::unique_ptr<model::JoinTable> TableFor(const std::string& model,
                                             int64_t max_entries,
                                             absl::Duration ttl);

  // Replaces the live database with a copy of the checkpoint in `from`
  // (SST files hard-linked, the rest copied), or with an empty one when
  // `from` is empty. DataLoss when `from` cannot be opened; the live
  // database is then empty. Tables keep working on the new database but
  // their counters are the caller's to restore (JoinTable::DecodeFrom).
  absl::Status Restore(const std::string& from);

  // Deletes the entries of every model whose table was not restored by
  // DecodeFrom since the last Restore (a model removed from the config, or
  // whose state was dropped), so they do not linger on disk.
  absl::Status DropUnclaimed();

  // Writes a checkpoint of the database to `to` (replaced if present).
  absl::Status Checkpoint(const std::string& to);

  // OK, or Unavailable once a write was lost: the in-memory counters and
  // the database then disagree until a restart rebuilds both from the log.
  absl::Status Health() const ABSL_LOCKS_EXCLUDED(failure_mu_);
  // Health(), and whether the database takes writes: after a background
  // error (a flush that found the disk full) RocksDB refuses them until
  // resumed, which this tries, so a caller that checks before applying
  // anything recovers by itself once space is back.
  absl::Status CheckWritable() ABSL_LOCKS_EXCLUDED(failure_mu_);

  JoinStoreStats Stats() const;

 private:
  friend class detail::DiskJoinTable;
  struct Db;
  JoinStore(std::string dir, int64_t memory_bytes);
  absl::Status OpenDb();
  void NoteFailure(std::string_view what, std::string_view status)
      ABSL_LOCKS_EXCLUDED(failure_mu_);

  const std::string dir_;
  const int64_t memory_bytes_;
  std::unique_ptr<Db> db_;  // replaced only by Restore (tables idle)
  absl::Mutex tables_mu_;
  // Registered by TableFor, removed by their destructors.
  std::vector<detail::DiskJoinTable*> tables_ ABSL_GUARDED_BY(tables_mu_);

  mutable absl::Mutex failure_mu_;
  std::string failure_ ABSL_GUARDED_BY(failure_mu_);  // "" = healthy
};

// Where the join tables of checkpoint `seq` live in `checkpoint_dir`.
std::string JoinCheckpointPath(const std::string& checkpoint_dir, uint64_t seq);
// Deletes the join checkpoints (and leftovers of failed ones) in
// `checkpoint_dir` whose sequence number is not in `keep`.
void PruneJoinCheckpoints(const std::string& checkpoint_dir,
                          std::span<const uint64_t> keep);

}  // namespace aiq::state

#endif  // AIQ_EXPORTER_STATE_JOIN_STORE_H_
