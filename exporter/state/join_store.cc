#include "exporter/state/join_store.h"

#include <algorithm>
#include <filesystem>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "exporter/util/absl_compat.h"
#include "exporter/util/binary_codec.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace aiq::state {
namespace fs = std::filesystem;

// Keys, one database for every model; `m` is the model's name with its
// length in front (a varint), so no model's keys are a prefix of another's:
//   m 'i' <id>                 -> varint order, time received, JoinEntry
//   m 'o' <order, fixed64 BE>  -> time received, bool labeled, id
// A table's order numbers grow by one per insert and entries leave only
// from the front (TTL and capacity evict the oldest), so its live entries
// are exactly the orders [front, back): the counters in memory say where
// the oldest is without a scan, and a seek to it never crosses tombstones.
// The id keys and the order keys are in column families of their own:
// only id lookups need Bloom filters (order keys are only scanned), and
// the filters are what the block cache must hold for lookups to be fast.
struct JoinStore::Db {
  std::shared_ptr<rocksdb::Cache> cache;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> families;  // default, order
  rocksdb::ColumnFamilyHandle* ids = nullptr;
  rocksdb::ColumnFamilyHandle* order = nullptr;
  rocksdb::WriteOptions write;
  rocksdb::ReadOptions read;

  ~Db() {
    if (!db) return;
    for (rocksdb::ColumnFamilyHandle* h : families) {
      db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    db->Close().PermitUncheckedError();
  }
};

namespace {

constexpr char kIdTag = 'i';
constexpr char kOrderTag = 'o';
constexpr std::string_view kCheckpointPrefix = "join-";

rocksdb::Slice ToSlice(std::string_view s) { return {s.data(), s.size()}; }

std::string ModelPrefix(std::string_view model) {
  util::BinaryWriter w;
  w.String(model);
  return w.Release();
}

void AppendBigEndian(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

// The smallest key greater than every key that starts with `prefix`.
std::string PrefixEnd(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xff) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return prefix;  // "": no bound
}

absl::Status FromRocks(const rocksdb::Status& st, std::string_view what) {
  if (st.ok()) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat(util::ToAbsl(what), ": ", st.ToString()));
}

}  // namespace

namespace detail {

class DiskJoinTable final : public model::JoinTable {
 public:
  DiskJoinTable(std::shared_ptr<JoinStore> store, const std::string& model,
                int64_t max_entries, absl::Duration ttl)
      : store_(std::move(store)),
        prefix_(ModelPrefix(model)),
        max_entries_(max_entries),
        ttl_(ttl) {}
  ~DiskJoinTable() override {
    absl::MutexLock lock(&store_->tables_mu_);
    auto& tables = store_->tables_;
    tables.erase(std::remove(tables.begin(), tables.end(), this), tables.end());
  }

  bool Insert(std::string_view id, const model::JoinEntry& entry,
              absl::Time now) override;
  const model::JoinEntry* Find(std::string_view id) override;
  void MarkLabeled(std::string_view id) override;
  void Expire(absl::Time now) override;
  void Prefetch(std::span<const std::string_view> ids) override;

  int64_t size() const override { return static_cast<int64_t>(back_ - front_); }
  int64_t capacity() const override { return max_entries_; }
  int64_t unlabeled() const override { return size() - labeled_; }
  int64_t evicted_unlabeled() const override { return evicted_unlabeled_; }

  // The counters only: the entries are in the database (and its
  // checkpoint, taken at the same moment).
  void EncodeTo(util::BinaryWriter& w) const override;
  absl::Status DecodeFrom(util::BinaryReader& r) override;

  const std::string& prefix() const { return prefix_; }
  bool restored() const { return restored_; }
  void ForgetRestored() { restored_ = false; }

 private:
  // What the database holds for one id.
  struct Stored {
    bool found = false;
    uint64_t order = 0;
    absl::Time received;
    model::JoinEntry entry;
  };

  std::string IdKey(std::string_view id) const {
    std::string k = prefix_;
    k.push_back(kIdTag);
    k.append(id);
    return k;
  }
  std::string OrderKey(uint64_t order) const {
    std::string k = prefix_;
    k.push_back(kOrderTag);
    AppendBigEndian(k, order);
    return k;
  }
  static std::string IdValue(const Stored& s) {
    util::BinaryWriter w;
    w.Varint(s.order);
    w.Time(s.received);
    s.entry.EncodeTo(w);
    return w.Release();
  }
  static std::string OrderValue(const Stored& s, std::string_view id) {
    util::BinaryWriter w;
    w.Time(s.received);
    w.Bool(s.entry.labeled);
    w.String(id);
    return w.Release();
  }
  // Parses an id value into `out` (found = true); false when damaged.
  static bool ParseIdValue(std::string_view bytes, Stored& out);

