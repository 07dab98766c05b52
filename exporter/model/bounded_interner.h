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
// Checkpoints keep what was learned; the declared names, cap and overflow
// policy come from the constructor (and are checked on decode).
//
// Example (a checkpoint), given `const BoundedInterner& learned`:
//   util::BinaryWriter w;
//   learned.EncodeTo(w);
//   BoundedInterner restored({}, /*cap=*/20,
//                            BoundedInterner::Overflow::kFoldIntoOther);
//   util::BinaryReader r(w.data());
//   absl::Status st = restored.DecodeFrom(r);  // same names, same indices
//
// Not thread-safe: callers hold the owning model's lock.
#ifndef AIQ_EXPORTER_MODEL_BOUNDED_INTERNER_H_
#define AIQ_EXPORTER_MODEL_BOUNDED_INTERNER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "exporter/util/binary_codec.h"

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
  int cap() const { return cap_; }
  bool learns() const { return learns_; }

  // Writes the overflow policy and declared names (to recognise a
  // mismatch), the names added since construction (learned ones and
  // "other") and which one is "other".
  void EncodeTo(util::BinaryWriter& w) const;
  // Restores what EncodeTo wrote into an interner constructed with the same
  // arguments. DataLoss when the input is truncated or malformed;
  // FailedPrecondition when the declared names or the overflow policy
  // differ, or more names were learned than this interner's cap allows.
  // Unchanged on error.
  absl::Status DecodeFrom(util::BinaryReader& r);

 private:
  int Add(std::string_view name);

  // Up to this many names, Find scans names_ instead of hashing.
  static constexpr size_t kLinearScanMax = 8;

  int num_declared_;  // names_[0, num_declared_) came from the constructor
  bool learns_;
  int cap_;
  Overflow overflow_;
  int other_ = kRejected;  // index of "other" once created
  std::vector<std::string> names_;
  absl::flat_hash_map<std::string, int> index_;
};

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_BOUNDED_INTERNER_H_
