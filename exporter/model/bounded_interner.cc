#include "exporter/model/bounded_interner.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "exporter/util/absl_compat.h"

namespace aiq::model {

BoundedInterner::BoundedInterner(std::vector<std::string> declared, int cap,
                                 Overflow overflow)
    : num_declared_(static_cast<int>(declared.size())),
      learns_(declared.empty()),
      cap_(cap),
      overflow_(overflow) {
  for (const std::string& n : declared) Add(n);
}

int BoundedInterner::Add(std::string_view name) {
  const int i = static_cast<int>(names_.size());
  names_.emplace_back(name);
  index_.emplace(names_.back(), i);
  return i;
}

int BoundedInterner::Find(std::string_view name) const {
  // A handful of names (a model's versions and classes, typically) are
  // found sooner by comparing them than by hashing: this runs several
  // times per event.
  if (names_.size() <= kLinearScanMax) {
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == name) return static_cast<int>(i);
    }
    return kRejected;
  }
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

void BoundedInterner::EncodeTo(util::BinaryWriter& w) const {
  w.Signed(static_cast<int64_t>(overflow_));
  const auto declared_end = names_.begin() + num_declared_;
  w.Strings(std::vector<std::string>(names_.begin(), declared_end));
  w.Strings(std::vector<std::string>(declared_end, names_.end()));
  w.Signed(other_);
}

absl::Status BoundedInterner::DecodeFrom(util::BinaryReader& r) {
  const int64_t overflow = r.Int("interner overflow policy", 0, 1);
  const std::vector<std::string> declared =
      r.Strings("interner declared names");
  if (!r.ok()) return r.status();
  if (overflow != static_cast<int64_t>(overflow_)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "names: the checkpoint ",
        overflow == static_cast<int64_t>(Overflow::kReject) ? "rejects"
                                                            : "folds",
        " names past the cap, this configuration ",
        overflow_ == Overflow::kReject ? "rejects" : "folds", " them"));
  }
  const std::vector<std::string> mine(names_.begin(),
                                      names_.begin() + num_declared_);
  if (declared != mine) {
    return absl::FailedPreconditionError(absl::StrCat(
        "names: the checkpoint declares [", absl::StrJoin(declared, ", "),
        "], the configuration [", absl::StrJoin(mine, ", "), "]"));
  }
  std::vector<std::string> added = r.Strings("interner added names");
  const size_t num_added = added.size();
  const int64_t total = num_declared_ + static_cast<int64_t>(num_added);
  const int64_t other = r.Int("interner other index", kRejected, total - 1);
  if (!r.ok()) return r.status();

  std::vector<std::string> names = mine;
  absl::flat_hash_map<std::string, int> index;
  for (size_t i = 0; i < names.size(); ++i) {
    index.emplace(names[i], static_cast<int>(i));
  }
  for (std::string& n : added) {
    if (!index.emplace(n, static_cast<int>(names.size())).second) {
      r.Fail("interner added names", absl::StrCat("'", n, "' appears twice"));
      return r.status();
    }
    names.push_back(std::move(n));
  }
  if (other >= 0 && names[static_cast<size_t>(other)] != "other") {
    r.Fail("interner other index",
           absl::StrCat("names '", names[static_cast<size_t>(other)], "'"));
    return r.status();
  }
  if (!learns_ &&
      !(num_added == 0 || (num_added == 1 && other == num_declared_))) {
    r.Fail("interner added names",
           "only \"other\" can be added to declared names");
    return r.status();
  }
  // "other" may be appended once the cap is reached.
  const int64_t allowed = int64_t{cap_} + (other >= num_declared_ ? 1 : 0);
  if (learns_ && static_cast<int64_t>(num_added) > allowed) {
    return absl::FailedPreconditionError(
        absl::StrCat("names: the checkpoint learned ", num_added,
                     " names, more than this configuration's cap of ", cap_));
  }
  names_ = std::move(names);
  index_ = std::move(index);
  other_ = static_cast<int>(other);
  return absl::OkStatus();
}

}  // namespace aiq::model
