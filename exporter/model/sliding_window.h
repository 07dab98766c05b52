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
// Checkpoints write every bucket's number and value, with a callback per
// value.
//
// Example (a checkpoint), given `const SlidingWindow<int64_t>& window`:
//   util::BinaryWriter w;
//   window.EncodeTo(w, [](util::BinaryWriter& out, int64_t n) {
//     out.Signed(n);
//   });
//   SlidingWindow<int64_t> restored(absl::Hours(1), /*buckets=*/12,
//                                   [] { return int64_t{0}; });
//   util::BinaryReader r(w.data());
//   absl::Status st =
//       restored.DecodeFrom(r, [](util::BinaryReader& in, int64_t& n) {
//         n = in.Signed("count");
//         return in.status();
//       });
//
// Not thread-safe: owned by a ModelState and used under its lock.
#ifndef AIQ_EXPORTER_MODEL_SLIDING_WINDOW_H_
#define AIQ_EXPORTER_MODEL_SLIDING_WINDOW_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "exporter/util/absl_compat.h"
#include "exporter/util/binary_codec.h"

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

  // A clock has no dynamic state; its shape goes into checkpoints so that
  // state from a window of other buckets is recognised.
  void EncodeShape(util::BinaryWriter& w) const {
    w.Signed(buckets_);
    w.Signed(width_ns_);
  }
  // DataLoss when the input is truncated; FailedPrecondition naming `what`
  // when the bucket count or width differs from this clock's.
  absl::Status CheckShape(util::BinaryReader& r, std::string_view what) const {
    const int64_t buckets = r.Signed("window buckets");
    const int64_t width_ns = r.Signed("window bucket width");
    if (!r.ok()) return r.status();
    if (buckets != buckets_ || width_ns != width_ns_) {
      return absl::FailedPreconditionError(absl::StrCat(
          util::ToAbsl(what), ": the checkpoint has ", buckets, " buckets of ",
          absl::FormatDuration(absl::Nanoseconds(width_ns)), ", this window ",
          buckets_, " of ", absl::FormatDuration(width())));
    }
    return absl::OkStatus();
  }

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

  // Writes the shape, then every bucket ever used (expired ones too: which
  // are live depends on the time of the next read) with encode(w, value).
  template <typename Encode>
  void EncodeTo(util::BinaryWriter& w, Encode&& encode) const {
    clock_.EncodeShape(w);
    size_t used = 0;
    for (const Slot& s : slots_) used += s.id != kNever ? 1 : 0;
    w.Varint(used);
    for (const Slot& s : slots_) {
      if (s.id == kNever) continue;
      w.Signed(s.id);
      encode(w, s.value);
    }
  }
  // Restores what EncodeTo wrote into a window constructed with the same
  // arguments; decode(r, value) fills a value made by `make` and returns the
  // reader's status (or its own FailedPrecondition). DataLoss when the input
  // is truncated or malformed, FailedPrecondition when the shape differs.
  // Unchanged on error.
  template <typename Decode>
  absl::Status DecodeFrom(util::BinaryReader& r, Decode&& decode) {
    if (absl::Status s = clock_.CheckShape(r, "sliding window"); !s.ok()) {
      return s;
    }
    const size_t used = r.Count("sliding window buckets", 1);
    if (r.ok() && used > slots_.size()) {
      r.Fail("sliding window buckets", "more than the window has");
    }
    if (!r.ok()) return r.status();
    std::vector<Slot> slots;
    slots.reserve(slots_.size());
    for (size_t i = 0; i < slots_.size(); ++i) {
      slots.push_back({kNever, make_()});
    }
    for (size_t k = 0; k < used; ++k) {
      const int64_t id = r.Signed("sliding window bucket number");
      if (!r.ok()) return r.status();
      Slot& s = slots[SlotOf(id)];
      if (id == kNever || s.id != kNever) {
        r.Fail("sliding window bucket number",
               absl::StrCat(id, " is not a bucket or its slot is taken"));
        return r.status();
      }
      s.id = id;
      if (absl::Status st = decode(r, s.value); !st.ok()) return st;
      if (!r.ok()) return r.status();
    }
    slots_ = std::move(slots);
    return absl::OkStatus();
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
