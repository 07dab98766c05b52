#include "exporter/state/join_store.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <deque>
#include <filesystem>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "exporter/state/rocksdb_logger.h"
#include "exporter/util/absl_compat.h"
#include "exporter/util/binary_codec.h"
#include "exporter/util/parallel_for.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace aiq::state {
namespace fs = std::filesystem;

namespace {

// Told by RocksDB when a background flush or compaction fails (the database
// then refuses writes), so CheckWritable calls Resume, which takes the
// database's mutex, only then rather than on every request.
class BackgroundErrors final : public rocksdb::EventListener {
 public:
  void OnBackgroundError(rocksdb::BackgroundErrorReason /*reason*/,
                         rocksdb::Status* error) override {
    if (error != nullptr && !error->ok()) raised.store(true);
  }
  std::atomic<bool> raised{false};
};

}  // namespace

// Keys, one database for every model; `m` is the model's name with its
// length in front (a varint), so no model's keys are a prefix of another's:
//   m 'i' <id>                 -> varint order, time received, JoinEntry
//   m 'o' <order, fixed64 BE>  -> time received, id
// A table's order numbers grow by one per insert and entries leave only
// from the front (TTL and capacity evict the oldest), so its live entries
// are exactly the orders [front, back): the counters in memory say where
// the oldest is without a scan, and a seek to it never crosses tombstones.
// Whether an entry has its label is a bit in memory, by order (OrderBits),
// so a label costs a read and no write.
// The id keys and the order keys are in column families of their own:
// only id lookups need Bloom filters (order keys are only scanned), and
// the filters are what the block cache must hold for lookups to be fast.
struct JoinStore::Db {
  std::shared_ptr<BackgroundErrors> errors;
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

// One bit per live entry, by order: whether it has its label. At most
// max_join_entries / 8 bytes per model.
class OrderBits {
 public:
  bool Get(uint64_t order) const {
    return (words_[order / 64 - base_word_] >> (order % 64)) & 1;
  }
  void Set(uint64_t order) {
    words_[order / 64 - base_word_] |= uint64_t{1} << (order % 64);
  }
  // Makes room for `order` (its bit starts clear).
  void Extend(uint64_t order) {
    if (words_.empty()) base_word_ = order / 64;
    while (order / 64 >= base_word_ + words_.size()) words_.push_back(0);
  }
  // Forgets the words wholly before `front`.
  void DropBefore(uint64_t front) {
    while (!words_.empty() && base_word_ < front / 64) {
      words_.pop_front();
      ++base_word_;
    }
  }
  // The words covering [front, back), then nothing else.
  void EncodeTo(util::BinaryWriter& w, uint64_t front, uint64_t back) const {
    if (front == back) {
      w.Varint(0);
      return;
    }
    const uint64_t first = front / 64, last = (back - 1) / 64;
    w.Varint(last - first + 1);
    for (uint64_t i = first; i <= last; ++i) w.Fixed64(words_[i - base_word_]);
  }
  // Returns the number of bits set in [front, back); check r.ok().
  int64_t DecodeFrom(util::BinaryReader& r, uint64_t front, uint64_t back) {
    const size_t n = r.Count("join labeled words", 8);
    const uint64_t expected =
        front == back ? 0 : (back - 1) / 64 - front / 64 + 1;
    if (r.ok() && n != expected) r.Fail("join labeled words", "wrong count");
    words_.clear();
    base_word_ = front / 64;
    int64_t set = 0;
    for (size_t i = 0; i < n && r.ok(); ++i) {
      uint64_t word = r.Fixed64("join labeled word");
      // Only the live entries' bits count.
      const uint64_t lo = (base_word_ + i) * 64;
      for (int b = 0; b < 64; ++b) {
        if (lo + b < front || lo + b >= back) word &= ~(uint64_t{1} << b);
      }
      set += std::popcount(word);
      words_.push_back(word);
    }
    return set;
  }

