#include "exporter/state/state_store.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <system_error>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "exporter/state/atomic_file.h"
#include "exporter/state/rocksdb_logger.h"
#include "exporter/state/segment_log.h"
#include "exporter/util/absl_compat.h"
#include "exporter/util/binary_codec.h"
#include "rocksdb/compaction_filter.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace aiq::state {

std::string UnreadableFormatMessage(int version) {
  return absl::StrCat("state format version ", version,
                      ", this build reads versions ",
                      kOldestReadableStateFormat, " to ", kStateFormatVersion,
                      "; use a matching exporter build or move the directory "
                      "away");
}

namespace {

namespace fs = std::filesystem;

constexpr char kFormatHeader[] = "ai-quality-exporter state directory";
constexpr char kAnswerFamily[] = "idempotency";

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

absl::Status FromRocks(const rocksdb::Status& st, std::string_view what) {
  if (st.ok()) return absl::OkStatus();
  const std::string message =
      absl::StrCat(util::ToAbsl(what), ": ", st.ToString());
  if (st.IsNoSpace() || st.IsIOError()) return absl::UnavailableError(message);
  if (st.IsCorruption()) return absl::DataLossError(message);
  return absl::InternalError(message);
}

// time (first, for AnswerExpiry), epoch, seq, the answer.
std::string EncodeAnswer(absl::Time now, uint64_t epoch, uint64_t seq,
                         std::string_view answer) {
  util::BinaryWriter w;
  w.Time(now);
  w.Fixed64(epoch);
  w.Fixed64(seq);
  w.Raw(answer);
  return w.Release();
}

// Default column family: "epoch" (fixed64, this run's) and, for each
// earlier run, "epoch_end/<fixed64 big-endian epoch>" (fixed64): the seq
// where the log was found to end after it, beyond which its answers have no
// record behind them.
constexpr std::string_view kEpochKey = "epoch";
constexpr std::string_view kEpochEndPrefix = "epoch_end/";

std::string EpochEndKey(uint64_t epoch) {
  std::string key(kEpochEndPrefix);
  util::AppendBigEndian64(key, epoch);
  return key;
}

std::string Fixed64Bytes(uint64_t v) {
  util::BinaryWriter w;
  w.Fixed64(v);
  return w.Release();
}

// Drops remembered answers older than the TTL when RocksDB compacts, so the
// table stays bounded without a sweep of our own.
class AnswerExpiry final : public rocksdb::CompactionFilter {
 public:
  explicit AnswerExpiry(absl::Duration ttl) : ttl_(ttl) {}
  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/,
              const rocksdb::Slice& value, std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    util::BinaryReader r(std::string_view(value.data(), value.size()));
    const absl::Time t = r.Time("answer time");
    return !r.ok() || absl::Now() - t > ttl_;
  }
  const char* Name() const override { return "aiq.AnswerExpiry"; }

 private:
  absl::Duration ttl_;
};

absl::Status CheckFormat(const std::string& dir) {
  const std::string path = (fs::path(dir) / "FORMAT").string();
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (absl::IsNotFound(text.status())) {
    std::error_code ec;
    if (fs::directory_iterator(dir, ec) != fs::directory_iterator() && !ec) {
      return absl::FailedPreconditionError(absl::StrCat(
          "state dir ", dir,
          " is not empty and has no FORMAT file: not an ai-quality-exporter "
          "state directory (refusing to write into it)"));
    }
    return WriteFileAtomically(path, absl::StrCat(kFormatHeader, "\nformat ",
                                                  kStateFormatVersion, "\n"));
  }
  if (!text.ok()) return text.status();
  std::vector<std::string> lines = absl::StrSplit(*text, '\n');
  int version = 0;
  if (lines.size() < 2 || lines[0] != kFormatHeader ||
      lines[1].rfind("format ", 0) != 0 ||
      !absl::SimpleAtoi(lines[1].substr(7), &version)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not an ai-quality-exporter FORMAT file"));
  }
  if (version < kOldestReadableStateFormat || version > kStateFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": ", UnreadableFormatMessage(version)));
  }
  if (version < kStateFormatVersion) {
    // Everything older versions wrote reads as it is; from now on the
    // directory may hold what they cannot read.
    return WriteFileAtomically(path, absl::StrCat(kFormatHeader, "\nformat ",
                                                  kStateFormatVersion, "\n"));
  }
  return absl::OkStatus();
}

