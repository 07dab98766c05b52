// A clock that tests can drive. Components that expire state (join TTLs,
// sliding windows) take a Clock* instead of calling absl::Now() so tests can
// move time explicitly.
//
// Example:
//   aiq::util::FakeClock clock(absl::FromUnixSeconds(1000));
//   absl::Time start = clock.Now();   // components take a Clock*: &clock
//   clock.Advance(absl::Hours(2));
#ifndef AIQ_EXPORTER_UTIL_CLOCK_H_
#define AIQ_EXPORTER_UTIL_CLOCK_H_

#include <atomic>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace aiq::util {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;

  // The process-wide real clock.
  static Clock* Real();
};

class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start) : nanos_(absl::ToUnixNanos(start)) {}
  absl::Time Now() const override {
    return absl::FromUnixNanos(nanos_.load(std::memory_order_relaxed));
  }
  void Advance(absl::Duration d) {
    nanos_.fetch_add(absl::ToInt64Nanoseconds(d), std::memory_order_relaxed);
  }
  void Set(absl::Time t) {
    nanos_.store(absl::ToUnixNanos(t), std::memory_order_relaxed);
  }

 private:
  std::atomic<int64_t> nanos_;
};

}  // namespace aiq::util

#endif  // AIQ_EXPORTER_UTIL_CLOCK_H_
