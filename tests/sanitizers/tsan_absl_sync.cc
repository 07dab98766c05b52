// ThreadSanitizer sees pthread locks and std::atomic, but not absl::Mutex
// from Debian's libabsl: that library is built without TSan, and its Mutex
// spins and parks on futexes that TSan cannot follow. Unaided, every access
// to data an absl::Mutex guards would be reported as a race.
//
// Linked into every executable of a TSan build (-DAIQ_SANITIZE=thread,
// cmake/aiq.cmake), this file tells TSan what the library does: it defines
// the out-of-line Mutex and Notification members our code calls, so the
// dynamic linker binds calls to these instead of the library's; each calls
// the library's own function (dlsym(RTLD_NEXT)) and reports a release
// before the mutex is given up and an acquire after it is taken. That is
// the happens-before order the lock provides; TSan then checks everything
// else. The names are the Itanium-mangled symbols of Debian's absl
// (inline namespace absl::debian3); a missing one stops the process at
// start with its name.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace {

template <typename Fn>
Fn Real(const char* symbol) {
  void* f = dlsym(RTLD_NEXT, symbol);
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_sync: %s not found in libabsl\n", symbol);
    std::abort();
  }
  return reinterpret_cast<Fn>(f);
}

// Looked up once, on first use (Itanium ABI: `this` is the first argument).
#define AIQ_REAL(type, symbol)                 \
  static const auto real = Real<type>(symbol); \
  (void)0

using MutexFn = void (*)(absl::Mutex*);
using MutexTryFn = bool (*)(absl::Mutex*);
using AwaitFn = void (*)(absl::Mutex*, const absl::Condition&);
using AwaitTimeoutFn = bool (*)(absl::Mutex*, const absl::Condition&,
                                absl::Duration);

// A condition is evaluated while the mutex is held, but inside the library:
// by the waiter, or by the thread unlocking, which may then give the mutex
// up unseen (a waiter whose condition is false goes back to sleep). So the
// evaluation is a critical section of its own for TSan: it acquires the
// mutex to read what earlier holders wrote, and releases it so that later
// holders are ordered after its reads.
struct AcquiringCondition {
  absl::Mutex* mu;
  const absl::Condition* cond;
  static bool Eval(AcquiringCondition* c) {
    __tsan_acquire(c->mu);
    const bool met = c->cond->Eval();
    __tsan_release(c->mu);
    return met;
  }
};

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  AIQ_REAL(MutexFn, "_ZN4absl7debian35Mutex4LockEv");
  real(this);
  __tsan_acquire(this);
}

void Mutex::ReaderLock() {
  AIQ_REAL(MutexFn, "_ZN4absl7debian35Mutex10ReaderLockEv");
  real(this);
  __tsan_acquire(this);
}

bool Mutex::TryLock() {
  AIQ_REAL(MutexTryFn, "_ZN4absl7debian35Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  AIQ_REAL(MutexTryFn, "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) __tsan_acquire(this);
  return locked;
}

void Mutex::Unlock() {
  AIQ_REAL(MutexFn, "_ZN4absl7debian35Mutex6UnlockEv");
  __tsan_release(this);
  real(this);
}

// Readers release too: harmless (it can only hide a race, never invent
// one), and a writer after them must see their reads as done.
void Mutex::ReaderUnlock() {
  AIQ_REAL(MutexFn, "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  __tsan_release(this);
  real(this);
}

void Mutex::Await(const Condition& cond) {
  AIQ_REAL(AwaitFn, "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  AcquiringCondition wrapped{this, &cond};
  __tsan_release(this);
  real(this, Condition(&AcquiringCondition::Eval, &wrapped));
  __tsan_acquire(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  AIQ_REAL(AwaitTimeoutFn,
           "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_"
           "8DurationE");
  AcquiringCondition wrapped{this, &cond};
  __tsan_release(this);
  const bool met =
      real(this, Condition(&AcquiringCondition::Eval, &wrapped), timeout);
  __tsan_acquire(this);
  return met;
}

void Notification::Notify() {
  using Fn = void (*)(Notification*);
  AIQ_REAL(Fn, "_ZN4absl7debian312Notification6NotifyEv");
  __tsan_release(this);
  real(this);
}

void Notification::WaitForNotification() const {
  using Fn = void (*)(const Notification*);
  AIQ_REAL(Fn, "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  real(this);
  __tsan_acquire(const_cast<Notification*>(this));
}

ABSL_NAMESPACE_END
}  // namespace absl
