#include "exporter/model/join_table.h"

#include <algorithm>

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

bool InMemoryJoinTable::Insert(std::string_view id, const JoinEntry& entry,
                               absl::Time now) {
  if (max_entries_ <= 0) return true;  // joining disabled
  // One lookup: inserted first, then the oldest evicted past capacity
  // (never the new entry, which is last in order_).
  auto [it, inserted] = entries_.try_emplace(std::string(id), entry);
  if (!inserted) return false;
  if (it->second.labeled) ++labeled_;
  order_.emplace_back(it->first, now);
  while (static_cast<int64_t>(entries_.size()) > max_entries_) EvictOldest();
  return true;
}

const JoinEntry* InMemoryJoinTable::Find(std::string_view id) {
  auto it = entries_.find(util::ToAbsl(id));
  return it == entries_.end() ? nullptr : &it->second;
}

void InMemoryJoinTable::MarkLabeled(std::string_view id) {
  auto it = entries_.find(util::ToAbsl(id));
  if (it == entries_.end() || it->second.labeled) return;
  it->second.labeled = true;
  ++labeled_;
}

void InMemoryJoinTable::Expire(absl::Time now) {
  const absl::Time cutoff = now - ttl_;
  while (!order_.empty() && order_.front().second < cutoff) EvictOldest();
}

void InMemoryJoinTable::EvictOldest() {
  auto it = entries_.find(order_.front().first);
  if (it->second.labeled) {
    --labeled_;
  } else {
    ++evicted_unlabeled_;
  }
  entries_.erase(it);
  order_.pop_front();
}

void InMemoryJoinTable::EncodeTo(util::BinaryWriter& w) const {
  w.Reserve(order_.size() * 32);  // ids and a few bytes of fields each
  w.U8(static_cast<uint8_t>(JoinTableEncoding::kInMemory));
  w.Signed(evicted_unlabeled_);
  w.Varint(order_.size());
  for (const auto& [id, received] : order_) {
    w.String(id);
    w.Time(received);
    entries_.find(id)->second.EncodeTo(w);
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
  t.entries_.reserve(std::min<size_t>(
      n, max_entries_ > 0 ? static_cast<size_t>(max_entries_) : 0));
  for (size_t i = 0; i < n && r.ok(); ++i) {
    std::string id = r.String("join id");
    const absl::Time received = r.Time("join received");
    JoinEntry e = JoinEntry::DecodeFrom(r);
    if (!r.ok()) break;
    if (max_entries_ <= 0) continue;
    while (static_cast<int64_t>(t.entries_.size()) >= max_entries_) {
      t.EvictOldest();
    }
    const bool labeled = e.labeled;
    if (!t.entries_.try_emplace(id, std::move(e)).second) {
      r.Fail("join id", "duplicate id in the encoded table");
      break;
    }
    if (labeled) ++t.labeled_;
    t.order_.emplace_back(std::move(id), received);
  }
  if (!r.ok()) return r.status();
  t.evicted_unlabeled_ += evicted;
  *this = std::move(t);
  return absl::OkStatus();
}

}  // namespace aiq::model