// Each file once: checkpoints share the join store's files (hard links).
int64_t DirectoryBytes(const std::string& dir) {
  int64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        seen.emplace(st.st_dev, st.st_ino).second) {
      total += static_cast<int64_t>(st.st_size);
    }
  }
  return total;
}

// The directory's stream seed (default column family, key "stream_seed",
// fixed64), created and synced on first use.
// A fixed64 under `key` in the default column family (nullopt: absent).
absl::StatusOr<std::optional<uint64_t>> GetFixed64(rocksdb::DB& db,
                                                   std::string_view key,
                                                   std::string_view what) {
  std::string value;
  const rocksdb::Status st =
      db.Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (st.IsNotFound()) return std::nullopt;
  if (!st.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "db/: cannot read the ", util::ToAbsl(what), ": ", st.ToString()));
  }
  util::BinaryReader r(value);
  const uint64_t v = r.Fixed64(what);
  if (!r.ok() || r.remaining() != 0) {
    return absl::DataLossError(absl::StrCat("db/: ", util::ToAbsl(what), " of ",
                                            value.size(), " bytes, not 8"));
  }
  return v;
}

absl::StatusOr<uint64_t> LoadStreamSeed(rocksdb::DB& db) {
  constexpr std::string_view kKey = "stream_seed";
  absl::StatusOr<std::optional<uint64_t>> stored =
      GetFixed64(db, kKey, "stream seed");
  if (!stored.ok()) return stored.status();
  if (*stored) return **stored;
  std::random_device rd;
  const uint64_t seed = (uint64_t{rd()} << 32) ^ uint64_t { rd() };
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const rocksdb::Status st =
      db.Put(sync, ToSlice(kKey), ToSlice(Fixed64Bytes(seed)));
  if (!st.ok()) {
    return absl::UnavailableError(
        absl::StrCat("db/: cannot write the stream seed: ", st.ToString()));
  }
  return seed;
}

}  // namespace

struct StateStore::Impl {
  config::StateConfig options;
  uint64_t epoch = 0;  // this run's (set once by Open)
  // The seq where each earlier run's log was found to end.
  mutable absl::Mutex epoch_mu;
  std::map<uint64_t, uint64_t> epoch_end ABSL_GUARDED_BY(epoch_mu);
  std::unique_ptr<AnswerExpiry> answer_expiry;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> families;  // default, answers
  rocksdb::ColumnFamilyHandle* answers = nullptr;
  uint64_t stream_seed = 0;  // set once by Open

  absl::Mutex append_mu;
  std::unique_ptr<SegmentLog> log ABSL_GUARDED_BY(append_mu);
  // Highest sequence number written (not necessarily synced).
  std::atomic<uint64_t> written_seq{0};

  // Group commit: one waiting thread at a time syncs; the others wait for
  // it (WaitDurable).
  absl::Mutex sync_mu;
  uint64_t synced_seq ABSL_GUARDED_BY(sync_mu) = 0;
  bool syncing ABSL_GUARDED_BY(sync_mu) = false;
  // The highest seq a thread has waited for.
  uint64_t newest_waiter ABSL_GUARDED_BY(sync_mu) = 0;

  // CheckWritable's last look at the file system's free space.
  absl::Mutex space_mu;
  int64_t space_available ABSL_GUARDED_BY(space_mu) = 0;
  absl::Time space_checked ABSL_GUARDED_BY(space_mu) = absl::InfinitePast();
  int64_t space_log_bytes ABSL_GUARDED_BY(space_mu) = 0;  // log_bytes then

  // Set by a failed write or sync; CheckWritable resumes the store.
  std::atomic<bool> stopped{false};
  // Set by a failed fdatasync of the log (state_store.h, needs_checkpoint):
  // nothing is acknowledged again until a checkpoint saved the state.
  bool log_unsafe ABSL_GUARDED_BY(sync_mu) = false;
  std::string log_unsafe_reason ABSL_GUARDED_BY(sync_mu);
  std::atomic<bool> needs_checkpoint{false};  // == log_unsafe, lock-free

  std::atomic<uint64_t> log_bytes{0}, records{0}, syncs{0}, append_errors{0},
      sync_errors{0};
  SegmentLogRecovery recovery;  // what Open cut from the log

  ~Impl() {
    if (db) {
      for (rocksdb::ColumnFamilyHandle* h : families) {
        db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
      }
      db->Close().PermitUncheckedError();
    }
  }

