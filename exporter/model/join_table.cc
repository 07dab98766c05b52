#include "exporter/model/join_table.h"

#include <algorithm>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "exporter/util/absl_compat.h"

namespace aiq::model {

void JoinEntry::EncodeTo(util::BinaryWriter& w) const {
  w.Signed(version);
  w.Time(timestamp);
  w.Bool(labeled);
  w.Signed(predicted_class);
  w.Bool(predicted_value.has_value());
  if (predicted_value) w.Double(*predicted_value);
  w.Bool(confidence.has_value());
  if (confidence) w.Double(*confidence);
  w.Doubles(probabilities);
  w.Varint(segment.size());
  for (int s : segment) w.Signed(s);
}

JoinEntry JoinEntry::DecodeFrom(util::BinaryReader& r) {
  JoinEntry e;
  e.version = static_cast<int>(r.Int("join version", 0, 1 << 20));
  e.timestamp = r.Time("join timestamp");
  e.labeled = r.Bool("join labeled");
  e.predicted_class =
      static_cast<int>(r.Int("join predicted class", -1, 1 << 20));
  if (r.Bool("join has value")) e.predicted_value = r.Double("join value");
  if (r.Bool("join has confidence")) e.confidence = r.Double("join confidence");
  e.probabilities = r.Doubles("join probabilities");
  e.segment.resize(r.Count("join segments", 1));
  for (int& s : e.segment) {
    s = static_cast<int>(r.Int("join segment", -1, 1 << 20));
  }
  return e;
}

InMemoryJoinTable::InMemoryJoinTable(int64_t max_entries, absl::Duration ttl)
    : max_entries_(max_entries),
      ttl_(ttl),
      ring_(std::make_unique<Ring>()),
      index_(0, SlotHash{}, SlotEq{ring_.get()}) {}

uint32_t InMemoryJoinTable::SlotHash::Of(std::string_view id) {
  // absl::Hash mixes every bit into the low ones, which the index uses.
  return static_cast<uint32_t>(
      absl::Hash<absl::string_view>()(util::ToAbsl(id)));
}

InMemoryJoinTable::Node* InMemoryJoinTable::FindNode(std::string_view id) {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &ring_->At(it->seq);
}

bool InMemoryJoinTable::Insert(std::string_view id, JoinEntry entry,
                               absl::Time now) {
  if (max_entries_ <= 0) return true;  // joining disabled
  const uint32_t hash = SlotHash::Of(id);
  if (index_.find(id, hash) != index_.end()) return false;
  Append(std::string(id), hash, now, std::move(entry));
  return true;
}

void InMemoryJoinTable::Append(std::string id, uint32_t hash,
                               absl::Time received, JoinEntry entry) {
  const auto seq =
      static_cast<uint32_t>(ring_->first_seq + ring_->nodes.size());
  if (entry.labeled) ++labeled_;
  ring_->nodes.push_back(Node{std::move(id), hash, received, std::move(entry)});
  index_.insert(Slot{hash, seq});
  // The new entry is last, so never the one evicted.
  while (size() > max_entries_) EvictOldest();
}

const JoinEntry* InMemoryJoinTable::Find(std::string_view id) {
  const Node* node = FindNode(id);
  return node == nullptr ? nullptr : &node->entry;
}

void InMemoryJoinTable::MarkLabeled(std::string_view id) {
  Node* node = FindNode(id);
  if (node == nullptr || node->entry.labeled) return;
  node->entry.labeled = true;
  ++labeled_;
}

void InMemoryJoinTable::Expire(absl::Time now) {
  const absl::Time cutoff = now - ttl_;
  while (!ring_->nodes.empty() && ring_->nodes.front().received < cutoff) {
    EvictOldest();
  }
}

void InMemoryJoinTable::EvictOldest() {
  const Node& oldest = ring_->nodes.front();
  if (oldest.entry.labeled) {
    --labeled_;
  } else {
    ++evicted_unlabeled_;
  }
  // Found by its slot, so the lookup compares sequence numbers, not ids.
  index_.erase(Slot{oldest.hash, static_cast<uint32_t>(ring_->first_seq)});
  ring_->nodes.pop_front();
  ++ring_->first_seq;
}

void InMemoryJoinTable::EncodeTo(util::BinaryWriter& w) const {
  w.Reserve(ring_->nodes.size() * 32);  // ids and a few bytes of fields each
  w.U8(static_cast<uint8_t>(JoinTableEncoding::kInMemory));
  w.Signed(evicted_unlabeled_);
  w.Varint(ring_->nodes.size());
  for (const Node& node : ring_->nodes) {
    w.String(node.id);
    w.Time(node.received);
    node.entry.EncodeTo(w);
  }
}

absl::Status InMemoryJoinTable::DecodeFrom(util::BinaryReader& r) {
  const uint8_t encoding = r.U8("join table encoding");
  if (!r.ok()) return r.status();
  if (encoding != static_cast<uint8_t>(JoinTableEncoding::kInMemory)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "join table encoding ", encoding, " is not the in-memory table's"));
  }
  InMemoryJoinTable t(max_entries_, ttl_);
  const int64_t evicted = r.Signed("join evicted");
  // An entry takes at least 12 bytes (id length, times, flags).
  const size_t n = r.Count("join entries", 12);
  t.index_.reserve(std::min<size_t>(
      n, max_entries_ > 0 ? static_cast<size_t>(max_entries_) : 0));
  for (size_t i = 0; i < n && r.ok(); ++i) {
    std::string id = r.String("join id");
    const absl::Time received = r.Time("join received");
    JoinEntry e = JoinEntry::DecodeFrom(r);
    if (!r.ok()) break;
    if (max_entries_ <= 0) continue;
    const uint32_t hash = SlotHash::Of(id);
    if (t.index_.find(std::string_view(id), hash) != t.index_.end()) {
      r.Fail("join id", "duplicate id in the encoded table");
      break;
    }
    t.Append(std::move(id), hash, received, std::move(e));
  }
  if (!r.ok()) return r.status();
  t.evicted_unlabeled_ += evicted;
  *this = std::move(t);
  return absl::OkStatus();
}

}  // namespace aiq::model