  // The entry for `id`: from the prefetched batch, else read now.
  Stored* Lookup(std::string_view id);
  // Evicts from the front while `more()` says so (TTL, capacity).
  template <typename More>
  void EvictWhile(More more);
  void Write(rocksdb::WriteBatch& batch, std::string_view what);

  const std::shared_ptr<JoinStore> store_;
  const std::string prefix_;
  const int64_t max_entries_;
  const absl::Duration ttl_;

  uint64_t front_ = 0;  // order of the oldest entry
  uint64_t back_ = 0;   // order the next insert gets
  absl::Time oldest_received_ = absl::InfinitePast();  // when size() > 0
  int64_t labeled_ = 0;
  int64_t evicted_unlabeled_ = 0;
  bool restored_ = false;  // by DecodeFrom since the store's last Restore

  // One request's ids, read in one batch (Prefetch), kept current by every
  // write until the next Prefetch.
  absl::node_hash_map<std::string, Stored> prefetched_;
  Stored scratch_;  // Lookup of an id outside the batch
};

bool DiskJoinTable::ParseIdValue(std::string_view bytes, Stored& out) {
  util::BinaryReader r(bytes);
  out.order = r.Varint("join order");
  out.received = r.Time("join received");
  out.entry = model::JoinEntry::DecodeFrom(r);
  out.found = r.Finish().ok();
  return out.found;
}

DiskJoinTable::Stored* DiskJoinTable::Lookup(std::string_view id) {
  if (auto it = prefetched_.find(util::ToAbsl(id)); it != prefetched_.end()) {
    return &it->second;
  }
  scratch_ = Stored{};
  std::string value;
  JoinStore::Db& db = *store_->db_;
  const rocksdb::Status st =
      db.db->Get(db.read, db.ids, ToSlice(IdKey(id)), &value);
  if (st.ok()) {
    if (!ParseIdValue(value, scratch_)) {
      store_->NoteFailure("join store: damaged entry", std::string(id));
    }
  } else if (!st.IsNotFound()) {
    store_->NoteFailure("join store: read", st.ToString());
  }
  return &scratch_;
}

void DiskJoinTable::Prefetch(std::span<const std::string_view> ids) {
  prefetched_.clear();
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (std::string_view id : ids) {
    if (prefetched_.try_emplace(util::ToAbsl(id)).second) {
      keys.push_back(IdKey(id));
    }
  }
  if (keys.empty()) return;
  std::sort(keys.begin(), keys.end());
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  JoinStore::Db& db = *store_->db_;
  db.db->MultiGet(db.read, db.ids, keys.size(), slices.data(), values.data(),
                  statuses.data(),
                  /*sorted_input=*/true);
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string_view id =
        std::string_view(keys[i]).substr(prefix_.size() + 1);
    if (statuses[i].ok()) {
      if (!ParseIdValue(values[i].ToStringView(),
                        prefetched_.find(util::ToAbsl(id))->second)) {
        store_->NoteFailure("join store: damaged entry", id);
      }
    } else if (!statuses[i].IsNotFound()) {
      store_->NoteFailure("join store: read", statuses[i].ToString());
    }
  }
}

const model::JoinEntry* DiskJoinTable::Find(std::string_view id) {
  Stored* s = Lookup(id);
  return s->found ? &s->entry : nullptr;
}

bool DiskJoinTable::Insert(std::string_view id, const model::JoinEntry& entry,
                           absl::Time now) {
  if (max_entries_ <= 0) return true;  // joining disabled
  if (Lookup(id)->found) return false;
  EvictWhile([&] { return size() >= max_entries_; });
  Stored s;
  s.found = true;
  s.order = back_;
  s.received = now;
  s.entry = entry;
  rocksdb::WriteBatch batch;
  JoinStore::Db& db = *store_->db_;
  batch.Put(db.ids, ToSlice(IdKey(id)), ToSlice(IdValue(s)));
  batch.Put(db.order, ToSlice(OrderKey(s.order)), ToSlice(OrderValue(s, id)));
  Write(batch, "join store: insert");
  if (size() == 0) oldest_received_ = now;
  ++back_;
  if (entry.labeled) ++labeled_;
  if (auto it = prefetched_.find(util::ToAbsl(id)); it != prefetched_.end()) {
    it->second = std::move(s);
  }
  return true;
}

