// Predictions waiting for their ground truth, keyed by the client's `id`.
// Bounded twice: an entry lives at most `ttl` after it was received, and the
// table holds at most `max_entries` (the oldest is evicted first). Both
// evictions are counted, so nothing leaves silently.
//
// Example, given `const JoinEntry& entry` and `absl::Time now`:
//   JoinTable t(/*max_entries=*/100000, absl::Hours(24));
//   t.Insert("req-1", entry, now);
//   if (JoinEntry* e = t.Find("req-1")) { /* join the label to *e */ }
//   t.Expire(now);
//
// Not thread-safe: owned by a ModelState and used under its lock.
#ifndef AIQ_EXPORTER_MODEL_JOIN_TABLE_H_
#define AIQ_EXPORTER_MODEL_JOIN_TABLE_H_

#include <cstdint>
#include <deque>
#include <optional>
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
};

class JoinTable {
 public:
  JoinTable(int64_t max_entries, absl::Duration ttl)
      : max_entries_(max_entries), ttl_(ttl) {}

  // False when `id` is already present (nothing changes).
  bool Insert(std::string_view id, const JoinEntry& entry, absl::Time now);
  JoinEntry* Find(std::string_view id);

  // Drops entries received more than ttl before `now`.
  void Expire(absl::Time now);

  int64_t size() const { return static_cast<int64_t>(entries_.size()); }
  int64_t capacity() const { return max_entries_; }
  // Entries still waiting for their label.
  int64_t unlabeled() const { return size() - labeled_; }
  // Marks an entry labeled (use this rather than setting the flag, so the
  // count of waiting entries stays right).
  void MarkLabeled(JoinEntry& entry) {
    if (!entry.labeled) ++labeled_;
    entry.labeled = true;
  }
  // Entries dropped before a label arrived (TTL or capacity).
  int64_t evicted_unlabeled() const { return evicted_unlabeled_; }

  // Every entry in insertion order, with the counters (durable state).
  void EncodeTo(util::BinaryWriter& w) const;
  // Replaces the contents with what EncodeTo wrote. Entries beyond this
  // table's capacity are evicted oldest first (and counted) as Insert
  // would; DataLoss on malformed input, which leaves the table unchanged.
  absl::Status DecodeFrom(util::BinaryReader& r);

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

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_JOIN_TABLE_H_
