// Proves, in a TSan build, that tests/sanitizers/tsan_absl_sync.cc makes
// TSan see absl::Mutex without hiding real races (scripts/check.sh tsan):
//
//   tsan_selftest          two threads add under the lock: exit 0, silent
//   tsan_selftest --race   the main thread skips the lock: TSan reports a
//                          data race (its exit code, 66)
//
// Without the shim, TSan reports the first case as a race as well.
#include <cstring>
#include <thread>

#include "absl/synchronization/mutex.h"

int main(int argc, char** argv) {
  const bool race = argc > 1 && std::strcmp(argv[1], "--race") == 0;
  absl::Mutex mu;
  long n = 0;
  constexpr int kAdds = 100000;
  std::thread other([&] {
    for (int i = 0; i < kAdds; ++i) {
      absl::MutexLock lock(&mu);
      ++n;
    }
  });
  for (int i = 0; i < kAdds; ++i) {
    if (race) {
      ++n;
    } else {
      absl::MutexLock lock(&mu);
      ++n;
    }
  }
  other.join();
  return race || n == 2 * kAdds ? 0 : 1;
}
