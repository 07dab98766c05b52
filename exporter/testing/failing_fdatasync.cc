#include "exporter/testing/failing_fdatasync.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>

namespace aiq::testing {
namespace {

std::atomic<int> armed_error{0};  // 0: fdatasync works
std::atomic<int> failed_calls{0};

}  // namespace

FailingFdatasync::FailingFdatasync(int error) {
  failed_calls.store(0);
  armed_error.store(error);
}

FailingFdatasync::~FailingFdatasync() { armed_error.store(0); }

int FailingFdatasync::failures() const { return failed_calls.load(); }

}  // namespace aiq::testing

// Interposes on the C library's fdatasync for the whole process: the
// executable's definition comes first in symbol lookup, shared libraries
// included.
extern "C" int fdatasync(int fd) {
  if (const int error = aiq::testing::armed_error.load(); error != 0) {
    aiq::testing::failed_calls.fetch_add(1);
    errno = error;
    return -1;
  }
  using Fn = int (*)(int);
  static const Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "fdatasync"));
  return real(fd);
}
