// Makes the exporter's state durable (docs/state.md). Every request that
// changes state is appended to the state log and applied under one commit
// lock, so the log's order is the order the models saw; the answer is
// sent once an fsync (shared by every request waiting at that moment)
// covers the record. Checkpoints of the in-memory state, written every
// state.checkpoint_interval, bound what a restart replays.
//
// In durable mode the models run on a model clock (`model_clock`) that
// moves only under the commit lock: set to each record's time while it is
// applied, and to the wall clock on a tick between requests. Replay sets it
// to the same times, so it reaches the same windows, expiries and join
// decisions as serving did.
//
// The models' join tables live on disk (state/join_store.h): Open gives
// each model its table there, checkpoints include a copy of them taken at
// the same moment, and recovery restores that copy before the replay.
//
// Example, given `const config::Config& config` (state.dir set),
// `model::ModelRegistry& registry` (built on `util::FakeClock& clock`) and
// `std::function<absl::Status(const state::LogRecord&)> apply_record`:
//   absl::StatusOr<std::unique_ptr<DurableState>> durable =
//       DurableState::Open(config, registry, clock, util::Clock::Real());
//   if (!durable.ok()) return;  // names the directory or file
//   absl::StatusOr<RecoveryReport> report = (*durable)->Recover(apply_record);
//   (*durable)->Start();  // ticks and periodic checkpoints
#ifndef AIQ_EXPORTER_APP_DURABLE_STATE_H_
#define AIQ_EXPORTER_APP_DURABLE_STATE_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "exporter/config/config.h"
#include "exporter/model/model_registry.h"
#include "exporter/state/join_store.h"
#include "exporter/state/log_record.h"
#include "exporter/state/state_store.h"
#include "exporter/util/clock.h"

namespace aiq::app {

struct RecoveryReport {
  uint64_t checkpoint_seq = 0;  // 0: started from an empty state
  std::string checkpoint_path;
  int64_t records_replayed = 0;
  // Records that could not be decoded or replayed (counted, logged, skipped).
  int64_t records_corrupt = 0;
  // Damaged checkpoint files passed over, and what was wrong with each.
  std::vector<std::string> skipped_checkpoints;
  // What opening the log cut: a torn tail, damaged segments set aside.
  std::vector<std::string> log_repairs;
  // State in the checkpoint that no longer matches the config (a model
  // removed, a window's shape changed) and was dropped.
  std::vector<std::string> dropped;
  absl::Duration took;
  absl::Duration log_open;  // reading and checking the log (before `took`)
  absl::Duration checkpoint_read;    // reading and verifying the file
  absl::Duration checkpoint_decode;  // restoring the models from it
};

// For the aiq_state_* metrics.
struct DurableStateStats {
  state::StoreStats store;
  state::JoinStoreStats join;
  uint64_t checkpoints = 0;
  uint64_t checkpoint_failures = 0;
  double last_checkpoint_seconds = 0;  // how long the last one took
  // Of that, how long ingest waited (the state being encoded).
  double last_checkpoint_pause_seconds = 0;
  int64_t last_checkpoint_bytes = 0;
  absl::Time last_checkpoint_time = absl::InfinitePast();
  absl::Time started = absl::InfinitePast();
  RecoveryReport recovery;
  uint64_t idempotent_replays = 0;  // requests answered from a stored answer
};

class DurableState {
 public:
  using ApplyRecord = std::function<absl::Status(const state::LogRecord&)>;

  // `wall_clock` is what the model clock follows between requests.
  static absl::StatusOr<std::unique_ptr<DurableState>> Open(
      const config::Config& config, model::ModelRegistry& registry,
      util::FakeClock& model_clock, util::Clock* wall_clock);
  ~DurableState();  // stops the background thread

  // Loads the newest intact checkpoint (its references through
  // `apply_record`), then passes every later log record to `apply_record`.
  // FailedPrecondition when a file of another format version is found.
  absl::StatusOr<RecoveryReport> Recover(const ApplyRecord& apply_record);

