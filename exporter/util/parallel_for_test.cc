#include "exporter/util/parallel_for.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace aiq::util {
namespace {

// Distinct threads seen by fn, and how often each index was visited.
struct Record {
  explicit Record(size_t n) : visits(n) {}
  void Visit(size_t i) {
    visits[i].fetch_add(1);
    absl::MutexLock lock(&mu);
    threads.insert(std::this_thread::get_id());
  }
  std::vector<std::atomic<int>> visits;
  absl::Mutex mu;
  std::set<std::thread::id> threads ABSL_GUARDED_BY(mu);
};

TEST(ParallelForTest, VisitsEveryIndexExactlyOnce) {
  for (size_t max_threads : {0u, 1u, 2u, 3u, 8u}) {
    Record r(1000);
    ParallelFor(1000, max_threads, [&](size_t i) { r.Visit(i); });
    for (size_t i = 0; i < r.visits.size(); ++i) {
      ASSERT_EQ(r.visits[i].load(), 1)
          << "index " << i << ", max_threads " << max_threads;
    }
    absl::MutexLock lock(&r.mu);
    EXPECT_LE(r.threads.size(), ParallelForThreads(1000, max_threads));
    EXPECT_GE(r.threads.size(), 1u);
  }
}

TEST(ParallelForTest, ThreadCount) {
  EXPECT_EQ(ParallelForThreads(0, 4), 0u);
  EXPECT_EQ(ParallelForThreads(3, 8), 3u);  // no more threads than pieces
  EXPECT_EQ(ParallelForThreads(100, 8), 8u);
  EXPECT_EQ(ParallelForThreads(100, 1), 1u);
  const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(ParallelForThreads(1000, 0), std::min<size_t>(1000, cores));
}

TEST(ParallelForTest, NothingToDo) {
  int calls = 0;
  ParallelFor(0, 4, [&](size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ParallelForTest, OneThreadRunsOnTheCallerInOrder) {
  std::vector<size_t> order;
  std::set<std::thread::id> threads;
  ParallelFor(5, 1, [&](size_t i) {
    order.push_back(i);
    threads.insert(std::this_thread::get_id());
  });
  EXPECT_EQ(order, (std::vector<size_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(threads, (std::set<std::thread::id>{std::this_thread::get_id()}));
}

TEST(ParallelForTest, FewerPiecesThanThreadsRunConcurrently) {
  // 3 pieces, up to 8 threads: exactly 3 threads, all inside fn at once
  // (each waits for the other two; one thread per piece or it times out).
  absl::Mutex mu;
  int inside = 0;
  bool all_met = true;
  std::set<std::thread::id> threads;
  ParallelFor(3, 8, [&](size_t) {
    absl::MutexLock lock(&mu);
    ++inside;
    threads.insert(std::this_thread::get_id());
    const bool met =
        mu.AwaitWithTimeout(absl::Condition(
                                +[](int* n) { return *n == 3; }, &inside),
                            absl::Seconds(30));
    all_met &= met;
  });
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(all_met);
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_TRUE(threads.contains(std::this_thread::get_id()));  // the caller
}

TEST(ParallelForTest, FirstExceptionReachesTheCallerAfterAllJoin) {
  for (size_t max_threads : {1u, 4u}) {
    std::atomic<int> running{0}, started{0};
    bool still_running_at_throw = false;
    try {
      ParallelFor(1000, max_threads, [&](size_t i) {
        started.fetch_add(1);
        running.fetch_add(1);
        if (i == 10) {
          running.fetch_sub(1);
          throw std::runtime_error("piece 10 failed");
        }
        // Slow enough that the other threads cannot run out of indices
        // in the moment between the throw and the stop.
        absl::SleepFor(absl::Milliseconds(1));
        running.fetch_sub(1);
      });
      ADD_FAILURE() << "no exception, max_threads " << max_threads;
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "piece 10 failed");
      // Every thread has finished before the exception arrives.
      still_running_at_throw = running.load() != 0;
    }
    EXPECT_FALSE(still_running_at_throw);
    // Indices after the failure are not started (a few may have been
    // taken by other threads before they saw it).
    EXPECT_LT(started.load(), 1000) << "max_threads " << max_threads;
    if (max_threads == 1) {
      EXPECT_EQ(started.load(), 11);
    }
  }
}

TEST(ParallelForTest, NoExceptionMeansNormalReturn) {
  std::atomic<int> sum{0};
  EXPECT_NO_THROW(
      ParallelFor(100, 4, [&](size_t i) { sum += static_cast<int>(i); }));
  EXPECT_EQ(sum.load(), 99 * 100 / 2);
}

}  // namespace
}  // namespace aiq::util