  void MarkLogUnsafe(const absl::Status& why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu) {
    if (!log_unsafe) log_unsafe_reason = std::string(why.message());
    log_unsafe = true;
    needs_checkpoint.store(true);
    // Every waiter wakes and fails (WaitDurable's condition).
    newest_waiter = 0;
  }

  // Loads the earlier runs' log ends, records the last run's as `log_end`,
  // and starts this run's epoch (synced).
  absl::Status StartEpoch(uint64_t log_end) {
    absl::StatusOr<std::optional<uint64_t>> stored =
        GetFixed64(*db, kEpochKey, "epoch");
    if (!stored.ok()) return stored.status();
    const uint64_t previous = stored->value_or(0);
    rocksdb::ReadOptions ro;
    absl::MutexLock lock(&epoch_mu);
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
    for (it->Seek(ToSlice(kEpochEndPrefix));
         it->Valid() && it->key().starts_with(ToSlice(kEpochEndPrefix));
         it->Next()) {
      const rocksdb::Slice k = it->key();
      util::BinaryReader r(
          std::string_view(it->value().data(), it->value().size()));
      const uint64_t end = r.Fixed64("epoch end");
      if (k.size() != kEpochEndPrefix.size() + 8 || !r.ok()) continue;
      epoch_end[util::ReadBigEndian64(
          std::string_view(k.data() + kEpochEndPrefix.size(), 8))] = end;
    }
    if (!it->status().ok()) {
      return absl::UnavailableError(absl::StrCat(
          "db/: cannot read the epochs: ", it->status().ToString()));
    }
    epoch = previous + 1;
    rocksdb::WriteBatch batch;
    if (previous > 0) {
      epoch_end[previous] = log_end;
      batch.Put(ToSlice(EpochEndKey(previous)), ToSlice(Fixed64Bytes(log_end)))
          .PermitUncheckedError();
    }
    batch.Put(ToSlice(kEpochKey), ToSlice(Fixed64Bytes(epoch)))
        .PermitUncheckedError();
    rocksdb::WriteOptions sync;
    sync.sync = true;
    const rocksdb::Status st = db->Write(sync, &batch);
    if (!st.ok()) {
      return absl::UnavailableError(
          absl::StrCat("db/: cannot write the epoch: ", st.ToString()));
    }
    return absl::OkStatus();
  }

  // The log now ends at `log_end` (a replay found damage): no earlier run's
  // answer beyond it has a record behind it.
  absl::Status LowerEpochEnds(uint64_t log_end) {
    absl::MutexLock lock(&epoch_mu);
    rocksdb::WriteBatch batch;
    for (auto& [e, end] : epoch_end) {
      if (end <= log_end) continue;
      end = log_end;
      batch.Put(ToSlice(EpochEndKey(e)), ToSlice(Fixed64Bytes(end)))
          .PermitUncheckedError();
    }
    if (batch.Count() == 0) return absl::OkStatus();
    rocksdb::WriteOptions sync;
    sync.sync = true;
    return FromRocks(db->Write(sync, &batch), "epoch ends");
  }

  absl::Status Write(rocksdb::WriteBatch& batch, std::string_view what) {
    rocksdb::WriteOptions wo;
    wo.sync = false;  // WaitDurable syncs, once for many requests
    const rocksdb::Status st = db->Write(wo, &batch);
    if (!st.ok()) {
      append_errors.fetch_add(1, std::memory_order_relaxed);
      stopped.store(true);
    }
    return FromRocks(st, what);
  }
};

StateStore::StateStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateStore::~StateStore() = default;