 private:
  std::deque<uint64_t> words_;
  uint64_t base_word_ = 0;  // order / 64 of words_[0]
};

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
    Flush();
    absl::MutexLock lock(&store_->tables_mu_);
    auto& tables = store_->tables_;
    tables.erase(std::remove(tables.begin(), tables.end(), this), tables.end());
  }

  bool Insert(std::string_view id, model::JoinEntry entry,
              absl::Time now) override;
  const model::JoinEntry* Find(std::string_view id) override;
  void MarkLabeled(std::string_view id) override;
  void Expire(absl::Time now) override;
  void Prefetch(std::span<const std::string_view> ids) override;
  void Warm(std::span<const std::string_view> ids) const override;
  bool batches() const override { return true; }

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
  // The store's database was replaced: nothing read before holds.
  void OnStoreRestored() {
    restored_ = false;
    writes_.fetch_add(1, std::memory_order_release);
  }

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
    util::AppendBigEndian64(k, order);
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
    w.String(id);
    return w.Release();
  }
  // Parses an id value into `out` (found: a live entry); false when
  // damaged.
  bool ParseIdValue(std::string_view bytes, Stored& out) const;

  // Reads `keys` (sorted, unique) in one batch: nullopt where absent.
  static std::vector<std::optional<std::string>> ReadBatch(
      JoinStore::Db& db, const std::vector<std::string>& keys,
      std::vector<rocksdb::Status>& statuses);
  // The entry for `id`: from the prefetched batch, else read now.
  Stored* Lookup(std::string_view id);
  // Evicts from the front while `more()` says so (TTL, capacity).
  template <typename More>
  void EvictWhile(More more);
  // Writes of a prefetched batch's ids are held back in pending_ and
  // applied in one write (Flush); others are applied at once.
  void Put(std::string_view id, const Stored& s);
  void Flush();
  void Write(rocksdb::WriteBatch& batch, std::string_view what);

  const std::shared_ptr<JoinStore> store_;
  const std::string prefix_;
  const int64_t max_entries_;
  const absl::Duration ttl_;

  uint64_t front_ = 0;  // order of the oldest entry
  uint64_t back_ = 0;   // order the next insert gets
  absl::Time oldest_received_ = absl::InfinitePast();  // when size() > 0
  OrderBits labeled_bits_;
  int64_t labeled_ = 0;  // bits set in labeled_bits_
  int64_t evicted_unlabeled_ = 0;
  bool restored_ = false;  // by DecodeFrom since the store's last Restore

  // One request's ids, read in one batch (Prefetch), kept current by every
  // write until the next Prefetch.
  absl::node_hash_map<std::string, Stored> prefetched_;
  Stored scratch_;  // Lookup of an id outside the batch
  // Held back: the batch's inserts and the evictions' deletes. While
  // anything is held back, prefetched_ (not the database) is what is true
  // for the batch's ids, and the entries from pending_first_order_ on are
  // only here: eviction writes them out before it reaches them.
  rocksdb::WriteBatch pending_;
  uint64_t pending_first_order_ = ~uint64_t{0};

  // What Warm read (id key -> value, nullopt: absent), for Prefetch to use
  // instead of reading again: valid while writes_ still equals warmed_at_,
  // i.e. no write changed the table's keys since. Labels write nothing
  // (OrderBits), so for a stream of labels the reads all happen in Warm,
  // outside the locks that serialize Apply.
  static constexpr size_t kMaxWarmed = 1 << 16;
  std::atomic<uint64_t> writes_{0};  // database writes of this table
  mutable absl::Mutex warm_mu_;
  mutable absl::flat_hash_map<std::string, std::optional<std::string>> warmed_
      ABSL_GUARDED_BY(warm_mu_);
  mutable uint64_t warmed_at_ ABSL_GUARDED_BY(warm_mu_) = ~uint64_t{0};
};

