// A sliding time window made of B buckets of equal width (duration / B),
// aligned to the Unix epoch. Statistics add to the current bucket and read
// the live ones; a bucket is recycled when time moves B or more buckets
// past it. The window therefore covers between duration - duration/B and
// duration of history, and expires a bucket at a time.
//
// Example, given `absl::Time now`:
//   struct Counts {
//     int64_t n = 0;
//   };
//   SlidingWindow<Counts> w(absl::Hours(1), /*buckets=*/12,
//                           [] { return Counts{}; });
//   w.Current(now).n += 1;
//   int64_t n = 0;
//   w.ForEachLive(now, [&](const Counts& c) { n += c.n; });
//
// Not thread-safe: owned by a ModelState and used under its lock.
#ifndef AIQ_EXPORTER_MODEL_SLIDING_WINDOW_H_
#define AIQ_EXPORTER_MODEL_SLIDING_WINDOW_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace aiq::model {

// The bucket arithmetic, shared by windows that manage their own storage.
class BucketClock {
 public:
  BucketClock(absl::Duration duration, int buckets)
      : width_ns_(
            std::max<int64_t>(1, absl::ToInt64Nanoseconds(duration / buckets))),
        buckets_(buckets) {}

  // Monotone bucket number of time t.
  int64_t BucketOf(absl::Time t) const {
    const int64_t ns = absl::ToUnixNanos(t);
    // Floor division, so times before the epoch still bucket correctly.
    return ns >= 0 ? ns / width_ns_ : -((-ns + width_ns_ - 1) / width_ns_);
  }
  // Whether bucket `id` is inside the window that ends in bucket `now_id`.
  bool IsLive(int64_t id, int64_t now_id) const {
    return id <= now_id && id > now_id - buckets_;
  }
  int buckets() const { return buckets_; }
  absl::Duration width() const { return absl::Nanoseconds(width_ns_); }

 private:
  int64_t width_ns_;
  int buckets_;
};

template <typename T>
class SlidingWindow {
 public:
  SlidingWindow(absl::Duration duration, int buckets, std::function<T()> make)
      : clock_(duration, buckets), make_(std::move(make)) {
    slots_.reserve(static_cast<size_t>(buckets));
    for (int i = 0; i < buckets; ++i) slots_.push_back({kNever, make_()});
  }

  // The bucket that time `now` falls in, recycled first if it held an
  // older bucket.
  T& Current(absl::Time now) {
    const int64_t id = clock_.BucketOf(now);
    Slot& s = slots_[SlotOf(id)];
    if (s.id != id) {
      s.id = id;
      s.value = make_();
    }
    return s.value;
  }

  // Calls f(const T&) for each bucket inside the window at `now`.
  template <typename F>
  void ForEachLive(absl::Time now, F&& f) const {
    const int64_t now_id = clock_.BucketOf(now);
    for (const Slot& s : slots_) {
      if (s.id != kNever && clock_.IsLive(s.id, now_id)) f(s.value);
    }
  }

 private:
  static constexpr int64_t kNever = INT64_MIN;
  struct Slot {
    int64_t id;
    T value;
  };
  size_t SlotOf(int64_t id) const {
    const int64_t b = clock_.buckets();
    return static_cast<size_t>(((id % b) + b) % b);
  }

  BucketClock clock_;
  std::function<T()> make_;
  std::vector<Slot> slots_;
};

}  // namespace aiq::model

#endif  // AIQ_EXPORTER_MODEL_SLIDING_WINDOW_H_
