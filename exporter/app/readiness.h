// What /-/ready reports: a registry of named start-up conditions, each
// either met or waiting (with a reason saying what for). The exporter is
// ready when every condition registered so far is met. Components that need
// time before the exporter should take traffic (loading references today;
// restoring state, catching up on Kafka partitions later) add a condition
// and mark it met when done. Thread-safe.
//
// Example:
//   Readiness readiness;
//   readiness.Add("references", "loading the models' reference data");
//   readiness.Unmet();  // {"references: loading the models' reference data"}
//   readiness.SetMet("references");
//   readiness.Unmet();  // {}: ready
#ifndef AIQ_EXPORTER_APP_READINESS_H_
#define AIQ_EXPORTER_APP_READINESS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace aiq::app {

class Readiness {
 public:
  // Registers an unmet condition; `waiting_for` says what it waits for. A
  // name already registered is set back to unmet with the new reason.
  void Add(std::string_view name, std::string waiting_for);
  // Updates what an unmet condition waits for (e.g. progress); no effect on
  // a met or unknown condition.
  void SetWaiting(std::string_view name, std::string waiting_for);
  // Marks a registered condition met; an unknown name is ignored.
  void SetMet(std::string_view name);

  // "name: waiting for" of every unmet condition, in the order added;
  // empty when ready.
  std::vector<std::string> Unmet() const;
  bool ready() const { return Unmet().empty(); }

 private:
  struct Condition {
    std::string name;
    std::string waiting_for;
    bool met = false;
  };
  Condition* Find(std::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<Condition> conditions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aiq::app

#endif  // AIQ_EXPORTER_APP_READINESS_H_
