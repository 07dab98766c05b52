// Predictions waiting for their ground truth, keyed by the client's `id`.
// Bounded twice: an entry lives at most `ttl` after it was received, and the
// table holds at most `max_entries` (the oldest is evicted first). Both
// evictions are counted, so nothing leaves silently.
//
// JoinTable is the interface a ModelState joins through; InMemoryJoinTable
// keeps the entries in a hash map (the default), and with durable state the
// entries live on disk (state/join_store.h) so RAM stays bounded however
// many predictions wait.
//
// Example, given `const JoinEntry& entry` and `absl::Time now`:
//   InMemoryJoinTable t(/*max_entries=*/100000, absl::Hours(24));
//   t.Insert("req-1", entry, now);
//   if (const JoinEntry* e = t.Find("req-1")) {
//     /* join the label to *e, then: */ t.MarkLabeled("req-1");
//   }
//   t.Expire(now);
//
// Not thread-safe: owned by a ModelState and used under its lock.
#ifndef AIQ_EXPORTER_MODEL_JOIN_TABLE_H_
#define AIQ_EXPORTER_MODEL_JOIN_TABLE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "exporter/util/binary_codec.h"

namespace aiq::model {

// What a label or feedback event needs from its prediction.
struct JoinEntry {
  int version = 0;
  absl::Time timestamp;  // the prediction's event time
  bool labeled = false;
  int predicted_class = -1;               // classification; -1 = none
  std::optional<double> predicted_value;  // regression
  std::optional<double> confidence;
  std::vector<double> probabilities;  // by class index
  std::vector<int> segment;           // per declared segment attribute

  // The fields above, for both implementations' storage.
  void EncodeTo(util::BinaryWriter& w) const;
  // Check r.ok() after.
  static JoinEntry DecodeFrom(util::BinaryReader& r);
};

class JoinTable {
 public:
  virtual ~JoinTable() = default;

  // False when `id` is already present (nothing changes).
  virtual bool Insert(std::string_view id, JoinEntry entry, absl::Time now) = 0;
  // The entry for `id`, or nullptr. Valid until the next non-const call.
  virtual const JoinEntry* Find(std::string_view id) = 0;
  // Marks the entry for `id` labeled; nothing when absent.
  virtual void MarkLabeled(std::string_view id) = 0;
  // Drops entries received more than ttl before `now`.
  virtual void Expire(absl::Time now) = 0;

  // Says that the next calls are about `ids` (one request's events), so a
  // table on disk can read them in one batch and write its changes in one
  // batch too. Changes may be held back until the next Prefetch call:
  // Prefetch({}) ends the batch and applies them.
  virtual void Prefetch(std::span<const std::string_view> ids) { (void)ids; }
  // Whether Prefetch and Warm do anything (callers skip collecting ids).
  virtual bool batches() const { return false; }
  // Loads what looking up `ids` reads into caches, changing nothing, so the
  // lookups under the owner's lock are quick. Safe without that lock and
  // concurrently with any call.
  virtual void Warm(std::span<const std::string_view> ids) const { (void)ids; }

  virtual int64_t size() const = 0;
  virtual int64_t capacity() const = 0;
  // Entries still waiting for their label.
  virtual int64_t unlabeled() const = 0;
  // Entries dropped before a label arrived (TTL or capacity).
  virtual int64_t evicted_unlabeled() const = 0;

  // Durable state. DecodeFrom replaces the contents with what EncodeTo
  // wrote; DataLoss on malformed input (the table is unchanged),
  // FailedPrecondition when the encoding is another implementation's.
  virtual void EncodeTo(util::BinaryWriter& w) const = 0;
  virtual absl::Status DecodeFrom(util::BinaryReader& r) = 0;
};

class InMemoryJoinTable final : public JoinTable {
 public:
  InMemoryJoinTable(int64_t max_entries, absl::Duration ttl);

  bool Insert(std::string_view id, JoinEntry entry, absl::Time now) override;
  const JoinEntry* Find(std::string_view id) override;
  void MarkLabeled(std::string_view id) override;
  void Expire(absl::Time now) override;

  int64_t size() const override {
    return static_cast<int64_t>(ring_->nodes.size());
  }
  int64_t capacity() const override { return max_entries_; }
  int64_t unlabeled() const override { return size() - labeled_; }
  int64_t evicted_unlabeled() const override { return evicted_unlabeled_; }

  // Every entry in insertion order, with the counters. Entries beyond this
  // table's capacity are evicted on decode, oldest first (and counted), as
  // Insert would.
  void EncodeTo(util::BinaryWriter& w) const override;
  absl::Status DecodeFrom(util::BinaryReader& r) override;

 private:
  struct Node {
    std::string id;
    uint32_t hash;  // SlotHash::Of(id), kept for the eviction
    absl::Time received;
    JoinEntry entry;
  };
  // The entries in insertion order: they leave only from the front, so the
  // entry with sequence number s is nodes[s - first_seq].
  struct Ring {
    std::deque<Node> nodes;
    uint64_t first_seq = 0;
    // Modulo 2^32: the ring never holds 2^32 entries.
    const Node& At(uint32_t seq) const {
      return nodes[static_cast<uint32_t>(seq - first_seq)];
    }
    Node& At(uint32_t seq) {
      return nodes[static_cast<uint32_t>(seq - first_seq)];
    }
  };
  // One index slot: 8 bytes where a map from id to entry would take 150,
  // so the index of a full table stays in cache (a 100,000-entry table's
  // is 1 MB). `hash` is the id's (its low 32 bits) so rehashing reads no
  // node; `seq` is the entry's sequence number modulo 2^32.
  struct Slot {
    uint32_t hash;
    uint32_t seq;
  };
  // Hash and equality over slots and, for lookups, ids: an id matches the
  // slot whose node holds it. They read the ring through a pointer, which
  // a move of the table keeps valid (the ring is on the heap).
  struct SlotHash {
    using is_transparent = void;
    static uint32_t Of(std::string_view id);
    size_t operator()(const Slot& s) const { return s.hash; }
    size_t operator()(std::string_view id) const { return Of(id); }
  };
  struct SlotEq {
    using is_transparent = void;
    const Ring* ring;
    bool operator()(const Slot& a, const Slot& b) const {
      return a.seq == b.seq;
    }
    bool operator()(const Slot& a, std::string_view id) const {
      return ring->At(a.seq).id == id;
    }
    bool operator()(std::string_view id, const Slot& a) const {
      return (*this)(a, id);
    }
  };
  using Index = absl::flat_hash_set<Slot, SlotHash, SlotEq>;

  Node* FindNode(std::string_view id);
  // Appends `id` (absent from the index; `hash` is SlotHash::Of(id)) and
  // evicts past capacity.
  void Append(std::string id, uint32_t hash, absl::Time received,
              JoinEntry entry);
  void EvictOldest();

  int64_t max_entries_;
  absl::Duration ttl_;
  std::unique_ptr<Ring> ring_;
  Index index_;  // holds exactly the ids in ring_
  int64_t evicted_unlabeled_ = 0;
  int64_t labeled_ = 0;  // entries with labeled == true
};

// The first byte of each implementation's encoding, so one never reads the
// other's.
enum class JoinTableEncoding : uint8_t { kInMemory = 1, kOnDisk = 2 };

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_JOIN_TABLE_H_