absl::StatusOr<std::unique_ptr<StateStore>> StateStore::Open(
    const config::StateConfig& options) {
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "state dir ", options.dir, ": cannot create it: ", ec.message()));
  }
  if (absl::Status st = CheckFormat(options.dir); !st.ok()) return st;
  fs::create_directories(fs::path(options.dir) / "checkpoints", ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("state dir ", options.dir,
                     ": cannot create checkpoints/: ", ec.message()));
  }

  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->answer_expiry = std::make_unique<AnswerExpiry>(options.idempotency_ttl);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // A torn or corrupt tail of the write-ahead log (a crash mid-write) is
  // dropped at the last intact record; everything before it is recovered.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.max_background_jobs = 2;
  db_options.info_log = detail::StderrRocksDbLogger("db");
  db_options.paranoid_checks = true;

  rocksdb::ColumnFamilyOptions answer_options;
  answer_options.compaction_filter = impl->answer_expiry.get();
  answer_options.write_buffer_size = 16 << 20;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {kAnswerFamily, answer_options},
  };
  const std::string db_dir = (fs::path(options.dir) / "db").string();
  // Created beforehand, or RocksDB logs an error for the missing directory.
  fs::create_directories(db_dir, ec);
  rocksdb::DB* db = nullptr;
  rocksdb::Status st =
      rocksdb::DB::Open(db_options, db_dir, descriptors, &impl->families, &db);
  if (!st.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("state dir ", options.dir,
                                                      ": cannot open ", db_dir,
                                                      ": ", st.ToString()));
  }
  impl->db.reset(db);
  impl->answers = impl->families[1];
  if (absl::StatusOr<uint64_t> seed = LoadStreamSeed(*impl->db); seed.ok()) {
    impl->stream_seed = *seed;
  } else {
    return absl::FailedPreconditionError(
        absl::StrCat("state dir ", options.dir, ": ", seed.status().message()));
  }

  absl::StatusOr<std::unique_ptr<SegmentLog>> log =
      SegmentLog::Open((fs::path(options.dir) / "log").string());
  if (!log.ok()) return log.status();
  const uint64_t last = (*log)->last_seq();
  if (absl::Status epoch = impl->StartEpoch(last); !epoch.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("state dir ", options.dir, ": ", epoch.message()));
  }
  impl->recovery = (*log)->recovery();
  {
    absl::MutexLock lock(&impl->append_mu);
    impl->log = *std::move(log);
  }
  impl->written_seq = last;
  {
    absl::MutexLock lock(&impl->sync_mu);
    impl->synced_seq = last;  // recovered from disk, so durable
  }
  return std::unique_ptr<StateStore>(new StateStore(std::move(impl)));
}

const std::string& StateStore::dir() const { return impl_->options.dir; }

uint64_t StateStore::stream_seed() const { return impl_->stream_seed; }

std::string StateStore::checkpoint_dir() const {
  return (fs::path(impl_->options.dir) / "checkpoints").string();
}

absl::StatusOr<uint64_t> StateStore::Append(
    const SegmentLog::PayloadParts& record) {
  absl::MutexLock lock(&impl_->append_mu);
  const uint64_t seq = impl_->log->last_seq() + 1;
  if (absl::Status st = impl_->log->Append(seq, record); !st.ok()) {
    impl_->append_errors.fetch_add(1, std::memory_order_relaxed);
    impl_->stopped.store(true);
    if (impl_->log->sync_failed()) {  // the rollover's sync of the old file
      absl::MutexLock sync_lock(&impl_->sync_mu);
      impl_->sync_errors.fetch_add(1, std::memory_order_relaxed);
      impl_->MarkLogUnsafe(st);
    }
    return st;
  }
  impl_->written_seq.store(seq);
  impl_->log_bytes.fetch_add(record.head.size() + record.tail.size(),
                             std::memory_order_relaxed);
  impl_->records.fetch_add(1, std::memory_order_relaxed);
  return seq;
}

absl::StatusOr<uint64_t> StateStore::Append(std::string_view record,
                                            std::string_view answer_key,
                                            std::string_view answer,
                                            absl::Time now) {
  absl::StatusOr<uint64_t> seq =
      Append(SegmentLog::PayloadParts{record, {}, SegmentLog::PartCrc({})});
  if (!seq.ok()) return seq;
  if (!answer_key.empty()) {
    // Not atomic with the record, and need not be: the record carries the
    // key, and replay stores the answer again if this one is lost.
    PutAnswer(answer_key, answer, now, *seq).IgnoreError();
  }
  return seq;
}

absl::Status StateStore::PutAnswer(std::string_view key,
                                   std::string_view answer, absl::Time now,
                                   uint64_t seq) {
  rocksdb::WriteBatch batch;
  rocksdb::Status st = batch.Put(impl_->answers, ToSlice(key),
                                 EncodeAnswer(now, impl_->epoch, seq, answer));
  if (!st.ok()) return FromRocks(st, "idempotency answer");
  return impl_->Write(batch, "idempotency answer");
}