void DiskJoinTable::MarkLabeled(std::string_view id) {
  Stored* s = Lookup(id);
  if (!s->found || s->entry.labeled) return;
  s->entry.labeled = true;
  rocksdb::WriteBatch batch;
  JoinStore::Db& db = *store_->db_;
  batch.Put(db.ids, ToSlice(IdKey(id)), ToSlice(IdValue(*s)));
  batch.Put(db.order, ToSlice(OrderKey(s->order)), ToSlice(OrderValue(*s, id)));
  Write(batch, "join store: label");
  ++labeled_;
}

void DiskJoinTable::Expire(absl::Time now) {
  const absl::Time cutoff = now - ttl_;
  EvictWhile([&] { return oldest_received_ < cutoff; });
}

template <typename More>
void DiskJoinTable::EvictWhile(More more) {
  if (size() == 0 || !more()) return;
  JoinStore::Db& db = *store_->db_;
  const std::string end = PrefixEnd(prefix_ + kOrderTag);
  const rocksdb::Slice upper = ToSlice(end);
  rocksdb::ReadOptions ro = db.read;
  ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db.db->NewIterator(ro, db.order));
  it->Seek(ToSlice(OrderKey(front_)));
  rocksdb::WriteBatch batch;
  while (size() > 0 && more()) {
    const std::string key = OrderKey(front_);
    if (!it->Valid() || it->key().ToStringView() != key) {
      // The database lost an entry the counters know of: drop it from the
      // counters too (counted as evicted), so the table stays usable.
      store_->NoteFailure("join store: entry missing at order",
                          absl::StrCat(front_));
      ++evicted_unlabeled_;
      ++front_;
      continue;
    }
    util::BinaryReader r(it->value().ToStringView());
    r.Time("join received");
    const bool labeled = r.Bool("join labeled");
    const std::string id = r.String("join id");
    if (labeled) {
      --labeled_;
    } else {
      ++evicted_unlabeled_;
    }
    batch.Delete(db.order, ToSlice(key));
    batch.Delete(db.ids, ToSlice(IdKey(id)));
    if (auto p = prefetched_.find(id); p != prefetched_.end()) {
      p->second = Stored{};
    }
    ++front_;
    it->Next();
    if (size() > 0 && it->Valid()) {
      util::BinaryReader next(it->value().ToStringView());
      oldest_received_ = next.Time("join received");
    }
  }
  if (size() == 0) oldest_received_ = absl::InfinitePast();
  Write(batch, "join store: evict");
}

void DiskJoinTable::Write(rocksdb::WriteBatch& batch, std::string_view what) {
  JoinStore::Db& db = *store_->db_;
  const rocksdb::Status st = db.db->Write(db.write, &batch);
  if (!st.ok()) store_->NoteFailure(what, st.ToString());
}

void DiskJoinTable::EncodeTo(util::BinaryWriter& w) const {
  w.U8(static_cast<uint8_t>(model::JoinTableEncoding::kOnDisk));
  w.Varint(front_);
  w.Varint(back_);
  w.Time(oldest_received_);
  w.Signed(labeled_);
  w.Signed(evicted_unlabeled_);
}

absl::Status DiskJoinTable::DecodeFrom(util::BinaryReader& r) {
  const uint8_t encoding = r.U8("join table encoding");
  if (!r.ok()) return r.status();
  if (encoding != static_cast<uint8_t>(model::JoinTableEncoding::kOnDisk)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "join table encoding ", encoding, " is not the on-disk table's"));
  }
  const uint64_t front = r.Varint("join front");
  const uint64_t back = r.Varint("join back");
  const absl::Time oldest = r.Time("join oldest received");
  const int64_t labeled = r.Signed("join labeled");
  const int64_t evicted = r.Signed("join evicted");
  if (r.ok() && (front > back || labeled < 0 ||
                 labeled > static_cast<int64_t>(back - front))) {
    r.Fail("join counters", "inconsistent");
  }
  if (!r.ok()) return r.status();
  front_ = front;
  back_ = back;
  oldest_received_ = oldest;
  labeled_ = labeled;
  evicted_unlabeled_ = evicted;
  prefetched_.clear();
  restored_ = true;
  // A smaller capacity than when the checkpoint was taken: the oldest go,
  // counted, as Insert would have evicted them.
  const int64_t keep = std::max<int64_t>(max_entries_, 0);
  EvictWhile([&] { return size() > keep; });
  return absl::OkStatus();
}

}  // namespace detail

