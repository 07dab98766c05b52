#include "exporter/util/parallel_for.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace aiq::util {
namespace detail {

// What the threads of one ParallelFor call share.
struct ParallelForState {
  std::atomic<size_t> next{0};       // the next index to hand out
  std::atomic<bool> stopped{false};  // set once a fn(i) threw
  absl::Mutex mu;
  std::exception_ptr error ABSL_GUARDED_BY(mu);  // the first exception
};

// One thread's loop: takes indices until none are left or one has thrown.
void Drain(size_t n, absl::FunctionRef<void(size_t)> fn,
           ParallelForState& state) noexcept {
  try {
    while (!state.stopped.load(std::memory_order_relaxed)) {
      const size_t i = state.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      fn(i);
    }
  } catch (...) {
    state.stopped.store(true, std::memory_order_relaxed);
    absl::MutexLock lock(&state.mu);
    if (!state.error) state.error = std::current_exception();
  }
}

}  // namespace detail

size_t ParallelForThreads(size_t n, size_t max_threads) {
  const size_t limit =
      max_threads > 0
          ? max_threads
          : std::max<size_t>(1, std::thread::hardware_concurrency());
  return std::min(n, limit);
}

void ParallelFor(size_t n, size_t max_threads,
                 absl::FunctionRef<void(size_t)> fn) {
  const size_t threads = ParallelForThreads(n, max_threads);
  if (threads <= 1) {  // no thread to start: plain loop, exceptions pass
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  detail::ParallelForState state;
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back([n, fn, &state] { detail::Drain(n, fn, state); });
    } catch (const std::system_error&) {
      break;  // out of threads: the ones running (and this one) share more
    }
  }
  detail::Drain(n, fn, state);
  for (std::thread& t : helpers) t.join();
  std::exception_ptr error;
  {
    absl::MutexLock lock(&state.mu);
    error = state.error;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace aiq::util