  // Starts ticking the model clock and writing periodic checkpoints.
  void Start();

  // Under the commit lock: refuses (Unavailable, nothing changed) when the
  // store cannot take writes, else sets `record.time` and the model clock,
  // appends the record and runs `apply`. Returns the sequence number to
  // pass to WaitDurable.
  absl::StatusOr<uint64_t> Commit(state::LogRecord& record,
                                  absl::FunctionRef<void()> apply);
  absl::Status WaitDurable(uint64_t seq);

  // Idempotency-Key answers (state.idempotency_ttl), of log record `seq`.
  // `count`: a client retry answered from the store (a metric). An answer
  // that is not `durable` yet must not be given (StoredAnswer).
  std::optional<state::StoredAnswer> FindAnswer(std::string_view key,
                                                bool count = true);
  void RememberAnswer(std::string_view key, std::string_view answer,
                      uint64_t seq);
  // state::StateStore::needs_checkpoint: a failed fsync holds ingest.
  bool needs_checkpoint() const { return store_->needs_checkpoint(); }
  // False when a request with `key` is already being processed.
  bool BeginKey(const std::string& key) ABSL_LOCKS_EXCLUDED(keys_mu_);
  void EndKey(const std::string& key) ABSL_LOCKS_EXCLUDED(keys_mu_);

  // Records the reference CSV a PUT (or its replay) installed, so
  // checkpoints carry it. Call from within the record's apply.
  void NoteReference(const std::string& model, std::string csv)
      ABSL_LOCKS_EXCLUDED(references_mu_);

  // Writes a checkpoint now. Calls are serialized (the periodic one and a
  // final one at shutdown may meet).
  absl::Status CheckpointNow() ABSL_LOCKS_EXCLUDED(commit_mu_, checkpoint_mu_);

  DurableStateStats Stats() const ABSL_LOCKS_EXCLUDED(stats_mu_);

  // state::StateStore::stream_seed.
  uint64_t stream_seed() const { return store_->stream_seed(); }

 private:
  DurableState(const config::Config& config, model::ModelRegistry& registry,
               util::FakeClock& model_clock, util::Clock* wall_clock,
               std::unique_ptr<state::StateStore> store,
               std::shared_ptr<state::JoinStore> join_store);
  void AdvanceModelClock() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_);
  // The checkpoint payload, in parts to be written one after the other.
  std::vector<std::string> EncodeCheckpoint() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_);
  absl::Status DecodeCheckpoint(std::string_view payload,
                                const ApplyRecord& apply_record,
                                RecoveryReport& report)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_);
  void Run();

  const config::Config& config_;
  model::ModelRegistry& registry_;
  util::FakeClock& model_clock_;
  util::Clock* const wall_clock_;
  const std::unique_ptr<state::StateStore> store_;
  // The models' join tables (each model holds its table on it).
  const std::shared_ptr<state::JoinStore> join_store_;

  // Serializes everything that changes model state, and the checkpoint's
  // copy of it, with the log order.
  mutable absl::Mutex commit_mu_;
  // Held for a whole checkpoint: one writer of checkpoints/ at a time.
  absl::Mutex checkpoint_mu_ ABSL_ACQUIRED_BEFORE(commit_mu_);

  mutable absl::Mutex references_mu_;
  // PUT references by model (their CSV), written into checkpoints.
  std::map<std::string, std::string> references_
      ABSL_GUARDED_BY(references_mu_);

  absl::Mutex keys_mu_;
  absl::flat_hash_set<std::string> keys_in_flight_ ABSL_GUARDED_BY(keys_mu_);

  mutable absl::Mutex stats_mu_;
  DurableStateStats stats_ ABSL_GUARDED_BY(stats_mu_);

  absl::Mutex run_mu_;
  bool stopping_ ABSL_GUARDED_BY(run_mu_) = false;
  std::thread thread_;
};

}  // namespace aiq::app

#endif  // AIQ_EXPORTER_APP_DURABLE_STATE_H_
