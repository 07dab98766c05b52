#include "exporter/app/readiness.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace aiq::app {

Readiness::Condition* Readiness::Find(std::string_view name) {
  for (Condition& c : conditions_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

void Readiness::Add(std::string_view name, std::string waiting_for) {
  absl::MutexLock lock(&mu_);
  if (Condition* c = Find(name)) {
    c->waiting_for = std::move(waiting_for);
    c->met = false;
    return;
  }
  conditions_.push_back({std::string(name), std::move(waiting_for), false});
}

void Readiness::SetWaiting(std::string_view name, std::string waiting_for) {
  absl::MutexLock lock(&mu_);
  if (Condition* c = Find(name); c != nullptr && !c->met) {
    c->waiting_for = std::move(waiting_for);
  }
}

void Readiness::SetMet(std::string_view name) {
  absl::MutexLock lock(&mu_);
  if (Condition* c = Find(name)) c->met = true;
}

std::vector<std::string> Readiness::Unmet() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  for (const Condition& c : conditions_) {
    if (!c.met) out.push_back(absl::StrCat(c.name, ": ", c.waiting_for));
  }
  return out;
}

}  // namespace aiq::app
