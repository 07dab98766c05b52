#include "exporter/model/bounded_interner.h"

#include "exporter/util/absl_compat.h"

namespace aiq::model {

BoundedInterner::BoundedInterner(std::vector<std::string> declared, int cap,
                                 Overflow overflow)
    : learns_(declared.empty()), cap_(cap), overflow_(overflow) {
  for (const std::string& n : declared) Add(n);
}

int BoundedInterner::Add(std::string_view name) {
  const int i = static_cast<int>(names_.size());
  names_.emplace_back(name);
  index_.emplace(names_.back(), i);
  return i;
}

int BoundedInterner::Find(std::string_view name) const {
  auto it = index_.find(util::ToAbsl(name));
  return it == index_.end() ? kRejected : it->second;
}

bool BoundedInterner::CanIntern(std::string_view name) const {
  return Find(name) != kRejected || overflow_ == Overflow::kFoldIntoOther ||
         (learns_ && size() < cap_);
}

int BoundedInterner::Intern(std::string_view name) {
  if (int i = Find(name); i != kRejected && i != other_) return i;
  // "other" is only created once the cap is reached, so it comes last.
  if (learns_ && other_ < 0 && size() < cap_) return Add(name);
  if (overflow_ == Overflow::kReject) return kRejected;
  if (other_ < 0) {
    other_ = Find("other");  // traffic may have used the name itself
    if (other_ < 0) other_ = Add("other");
  }
  return other_;
}

}  // namespace aiq::model
