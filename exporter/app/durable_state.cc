#include "exporter/app/durable_state.h"

#include <algorithm>
#include <chrono>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "exporter/state/checkpoint_file.h"
#include "exporter/util/binary_codec.h"
#include "exporter/util/parallel_for.h"

namespace aiq::app {
namespace {

// The checkpoint payload's own tag, inside the versioned file.
constexpr std::string_view kPayloadTag = "aiq-state";
// Checkpoints kept: the newest, and the one before it in case the newest
// is damaged (the log reaches back to it).
constexpr int kCheckpointsKept = 2;

}  // namespace

DurableState::DurableState(const config::Config& config,
                           model::ModelRegistry& registry,
                           util::FakeClock& model_clock,
                           util::Clock* wall_clock,
                           std::unique_ptr<state::StateStore> store,
                           std::shared_ptr<state::JoinStore> join_store)
    : config_(config),
      registry_(registry),
      model_clock_(model_clock),
      wall_clock_(wall_clock),
      store_(std::move(store)),
      join_store_(std::move(join_store)) {
  absl::MutexLock lock(&stats_mu_);
  stats_.started = absl::Now();
}

absl::StatusOr<std::unique_ptr<DurableState>> DurableState::Open(
    const config::Config& config, model::ModelRegistry& registry,
    util::FakeClock& model_clock, util::Clock* wall_clock) {
  absl::StatusOr<std::unique_ptr<state::StateStore>> store =
      state::StateStore::Open(config.state);
  if (!store.ok()) return store.status();
  absl::StatusOr<std::shared_ptr<state::JoinStore>> join =
      state::JoinStore::Open((*store)->dir() + "/join",
                             config.state.join_memory_bytes);
  if (!join.ok()) return join.status();
  for (const auto& model : registry.models()) {
    model->UseJoinTable((*join)->TableFor(model->config().name,
                                          config.limits.max_join_entries,
                                          model->config().label_ttl));
  }
  return std::unique_ptr<DurableState>(
      new DurableState(config, registry, model_clock, wall_clock,
                       *std::move(store), *std::move(join)));
}

DurableState::~DurableState() {
  {
    absl::MutexLock lock(&run_mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> DurableState::EncodeCheckpoint() const {
  // Parts: the header, one per model (encoded in parallel: models are
  // independent, and ingest waits for this), the references. The file is
  // their concatenation.
  const auto& models = registry_.models();
  std::vector<std::string> parts(models.size() + 2);
  util::BinaryWriter head;
  head.String(kPayloadTag);
  head.Time(model_clock_.Now());
  head.Varint(models.size());
  parts.front() = head.Release();
  util::ParallelFor(models.size(), /*max_threads=*/0, [&](size_t i) {
    util::BinaryWriter w;
    w.String(models[i]->config().name);
    const size_t block = w.BeginBlock();
    models[i]->EncodeTo(w);
    w.EndBlock(block);
    parts[i + 1] = w.Release();
  });
  util::BinaryWriter tail;
  absl::MutexLock lock(&references_mu_);
  tail.Varint(references_.size());
  for (const auto& [model, csv] : references_) {
    tail.String(model);
    tail.String(csv);
  }
  parts.back() = tail.Release();
  return parts;
}

absl::Status DurableState::DecodeCheckpoint(std::string_view payload,
                                            const ApplyRecord& apply_record,
                                            RecoveryReport& report) {
  util::BinaryReader r(payload);
  if (r.String("payload tag") != kPayloadTag && r.ok()) {
    r.Fail("payload tag", "not an exporter state payload");
  }
  const absl::Time clock = r.Time("model clock");
  // Models first into a list, then references, then the models' state:
  // a PUT reference must be in place before the drift windows built on it.
  struct ModelBytes {
    std::string name;
    std::string_view bytes;
  };
  std::vector<ModelBytes> models(r.Count("models", 2));
  for (ModelBytes& m : models) {
    m.name = r.String("model name");
    m.bytes = r.Block("model state");
  }
  std::vector<std::pair<std::string, std::string>> references(
      r.Count("references", 2));
  for (auto& [model, csv] : references) {
    model = r.String("reference model");
    csv = r.String("reference csv");
  }
  if (absl::Status st = r.Finish(); !st.ok()) return st;

  model_clock_.Set(clock);
  for (const auto& [model, csv] : references) {
    state::LogRecord rec;
    rec.type = state::LogRecord::Type::kReference;
    rec.time = clock;
    rec.model = model;
    rec.body = csv;
    if (absl::Status st = apply_record(rec); !st.ok()) {
      report.dropped.push_back(
          absl::StrCat("reference of model \"", model, "\": ", st.message()));
    }
  }
  // Models are independent: decode them in parallel.
  std::vector<absl::Status> statuses(models.size());
  std::vector<std::vector<std::string>> dropped(models.size());
  util::ParallelFor(models.size(), /*max_threads=*/0, [&](size_t i) {
    model::ModelState* state = registry_.Find(models[i].name);
    if (state == nullptr) {
      dropped[i].push_back("no longer configured");
      return;
    }
    util::BinaryReader mr(models[i].bytes);
    statuses[i] = state->DecodeFrom(mr, dropped[i]);
  });
  for (size_t i = 0; i < models.size(); ++i) {
    if (!statuses[i].ok()) {
      return absl::Status(statuses[i].code(),
                          absl::StrCat("model \"", models[i].name,
                                       "\": ", statuses[i].message()));
    }
    for (std::string& d : dropped[i]) {
      report.dropped.push_back(
          absl::StrCat("model \"", models[i].name, "\": ", d));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<RecoveryReport> DurableState::Recover(
    const ApplyRecord& apply_record) {
  const auto start = std::chrono::steady_clock::now();
  RecoveryReport report;
  report.log_open = store_->log_recovery().took;
  absl::MutexLock lock(&commit_mu_);
  // A checkpoint is usable with its copy of the join tables only.
  absl::StatusOr<std::optional<state::Checkpoint>> checkpoint =
      state::LoadLatestCheckpoint(
          store_->checkpoint_dir(), report.skipped_checkpoints,
          [this](const state::Checkpoint& c) {
            return join_store_->Restore(
                state::JoinCheckpointPath(store_->checkpoint_dir(), c.seq));
          });
  if (!checkpoint.ok()) return checkpoint.status();
  if (!*checkpoint) {
    if (absl::Status st = join_store_->Restore(""); !st.ok()) return st;
  }
  report.checkpoint_read =
      absl::FromChrono(std::chrono::steady_clock::now() - start);
  if (*checkpoint) {
    if (absl::Status st =
            DecodeCheckpoint((*checkpoint)->payload(), apply_record, report);
        !st.ok()) {
      // The file's CRC matched, so this is not damage in transit but a
      // payload this build cannot read: refuse rather than reset.
      return absl::FailedPreconditionError(
          absl::StrCat((*checkpoint)->path, ": ", st.message()));
    }
    report.checkpoint_decode =
        absl::FromChrono(std::chrono::steady_clock::now() - start) -
        report.checkpoint_read;
    report.checkpoint_seq = (*checkpoint)->seq;
    report.checkpoint_path = (*checkpoint)->path;
  } else {
    model_clock_.Set(wall_clock_->Now());
  }
  // Entries of models that are gone or whose state was dropped.
  if (absl::Status st = join_store_->DropUnclaimed(); !st.ok()) return st;
  absl::Status replayed = store_->ForEachRecord(
      report.checkpoint_seq,
      [&](uint64_t seq, std::string_view bytes) -> absl::Status {
        absl::StatusOr<state::LogRecord> rec = state::DecodeLogRecord(bytes);
        if (!rec.ok()) {
          ++report.records_corrupt;
          std::cerr << "state: log record " << seq
                    << " skipped: " << rec.status().message() << std::endl;
          return absl::OkStatus();
        }
        rec->seq = seq;
        if (rec->time > model_clock_.Now()) model_clock_.Set(rec->time);
        if (absl::Status st = apply_record(*rec); !st.ok()) {
          // Intact, but no longer applicable (the config changed, e.g. a
          // PUT reference for a removed model): dropped, not corrupt.
          report.dropped.push_back(
              absl::StrCat("log record ", seq, ": ", st.message()));
          return absl::OkStatus();
        }
        ++report.records_replayed;
        return absl::OkStatus();
      });
  if (!replayed.ok()) {
    // A record the store cannot read (its checksum failed): what came
    // before it is recovered; the rest is lost, and said so.
    ++report.records_corrupt;
    std::cerr << "state: log replay stopped: " << replayed.message()
              << std::endl;
  }
  // What opening the log and the replay cut from it (each counted).
  report.log_repairs = store_->log_recovery().events;
  report.records_corrupt +=
      static_cast<int64_t>(store_->log_recovery().events.size());
  AdvanceModelClock();
  registry_.ExpireJoins();
  report.took = absl::FromChrono(std::chrono::steady_clock::now() - start);
  {
    absl::MutexLock stats_lock(&stats_mu_);
    stats_.recovery = report;
  }
  return report;
}

void DurableState::AdvanceModelClock() {
  const absl::Time now = wall_clock_->Now();
  if (now > model_clock_.Now()) model_clock_.Set(now);
}

absl::StatusOr<uint64_t> DurableState::Commit(state::LogRecord& record,
                                              absl::FunctionRef<void()> apply) {
  // The body's checksum before the lock: under it, only the small head
  // (which holds the record's time) is encoded and checksummed, and the
  // body is written from where it is.
  const uint32_t body_crc = state::SegmentLog::PartCrc(record.body);
  absl::MutexLock lock(&commit_mu_);
  if (absl::Status st = store_->CheckWritable(); !st.ok()) return st;
  if (absl::Status st = join_store_->CheckWritable(); !st.ok()) return st;
  AdvanceModelClock();
  record.time = model_clock_.Now();
  const std::string head = state::EncodeLogRecordHead(record);
  absl::StatusOr<uint64_t> seq = store_->Append({head, record.body, body_crc});
  if (!seq.ok()) return seq.status();
  apply();
  return seq;
}

absl::Status DurableState::WaitDurable(uint64_t seq) {
  return store_->WaitDurable(seq);
}

std::optional<state::StoredAnswer> DurableState::FindAnswer(
    std::string_view key, bool count) {
  std::optional<state::StoredAnswer> a = store_->FindAnswer(
      key, wall_clock_->Now(), config_.state.idempotency_ttl);
  if (a && a->durable && count) {
    absl::MutexLock lock(&stats_mu_);
    ++stats_.idempotent_replays;
  }
  return a;
}

void DurableState::RememberAnswer(std::string_view key, std::string_view answer,
                                  uint64_t seq) {
  // Not synced on its own: the request's WaitDurable covers it, and if a
  // crash loses it, replaying the request's record stores it again.
  store_->PutAnswer(key, answer, wall_clock_->Now(), seq).IgnoreError();
}

bool DurableState::BeginKey(const std::string& key) {
  absl::MutexLock lock(&keys_mu_);
  return keys_in_flight_.insert(key).second;
}

void DurableState::EndKey(const std::string& key) {
  absl::MutexLock lock(&keys_mu_);
  keys_in_flight_.erase(key);
}

void DurableState::NoteReference(const std::string& model, std::string csv) {
  absl::MutexLock lock(&references_mu_);
  references_[model] = std::move(csv);
}

absl::Status DurableState::CheckpointNow() {
  absl::MutexLock one_at_a_time(&checkpoint_mu_);
  const auto start = std::chrono::steady_clock::now();
  uint64_t seq = 0;
  std::vector<std::string> parts;
  double pause = 0;
  absl::Status st;
  {
    absl::MutexLock lock(&commit_mu_);
    seq = store_->last_seq();
    parts = EncodeCheckpoint();
    // The join tables as of the same moment (a flush and hard links).
    st = join_store_->Checkpoint(
        state::JoinCheckpointPath(store_->checkpoint_dir(), seq));
    pause =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
  }
  std::vector<std::string_view> views(parts.begin(), parts.end());
  int64_t bytes = 0;
  for (const std::string& p : parts) bytes += static_cast<int64_t>(p.size());
  // Everything the checkpoint reflects is on disk before it claims so
  // (so that a damaged checkpoint can fall back to the one before it plus
  // the log), unless a failed fdatasync of the log left the checkpoint as
  // the only way to save it.
  if (st.ok()) st = store_->SyncForCheckpoint(seq);
  if (st.ok())
    st = state::WriteCheckpoint(store_->checkpoint_dir(), seq, views);
  if (st.ok()) st = store_->CheckpointSaved(seq);
  parts.clear();
  if (st.ok()) {
    state::PruneCheckpoints(store_->checkpoint_dir(), kCheckpointsKept);
    // Keep the log back to the oldest kept checkpoint, so a damaged newest
    // one falls back to the previous one plus the log.
    const std::vector<uint64_t> kept =
        state::ListCheckpoints(store_->checkpoint_dir());
    state::PruneJoinCheckpoints(store_->checkpoint_dir(), kept);
    if (kept.size() >= 2) st = store_->TruncateLog(kept.back());
  }
  absl::MutexLock lock(&stats_mu_);
  if (!st.ok()) {
    ++stats_.checkpoint_failures;
    std::cerr << "state: checkpoint failed: " << st.message() << std::endl;
    return st;
  }
  ++stats_.checkpoints;
  stats_.last_checkpoint_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  stats_.last_checkpoint_pause_seconds = pause;
  stats_.last_checkpoint_bytes = bytes;
  stats_.last_checkpoint_time = absl::Now();
  return absl::OkStatus();
}

void DurableState::Start() {
  thread_ = std::thread([this] { Run(); });
}

void DurableState::Run() {
  absl::Time next_checkpoint = absl::Now() + config_.state.checkpoint_interval;
  absl::Time next_rescue = absl::InfinitePast();
  absl::Duration rescue_delay = config_.state.tick_interval;
  for (;;) {
    {
      absl::MutexLock lock(&run_mu_);
      auto stopping = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(run_mu_) {
        return stopping_;
      };
      if (run_mu_.AwaitWithTimeout(absl::Condition(&stopping),
                                   config_.state.tick_interval)) {
        return;
      }
    }
    {
      // Join entries expire on this beat without traffic (a scrape does
      // not expire them in durable mode: ModelState::UseJoinTable).
      absl::MutexLock lock(&commit_mu_);
      AdvanceModelClock();
      registry_.ExpireJoins();
    }
    // After a failed fdatasync ingest waits for a checkpoint
    // (StateStore::needs_checkpoint): one is tried on the next tick, then
    // with doubling delays while they fail.
    const absl::Time now = absl::Now();
    if (now >= next_checkpoint ||
        (store_->needs_checkpoint() && now >= next_rescue)) {
      CheckpointNow().IgnoreError();  // counted and logged
      next_checkpoint = absl::Now() + config_.state.checkpoint_interval;
      if (store_->needs_checkpoint()) {
        next_rescue = absl::Now() + rescue_delay;
        rescue_delay =
            std::min(rescue_delay * 2, config_.state.checkpoint_interval);
      } else {
        rescue_delay = config_.state.tick_interval;
      }
    }
  }
}

DurableStateStats DurableState::Stats() const {
  state::StoreStats store = store_->Stats();
  state::JoinStoreStats join = join_store_->Stats();
  absl::MutexLock lock(&stats_mu_);
  DurableStateStats s = stats_;
  s.store = store;
  s.join = join;
  return s;
}

}  // namespace aiq::app
