// Maps names from client traffic (versions, classes, error reasons, safety
// categories) to dense indices, with a cap so label cardinality cannot grow
// with traffic. Declared names come first; past the cap a name is either
// refused (kReject) or folded into a final "other" entry (kFoldIntoOther).
//
// Example:
//   BoundedInterner reasons({}, /*cap=*/20,
//                           BoundedInterner::Overflow::kFoldIntoOther);
//   int i = reasons.Intern("timeout");   // 0
//   const std::string& name = reasons.names()[i];  // "timeout"
//
// Not thread-safe: callers hold the owning model's lock.
#ifndef AIQ_EXPORTER_MODEL_BOUNDED_INTERNER_H_
#define AIQ_EXPORTER_MODEL_BOUNDED_INTERNER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace aiq::model {

class BoundedInterner {
 public:
  enum class Overflow { kReject, kFoldIntoOther };
  static constexpr int kRejected = -1;

  // With a non-empty `declared` list, only declared names are accepted
  // (others are rejected or folded); otherwise names are learned from
  // traffic until `cap` are known.
  BoundedInterner(std::vector<std::string> declared, int cap,
                  Overflow overflow);

  // The index of `name`, registering it when allowed; kRejected otherwise.
  int Intern(std::string_view name);
  // Whether Intern(name) would succeed; never registers.
  bool CanIntern(std::string_view name) const;
  // The index of a known name, or kRejected; never registers.
  int Find(std::string_view name) const;

  const std::vector<std::string>& names() const { return names_; }
  int size() const { return static_cast<int>(names_.size()); }
  bool learns() const { return learns_; }

 private:
  int Add(std::string_view name);

  bool learns_;
  int cap_;
  Overflow overflow_;
  int other_ = kRejected;  // index of "other" once created
  std::vector<std::string> names_;
  absl::flat_hash_map<std::string, int> index_;
};

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_BOUNDED_INTERNER_H_
