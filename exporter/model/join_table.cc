#include "exporter/model/join_table.h"

#include <algorithm>

#include "exporter/util/absl_compat.h"

namespace aiq::model {

bool JoinTable::Insert(std::string_view id, const JoinEntry& entry,
                       absl::Time now) {
  if (max_entries_ <= 0) return true;  // joining disabled
  if (entries_.contains(util::ToAbsl(id))) return false;
  while (static_cast<int64_t>(entries_.size()) >= max_entries_) EvictOldest();
  entries_.emplace(std::string(id), entry);
  order_.emplace_back(std::string(id), now);
  return true;
}

JoinEntry* JoinTable::Find(std::string_view id) {
  auto it = entries_.find(util::ToAbsl(id));
  return it == entries_.end() ? nullptr : &it->second;
}

void JoinTable::Expire(absl::Time now) {
  const absl::Time cutoff = now - ttl_;
  while (!order_.empty() && order_.front().second < cutoff) EvictOldest();
}

void JoinTable::EvictOldest() {
  auto it = entries_.find(order_.front().first);
  if (it->second.labeled) {
    --labeled_;
  } else {
    ++evicted_unlabeled_;
  }
  entries_.erase(it);
  order_.pop_front();
}

void JoinTable::EncodeTo(util::BinaryWriter& w) const {
  w.Reserve(order_.size() * 32);  // ids and a few bytes of fields each
  w.Signed(evicted_unlabeled_);
  w.Varint(order_.size());
  for (const auto& [id, received] : order_) {
    const JoinEntry& e = entries_.find(id)->second;
    w.String(id);
    w.Time(received);
    w.Signed(e.version);
    w.Time(e.timestamp);
    w.Bool(e.labeled);
    w.Signed(e.predicted_class);
    w.Bool(e.predicted_value.has_value());
    if (e.predicted_value) w.Double(*e.predicted_value);
    w.Bool(e.confidence.has_value());
    if (e.confidence) w.Double(*e.confidence);
    w.Doubles(e.probabilities);
    w.Varint(e.segment.size());
    for (int s : e.segment) w.Signed(s);
  }
}

absl::Status JoinTable::DecodeFrom(util::BinaryReader& r) {
  JoinTable t(max_entries_, ttl_);
  const int64_t evicted = r.Signed("join evicted");
  // An entry takes at least 12 bytes (id length, times, flags).
  const size_t n = r.Count("join entries", 12);
  t.entries_.reserve(std::min<size_t>(
      n, max_entries_ > 0 ? static_cast<size_t>(max_entries_) : 0));
  for (size_t i = 0; i < n && r.ok(); ++i) {
    std::string id = r.String("join id");
    const absl::Time received = r.Time("join received");
    JoinEntry e;
    e.version = static_cast<int>(r.Int("join version", 0, 1 << 20));
    e.timestamp = r.Time("join timestamp");
    e.labeled = r.Bool("join labeled");
    e.predicted_class =
        static_cast<int>(r.Int("join predicted class", -1, 1 << 20));
    if (r.Bool("join has value")) e.predicted_value = r.Double("join value");
    if (r.Bool("join has confidence")) {
      e.confidence = r.Double("join confidence");
    }
    e.probabilities = r.Doubles("join probabilities");
    e.segment.resize(r.Count("join segments", 1));
    for (int& s : e.segment) {
      s = static_cast<int>(r.Int("join segment", -1, 1 << 20));
    }
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