absl::Status StateStore::WaitDurable(uint64_t seq) {
  Impl& im = *impl_;
  absl::MutexLock lock(&im.sync_mu);
  im.newest_waiter = std::max(im.newest_waiter, seq);
  // Woken once covered, or to lead the next sync when none runs and this
  // is the newest waiter (its sync covers every other). Mutex::Await
  // evaluates this in the unlocking thread, so a finished sync wakes only
  // the requests it covered and one leader, not every waiter: on two
  // cores the wake-ups of a broadcast cost more than the fdatasync.
  auto wake = [&im, seq]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(im.sync_mu) {
    return im.synced_seq >= seq || im.log_unsafe ||
           (!im.syncing && seq >= im.newest_waiter);
  };
  while (im.synced_seq < seq) {
    im.sync_mu.Await(absl::Condition(&wake));
    if (im.synced_seq >= seq) break;
    if (im.log_unsafe) {
      return absl::UnavailableError(absl::StrCat(
          "state log: an fdatasync failed (", im.log_unsafe_reason,
          "); nothing is acknowledged until a checkpoint has saved the "
          "state"));
    }
    // Lead a sync covering everything written so far.
    im.syncing = true;
    im.sync_mu.Unlock();
    uint64_t target = 0;
    absl::StatusOr<int> fd;
    {
      absl::MutexLock append_lock(&im.append_mu);
      target = im.log->last_seq();
      fd = im.log->DupForSync();
    }
    absl::Status st = fd.status();
    if (fd.ok()) {
      if (::fdatasync(*fd) != 0) {
        st = absl::UnavailableError(
            absl::StrCat("state log fdatasync: ", std::strerror(errno)));
      }
      ::close(*fd);
    }
    im.sync_mu.Lock();
    im.syncing = false;
    im.syncs.fetch_add(1, std::memory_order_relaxed);
    if (!st.ok()) {
      // Not retried: after a failed fdatasync Linux may have dropped the
      // pages it could not write and reports the error only once, so a
      // retry can succeed without them (PostgreSQL's "fsyncgate", 2018).
      // Every waiter fails; a checkpoint must save the state first.
      im.sync_errors.fetch_add(1, std::memory_order_relaxed);
      im.MarkLogUnsafe(st);
      return st;
    }
    im.synced_seq = std::max(im.synced_seq, target);
  }
  return absl::OkStatus();
}

uint64_t StateStore::last_seq() const { return impl_->written_seq.load(); }

absl::Status StateStore::ForEachRecord(
    uint64_t after_seq,
    const std::function<absl::Status(uint64_t, std::string_view)>& f) {
  Impl& im = *impl_;
  absl::MutexLock lock(&im.append_mu);
  absl::Status st = im.log->ForEach(after_seq, f);
  // Damage found on the way cut the log: it now ends earlier.
  im.recovery = im.log->recovery();
  const uint64_t last = im.log->last_seq();
  if (last < im.written_seq.load()) {
    im.written_seq = last;
    {
      absl::MutexLock sync_lock(&im.sync_mu);
      im.synced_seq = last;
    }
    if (absl::Status lowered = im.LowerEpochEnds(last);
        !lowered.ok() && st.ok()) {
      st = lowered;
    }
  }
  return st;
}

absl::Status StateStore::TruncateLog(uint64_t seq) {
  // The answers of the records about to go must outlive them.
  if (absl::Status st = FromRocks(impl_->db->SyncWAL(), "idempotency sync");
      !st.ok()) {
    return st;
  }
  absl::MutexLock lock(&impl_->append_mu);
  return impl_->log->DropThrough(seq);
}

const SegmentLogRecovery& StateStore::log_recovery() const {
  return impl_->recovery;
}

std::optional<StoredAnswer> StateStore::FindAnswer(std::string_view key,
                                                   absl::Time now,
                                                   absl::Duration ttl) const {
  std::string value;
  if (!impl_->db
           ->Get(rocksdb::ReadOptions(), impl_->answers, ToSlice(key), &value)
           .ok()) {
    return std::nullopt;
  }
  util::BinaryReader r(value);
  StoredAnswer a;
  a.time = r.Time("answer time");
  const uint64_t epoch = r.Fixed64("answer epoch");
  const uint64_t seq = r.Fixed64("answer seq");
  if (!r.ok() || now - a.time > ttl) return std::nullopt;
  if (epoch == impl_->epoch) {
    absl::MutexLock lock(&impl_->sync_mu);
    a.durable = seq <= impl_->synced_seq;
  } else {
    absl::MutexLock lock(&impl_->epoch_mu);
    auto end = impl_->epoch_end.find(epoch);
    if (end == impl_->epoch_end.end() || seq > end->second) return std::nullopt;
  }
  a.answer = value.substr(value.size() - r.remaining());
  return a;
}