JoinStore::JoinStore(std::string dir, int64_t memory_bytes)
    : dir_(std::move(dir)), memory_bytes_(memory_bytes) {}

JoinStore::~JoinStore() = default;

absl::StatusOr<std::shared_ptr<JoinStore>> JoinStore::Open(
    std::string dir, int64_t memory_bytes) {
  std::shared_ptr<JoinStore> store(new JoinStore(std::move(dir), memory_bytes));
  if (absl::Status st = store->OpenDb(); !st.ok()) return st;
  return store;
}

absl::Status JoinStore::OpenDb() {
  auto db = std::make_unique<Db>();
  // The budget: half for the block cache (which also holds the index and
  // filter blocks), half for the memtables. Writes stall rather than
  // exceed it while a full memtable is flushed.
  db->cache = rocksdb::NewLRUCache(static_cast<size_t>(memory_bytes_ / 2));
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = db->cache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Most prediction ids are new: a filter answers "absent" without a read.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.paranoid_checks = true;
  options.max_background_jobs = 2;
  options.max_open_files = 512;
  options.keep_log_file_num = 2;
  // What the live database holds is discarded at the next start anyway.
  options.avoid_flush_during_shutdown = true;
  // Each family gets a quarter of the budget for its two memtables.
  rocksdb::ColumnFamilyOptions family;
  family.write_buffer_size = static_cast<size_t>(memory_bytes_ / 8);
  family.max_write_buffer_number = 2;
  family.level_compaction_dynamic_level_bytes = true;
  rocksdb::ColumnFamilyOptions ids = family;
  ids.memtable_whole_key_filtering = true;
  ids.memtable_prefix_bloom_size_ratio = 0.05;
  ids.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  rocksdb::ColumnFamilyOptions order = family;
  table.filter_policy.reset();
  order.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  const std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, ids}, {"order", order}};
  db->write.disableWAL = true;  // the state log is the write-ahead log
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status st =
      rocksdb::DB::Open(options, dir_, descriptors, &db->families, &raw);
  if (!st.ok()) {
    return absl::DataLossError(
        absl::StrCat("join store ", dir_, ": cannot open: ", st.ToString()));
  }
  db->db.reset(raw);
  db->ids = db->families[0];
  db->order = db->families[1];
  db_ = std::move(db);
  return absl::OkStatus();
}

std::unique_ptr<model::JoinTable> JoinStore::TableFor(const std::string& model,
                                                      int64_t max_entries,
                                                      absl::Duration ttl) {
  auto table = std::make_unique<detail::DiskJoinTable>(shared_from_this(),
                                                       model, max_entries, ttl);
  absl::MutexLock lock(&tables_mu_);
  tables_.push_back(table.get());
  return table;
}

absl::Status JoinStore::Restore(const std::string& from) {
  db_.reset();  // closes the live database
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("join store ", dir_, ": cannot clear: ", ec.message()));
  }
  fs::create_directories(dir_, ec);
  absl::Status copied = absl::OkStatus();
  if (!from.empty()) {
    // SST files never change once written, so the live database may share
    // them with the checkpoint; the MANIFEST and the rest are appended to,
    // so they are copied.
    for (fs::directory_iterator it(from, ec), end; !ec && it != end;
         it.increment(ec)) {
      const fs::path target = fs::path(dir_) / it->path().filename();
      std::error_code fec;
      if (it->path().extension() == ".sst") {
        fs::create_hard_link(it->path(), target, fec);
      } else {
        fs::copy_file(it->path(), target, fec);
      }
      if (fec) {
        copied = absl::DataLossError(absl::StrCat("join store: cannot restore ",
                                                  it->path().string(), ": ",
                                                  fec.message()));
        break;
      }
    }
    if (ec && copied.ok()) {
      copied = absl::DataLossError(
          absl::StrCat("join store: cannot read ", from, ": ", ec.message()));
    }
  }
  {
    absl::MutexLock lock(&tables_mu_);
    for (detail::DiskJoinTable* t : tables_) t->ForgetRestored();
  }
  absl::Status opened = absl::OkStatus();
  if (copied.ok()) {
    opened = OpenDb();
    if (opened.ok()) return absl::OkStatus();
    opened = absl::DataLossError(absl::StrCat(
        "join store: checkpoint ", from, " does not open: ", opened.message()));
  }
  // Leave an empty, working database behind either way.
  db_.reset();
  fs::remove_all(dir_, ec);
  fs::create_directories(dir_, ec);
  if (absl::Status st = OpenDb(); !st.ok()) return st;
  return copied.ok() ? opened : copied;
}

