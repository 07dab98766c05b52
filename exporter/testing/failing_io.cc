#include "exporter/testing/failing_io.h"

#include <dlfcn.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>

namespace aiq::testing {
namespace {

// An armed failure: the errno to fail with (0: the call works) and the
// calls failed since it was armed.
struct Fault {
  std::atomic<int> error{0};
  std::atomic<int> failures{0};

  void Arm(int e) {
    failures.store(0);
    error.store(e);
  }
  // True (errno set) when the call must fail.
  bool Fail() {
    const int e = error.load();
    if (e == 0) return false;
    failures.fetch_add(1);
    errno = e;
    return true;
  }
};

Fault fdatasync_fault;
Fault writev_fault;

template <typename Fn>
Fn Real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

}  // namespace

Fault& FaultOf(Syscall call) {
  return call == Syscall::kFdatasync ? fdatasync_fault : writev_fault;
}

FailingSyscall::FailingSyscall(Syscall call, int error) : call_(call) {
  FaultOf(call_).Arm(error);
}
FailingSyscall::~FailingSyscall() { FaultOf(call_).error.store(0); }
int FailingSyscall::failures() const { return FaultOf(call_).failures.load(); }

}  // namespace aiq::testing

// Interpose on the C library's functions for the whole process: the
// executable's definitions come first in symbol lookup, shared libraries
// included.
extern "C" int fdatasync(int fd) {
  if (aiq::testing::fdatasync_fault.Fail()) return -1;
  using Fn = int (*)(int);
  static const Fn real = aiq::testing::Real<Fn>("fdatasync");
  return real(fd);
}

extern "C" ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  if (aiq::testing::writev_fault.Fail()) return -1;
  using Fn = ssize_t (*)(int, const struct iovec*, int);
  static const Fn real = aiq::testing::Real<Fn>("writev");
  return real(fd, iov, iovcnt);
}