bool StateStore::needs_checkpoint() const {
  return impl_->needs_checkpoint.load();
}

absl::Status StateStore::SyncForCheckpoint(uint64_t seq) {
  if (!needs_checkpoint()) return WaitDurable(seq);
  // The checkpoint stands in for the log; the answers to the records it
  // saves must be on disk before it claims them.
  return FromRocks(impl_->db->SyncWAL(), "idempotency sync");
}

absl::Status StateStore::CheckpointSaved(uint64_t seq) {
  Impl& im = *impl_;
  if (!im.needs_checkpoint.load()) return absl::OkStatus();
  absl::MutexLock append_lock(&im.append_mu);
  // Records after `seq` are in no checkpoint: the next one must save them.
  if (im.log->last_seq() != seq) return absl::OkStatus();
  if (absl::Status st = im.log->StartNewSegment(); !st.ok()) return st;
  absl::MutexLock sync_lock(&im.sync_mu);
  im.synced_seq = std::max(im.synced_seq, seq);
  im.log_unsafe = false;
  im.log_unsafe_reason.clear();
  im.needs_checkpoint.store(false);
  return absl::OkStatus();
}

absl::Status StateStore::CheckWritable() {
  Impl& im = *impl_;
  if (im.needs_checkpoint.load()) {
    absl::MutexLock lock(&im.sync_mu);
    if (im.log_unsafe) {
      return absl::UnavailableError(
          absl::StrCat("state dir ", im.options.dir,
                       ": an fdatasync of the state log "
                       "failed (",
                       im.log_unsafe_reason,
                       "); ingest resumes once a "
                       "checkpoint has saved the state"));
    }
  }
  {
    // statvfs at most every 100 ms (this runs for every request), sooner
    // once the log has grown by half the room left above min_free_bytes,
    // and on every call while below it (so ingest resumes at once).
    absl::MutexLock lock(&im.space_mu);
    const absl::Time now = absl::Now();
    const int64_t grown =
        static_cast<int64_t>(im.log_bytes.load()) - im.space_log_bytes;
    const int64_t room = im.space_available - im.options.min_free_bytes;
    if (room <= 0 || grown > room / 2 ||
        now - im.space_checked >= absl::Milliseconds(100)) {
      std::error_code ec;
      const fs::space_info space = fs::space(im.options.dir, ec);
      im.space_available = ec ? std::numeric_limits<int64_t>::max()
                              : static_cast<int64_t>(space.available);
      im.space_checked = now;
      im.space_log_bytes = static_cast<int64_t>(im.log_bytes.load());
    }
    if (im.space_available < im.options.min_free_bytes) {
      return absl::UnavailableError(absl::StrCat(
          "state dir ", im.options.dir, ": ", im.space_available,
          " bytes free, below state.min_free_bytes (",
          im.options.min_free_bytes, "); ingest resumes when space is freed"));
    }
  }
  if (impl_->stopped.load()) {
    // After a write error RocksDB refuses writes until resumed (the log
    // itself has nothing to resume: its next append simply tries again).
    const rocksdb::Status st = impl_->db->Resume();
    if (!st.ok()) {
      return absl::UnavailableError(
          absl::StrCat("state dir ", impl_->options.dir,
                       ": store stopped after a write error: ", st.ToString()));
    }
    impl_->stopped.store(false);
  }
  return absl::OkStatus();
}

StoreStats StateStore::Stats() const {
  StoreStats s;
  s.log_bytes_appended = impl_->log_bytes.load();
  s.records_appended = impl_->records.load();
  s.syncs = impl_->syncs.load();
  s.append_errors = impl_->append_errors.load();
  s.sync_errors = impl_->sync_errors.load();
  s.store_bytes = DirectoryBytes(impl_->options.dir);
  std::error_code ec;
  const fs::space_info space = fs::space(impl_->options.dir, ec);
  if (!ec) s.disk_free_bytes = static_cast<int64_t>(space.available);
  return s;
}

}  // namespace aiq::state