absl::Status JoinStore::DropUnclaimed() {
  absl::flat_hash_set<std::string> claimed;
  {
    absl::MutexLock lock(&tables_mu_);
    for (const detail::DiskJoinTable* t : tables_) {
      if (t->restored()) claimed.insert(t->prefix());
    }
  }
  rocksdb::WriteBatch batch;
  for (rocksdb::ColumnFamilyHandle* family : {db_->ids, db_->order}) {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->db->NewIterator(db_->read, family));
    for (it->SeekToFirst(); it->Valid();) {
      util::BinaryReader r(it->key().ToStringView());
      const std::string model = r.String("model");
      if (!r.ok()) {
        // Not a key this store writes: skip just it.
        batch.Delete(family, it->key());
        it->Next();
        continue;
      }
      const std::string prefix = ModelPrefix(model);
      const std::string end = PrefixEnd(prefix);
      if (!claimed.contains(prefix)) {
        batch.DeleteRange(family, ToSlice(prefix), ToSlice(end));
      }
      it->Seek(ToSlice(end));
    }
    if (!it->status().ok()) {
      return FromRocks(it->status(), "join store: scan");
    }
  }
  return FromRocks(db_->db->Write(db_->write, &batch), "join store: drop");
}

absl::Status JoinStore::Checkpoint(const std::string& to) {
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::remove_all(to + ".tmp", ec);  // what a failed attempt may leave
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status st = rocksdb::Checkpoint::Create(db_->db.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // Flushes the memtables first (log_size_for_flush = 0): without a WAL,
  // that is what puts every write so far into the checkpoint.
  if (st.ok()) {
    st = checkpoint->CreateCheckpoint(fs::absolute(to).string(),
                                      /*log_size_for_flush=*/0);
  }
  return FromRocks(st, absl::StrCat("join store: checkpoint to ", to));
}

absl::Status JoinStore::Health() const {
  absl::MutexLock lock(&failure_mu_);
  if (failure_.empty()) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      failure_,
      "; the join table on disk no longer matches the state, so ingest is "
      "refused until a restart rebuilds it from the checkpoint and log"));
}

void JoinStore::NoteFailure(std::string_view what, std::string_view status) {
  absl::MutexLock lock(&failure_mu_);
  if (failure_.empty()) {
    failure_ = absl::StrCat(util::ToAbsl(what), ": ", util::ToAbsl(status));
  }
}

JoinStoreStats JoinStore::Stats() const {
  JoinStoreStats s;
  uint64_t v = 0;
  if (db_->db->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables",
                                        &v)) {
    s.memtable_bytes = static_cast<int64_t>(v);
  }
  s.block_cache_bytes = static_cast<int64_t>(db_->cache->GetUsage());
  if (db_->db->GetAggregatedIntProperty("rocksdb.live-sst-files-size", &v)) {
    s.live_sst_bytes = static_cast<int64_t>(v);
  }
  return s;
}

std::string JoinCheckpointPath(const std::string& checkpoint_dir,
                               uint64_t seq) {
  return (fs::path(checkpoint_dir) /
          absl::StrCat(util::ToAbsl(kCheckpointPrefix), seq))
      .string();
}

void PruneJoinCheckpoints(const std::string& checkpoint_dir,
                          std::span<const uint64_t> keep) {
  std::error_code ec;
  std::vector<fs::path> remove;
  for (fs::directory_iterator it(checkpoint_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.starts_with(kCheckpointPrefix)) continue;
    const bool kept = std::any_of(keep.begin(), keep.end(), [&](uint64_t s) {
      return name == absl::StrCat(util::ToAbsl(kCheckpointPrefix), s);
    });
    if (!kept) remove.push_back(it->path());
  }
  for (const fs::path& p : remove) fs::remove_all(p, ec);
}

}  // namespace aiq::state