bool DiskJoinTable::ParseIdValue(std::string_view bytes, Stored& out) const {
  util::BinaryReader r(bytes);
  out.order = r.Varint("join order");
  out.received = r.Time("join received");
  out.entry = model::JoinEntry::DecodeFrom(r);
  if (!r.Finish().ok()) {
    out.found = false;
    return false;
  }
  // Outside the live range: evicted, its delete still held back.
  out.found = out.order >= front_ && out.order < back_;
  if (out.found) out.entry.labeled = labeled_bits_.Get(out.order);
  return true;
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

// Reads `keys` (sorted, unique) in one batch: nullopt where absent. A
// large batch is read in two halves at once: the lookups are most of a
// label join's time, and RocksDB reads are thread-safe, so one client's
// request then has both cores of a small server (a thread start, tens of
// microseconds, against milliseconds of reads).
std::vector<std::optional<std::string>> DiskJoinTable::ReadBatch(
    JoinStore::Db& db, const std::vector<std::string>& keys,
    std::vector<rocksdb::Status>& statuses) {
  constexpr size_t kSplitAbove = 256;
  const size_t n = keys.size();
  std::vector<std::optional<std::string>> out(n);
  statuses.assign(n, rocksdb::Status());
  const size_t pieces = n > kSplitAbove ? 2 : 1;
  const size_t step = (n + pieces - 1) / pieces;
  auto read = [&](size_t piece) {
    const size_t begin = std::min(n, piece * step);
    const size_t count = std::min(n, begin + step) - begin;
    if (count == 0) return;
    std::vector<rocksdb::Slice> slices(keys.begin() + begin,
                                       keys.begin() + begin + count);
    std::vector<rocksdb::PinnableSlice> values(count);
    db.db->MultiGet(db.read, db.ids, count, slices.data(), values.data(),
                    statuses.data() + begin, /*sorted_input=*/true);
    for (size_t i = 0; i < count; ++i) {
      if (statuses[begin + i].ok()) out[begin + i] = values[i].ToString();
    }
  };
  if (pieces == 1) {
    read(0);
  } else {
    util::ParallelFor(pieces, /*max_threads=*/0, read);
  }
  return out;
}

void DiskJoinTable::Prefetch(std::span<const std::string_view> ids) {
  Flush();
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
  auto id_of = [&](const std::string& key) {
    return std::string_view(key).substr(prefix_.size() + 1);
  };
  auto take = [&](std::string_view id, const std::optional<std::string>& v) {
    if (v && !ParseIdValue(*v, prefetched_.find(util::ToAbsl(id))->second)) {
      store_->NoteFailure("join store: damaged entry", id);
    }
  };
  // What Warm read, if no write changed the table since.
  std::vector<std::string> unread;
  {
    absl::MutexLock lock(&warm_mu_);
    const bool valid = warmed_at_ == writes_.load(std::memory_order_acquire);
    for (const std::string& key : keys) {
      auto it = valid ? warmed_.find(key) : warmed_.end();
      if (it == warmed_.end()) {
        unread.push_back(key);
        continue;
      }
      take(id_of(key), it->second);
      warmed_.erase(it);
    }
    if (!valid) warmed_.clear();
  }
  if (unread.empty()) return;
  std::vector<rocksdb::Status> statuses;
  const std::vector<std::optional<std::string>> values =
      ReadBatch(*store_->db_, unread, statuses);
  for (size_t i = 0; i < unread.size(); ++i) {
    if (!statuses[i].ok() && !statuses[i].IsNotFound()) {
      store_->NoteFailure("join store: read", statuses[i].ToString());
    }
    take(id_of(unread[i]), values[i]);
  }
}

void DiskJoinTable::Warm(std::span<const std::string_view> ids) const {
  // Reads only what is immutable (prefix_) or thread-safe (the database,
  // writes_, warmed_ under warm_mu_).
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (std::string_view id : ids) keys.push_back(IdKey(id));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  const uint64_t before = writes_.load(std::memory_order_acquire);
  std::vector<rocksdb::Status> statuses;
  std::vector<std::optional<std::string>> values =
      ReadBatch(*store_->db_, keys, statuses);
  absl::MutexLock lock(&warm_mu_);
  // A write finished meanwhile: what was read may be stale. (One that
  // finishes after this check makes Prefetch ignore what is kept here.)
  if (writes_.load(std::memory_order_acquire) != before) return;
  if (warmed_at_ != before) {
    warmed_.clear();
    warmed_at_ = before;
  }
  for (size_t i = 0; i < keys.size() && warmed_.size() < kMaxWarmed; ++i) {
    if (statuses[i].ok() || statuses[i].IsNotFound()) {
      warmed_.insert_or_assign(std::move(keys[i]), std::move(values[i]));
    }
  }
}

const model::JoinEntry* DiskJoinTable::Find(std::string_view id) {
  Stored* s = Lookup(id);
  return s->found ? &s->entry : nullptr;
}

bool DiskJoinTable::Insert(std::string_view id, model::JoinEntry entry,
                           absl::Time now) {
  if (max_entries_ <= 0) return true;  // joining disabled
  if (Lookup(id)->found) return false;
  EvictWhile([&] { return size() >= max_entries_; });
  Stored s;
  s.found = true;
  s.order = back_;
  s.received = now;
  const bool labeled = entry.labeled;
  s.entry = std::move(entry);
  s.entry.labeled = false;  // the bit says
  Put(id, s);
  if (size() == 0) oldest_received_ = now;
  labeled_bits_.Extend(back_);
  if (labeled) {
    labeled_bits_.Set(back_);
    ++labeled_;
    s.entry.labeled = true;
  }
  ++back_;
  if (auto it = prefetched_.find(util::ToAbsl(id)); it != prefetched_.end()) {
    it->second = std::move(s);
  }
  return true;
}

void DiskJoinTable::MarkLabeled(std::string_view id) {
  Stored* s = Lookup(id);
  if (!s->found || s->entry.labeled) return;
  s->entry.labeled = true;
  labeled_bits_.Set(s->order);
  ++labeled_;
}

void DiskJoinTable::Put(std::string_view id, const Stored& s) {
  JoinStore::Db& db = *store_->db_;
  const bool batched = prefetched_.contains(util::ToAbsl(id));
  rocksdb::WriteBatch now;
  rocksdb::WriteBatch& batch = batched ? pending_ : now;
  batch.Put(db.ids, ToSlice(IdKey(id)), ToSlice(IdValue(s)));
  batch.Put(db.order, ToSlice(OrderKey(s.order)), ToSlice(OrderValue(s, id)));
  if (batched) {
    pending_first_order_ = std::min(pending_first_order_, s.order);
  } else {
    Write(now, "join store: insert");
  }
}

void DiskJoinTable::Flush() {
  if (pending_.Count() > 0) Write(pending_, "join store: write");
  pending_.Clear();
  pending_first_order_ = ~uint64_t{0};
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
  std::unique_ptr<rocksdb::Iterator> it;
  auto seek_front = [&] {
    it.reset(db.db->NewIterator(ro, db.order));
    it->Seek(ToSlice(OrderKey(front_)));
  };
  if (front_ >= pending_first_order_) Flush();
  seek_front();
  while (size() > 0 && more()) {
    const std::string key = OrderKey(front_);
    if (!it->Valid() || it->key().ToStringView() != key) {
      // The database lost an entry the counters know of: drop it from the
      // counters too (counted as evicted), so the table stays usable.
      store_->NoteFailure("join store: entry missing at order",
                          absl::StrCat(front_));
      if (labeled_bits_.Get(front_)) {
        --labeled_;
      } else {
        ++evicted_unlabeled_;
      }
      ++front_;
      labeled_bits_.DropBefore(front_);
      continue;
    }
    util::BinaryReader r(it->value().ToStringView());
    r.Time("join received");
    const std::string id = r.String("join id");
    const bool labeled = labeled_bits_.Get(front_);
    if (auto p = prefetched_.find(id); p != prefetched_.end()) {
      p->second = Stored{};
    }
    if (labeled) {
      --labeled_;
    } else {
      ++evicted_unlabeled_;
    }
    pending_.Delete(db.order, ToSlice(key));
    pending_.Delete(db.ids, ToSlice(IdKey(id)));
    ++front_;
    labeled_bits_.DropBefore(front_);
    if (front_ >= pending_first_order_) {
      // The rest was inserted by this batch: let the database see it.
      Flush();
      seek_front();
    } else {
      it->Next();
    }
    if (size() > 0 && it->Valid()) {
      util::BinaryReader next(it->value().ToStringView());
      oldest_received_ = next.Time("join received");
    }
  }
  if (size() == 0) oldest_received_ = absl::InfinitePast();
  if (prefetched_.empty()) Flush();  // not in a batch: write now
}

void DiskJoinTable::Write(rocksdb::WriteBatch& batch, std::string_view what) {
  JoinStore::Db& db = *store_->db_;
  const rocksdb::Status st = db.db->Write(db.write, &batch);
  // After the write, so a Warm that read before it sees the count move.
  writes_.fetch_add(1, std::memory_order_release);
  if (!st.ok()) store_->NoteFailure(what, st.ToString());
}

void DiskJoinTable::EncodeTo(util::BinaryWriter& w) const {
  w.U8(static_cast<uint8_t>(model::JoinTableEncoding::kOnDisk));
  w.Varint(front_);
  w.Varint(back_);
  w.Time(oldest_received_);
  w.Signed(evicted_unlabeled_);
  labeled_bits_.EncodeTo(w, front_, back_);
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
  const int64_t evicted = r.Signed("join evicted");
  if (r.ok() && front > back) r.Fail("join counters", "front after back");
  OrderBits bits;
  const int64_t labeled = r.ok() ? bits.DecodeFrom(r, front, back) : 0;
  if (!r.ok()) return r.status();
  Flush();
  front_ = front;
  back_ = back;
  oldest_received_ = oldest;
  labeled_bits_ = std::move(bits);
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
  // Few shards: each shard's share of the cache must hold the blocks
  // being used, or they are read again and again.
  db->cache = rocksdb::NewLRUCache(static_cast<size_t>(memory_bytes_ / 2),
                                   /*num_shard_bits=*/2);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = db->cache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Filters and indexes in small partitions, so a lookup loads the 4 KiB
  // it needs instead of a whole file's filter (megabytes for a large file),
  // and the cache keeps the partitions in use.
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.pin_top_level_index_and_filter = true;
  // Most prediction ids are new: a filter answers "absent" without a read.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::DBOptions options;
  db->errors = std::make_shared<BackgroundErrors>();
  options.listeners.push_back(db->errors);
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.paranoid_checks = true;
  options.max_background_jobs = 2;
  options.max_open_files = 512;
  options.info_log = detail::StderrRocksDbLogger("join");
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
  // Created beforehand, or RocksDB logs an error for the missing directory.
  std::error_code dir_error;
  fs::create_directories(dir_, dir_error);
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
    for (detail::DiskJoinTable* t : tables_) t->OnStoreRestored();
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
  // Without a WAL, only a flush puts the writes so far into the files the
  // checkpoint links. CreateCheckpoint flushes too (log_size_for_flush =
  // 0), but after RocksDB 7.8 recovered from a background error (a full
  // disk), Flush with wait = true was seen to return before flushing, and
  // the checkpoint then linked the files from before the writes since
  // (tests/state/disk_full_test.py). So flush here, and until the
  // memtables are empty (nothing writes meanwhile: the caller holds the
  // commit lock), for at most 10 s.
  rocksdb::Status st;
  for (int attempt = 0;; ++attempt) {
    rocksdb::FlushOptions flush;
    flush.wait = true;
    st = db_->db->Flush(flush, db_->families);
    if (!st.ok()) break;
    uint64_t in_memory = 0;
    for (rocksdb::ColumnFamilyHandle* family : db_->families) {
      uint64_t active = 0, immutable = 0;
      if (!db_->db->GetIntProperty(
              family, "rocksdb.num-entries-active-mem-table", &active) ||
          !db_->db->GetIntProperty(family, "rocksdb.num-entries-imm-mem-tables",
                                   &immutable)) {
        return absl::InternalError(
            "join store: memtable size properties missing");
      }
      in_memory += active + immutable;
    }
    if (in_memory == 0) break;
    if (attempt == 1000) {
      st = rocksdb::Status::Incomplete(absl::StrCat(
          in_memory, " entries still in memory after flushing for 10 s"));
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  rocksdb::Checkpoint* raw = nullptr;
  if (st.ok()) st = rocksdb::Checkpoint::Create(db_->db.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
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

absl::Status JoinStore::CheckWritable() {
  if (absl::Status st = Health(); !st.ok()) return st;
  if (!db_->errors->raised.exchange(false)) return absl::OkStatus();
  // A background error stopped the database: try to resume it (an error
  // raised meanwhile is resumed here too, or raises the flag again).
  const rocksdb::Status st = db_->db->Resume();
  if (st.ok()) return absl::OkStatus();
  db_->errors->raised.store(true);
  return absl::UnavailableError(
      absl::StrCat("join store ", dir_, ": stopped after a background error: ",
                   st.ToString(), "; ingest resumes when it recovers"));
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
  if (db_->db->GetAggregatedIntProperty("rocksdb.compaction-pending", &v)) {
    s.compaction_pending = v > 0;
  }
  if (db_->db->GetIntProperty("rocksdb.num-running-compactions", &v)) {
    s.running_compactions = static_cast<int64_t>(v);
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
