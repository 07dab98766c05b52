// Runs independent pieces of work on several threads: fn(i) for every i in
// [0, n), on at most max_threads threads, the calling thread being one of
// them. Indices are handed out one at a time from a shared counter, so
// uneven pieces balance themselves. Returns when every started fn(i) has
// returned. Threads are created per call: meant for coarse work (a scrape's
// per-model snapshots, a report's per-feature tests), not tight loops.
//
// Example, given `const std::vector<double>& items` and
// `double (*Work)(double)`:
//   std::vector<double> out(items.size());
//   aiq::util::ParallelFor(items.size(), /*max_threads=*/0,
//                          [&](size_t i) { out[i] = Work(items[i]); });
//
// max_threads 0 = std::thread::hardware_concurrency(). Each fn(i) runs
// exactly once unless one throws: then no further index is started, the
// ones already running finish, and the first exception is rethrown to the
// caller. If a thread cannot be created, the others (at least the caller)
// do its share.
#ifndef AIQ_EXPORTER_UTIL_PARALLEL_FOR_H_
#define AIQ_EXPORTER_UTIL_PARALLEL_FOR_H_

#include <cstddef>

#include "absl/functional/function_ref.h"

namespace aiq::util {

// fn must be safe to call concurrently for different indices.
void ParallelFor(size_t n, size_t max_threads,
                 absl::FunctionRef<void(size_t)> fn);

// The thread count ParallelFor uses for n pieces and max_threads.
size_t ParallelForThreads(size_t n, size_t max_threads);

}  // namespace aiq::util

#endif  // AIQ_EXPORTER_UTIL_PARALLEL_FOR_H_
