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
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
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
  virtual bool Insert(std::string_view id, const JoinEntry& entry,
                      absl::Time now) = 0;
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
  InMemoryJoinTable(int64_t max_entries, absl::Duration ttl)
      : max_entries_(max_entries), ttl_(ttl) {}

  bool Insert(std::string_view id, const JoinEntry& entry,
              absl::Time now) override;
  const JoinEntry* Find(std::string_view id) override;
  void MarkLabeled(std::string_view id) override;
  void Expire(absl::Time now) override;

  int64_t size() const override {
    return static_cast<int64_t>(entries_.size());
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
  void EvictOldest();

  int64_t max_entries_;
  absl::Duration ttl_;
  absl::flat_hash_map<std::string, JoinEntry> entries_;
  // Insertion order with receive time: entries leave only from the front,
  // so this and entries_ always hold the same ids.
  std::deque<std::pair<std::string, absl::Time>> order_;
  int64_t evicted_unlabeled_ = 0;
  int64_t labeled_ = 0;  // entries with labeled == true
};

// The first byte of each implementation's encoding, so one never reads the
// other's.
enum class JoinTableEncoding : uint8_t { kInMemory = 1, kOnDisk = 2 };

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_JOIN_TABLE_H_
