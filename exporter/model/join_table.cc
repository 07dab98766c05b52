#include "exporter/model/join_table.h"

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

}  // namespace aiq::model
