// Fault injection for tests: makes fdatasync(2) or writev(2) fail, for
// every caller in the process, while a FailingSyscall is alive. Works by symbol
// interposition: failing_io.cc defines both functions, which forward to the C
// library's unless a failure is armed, so it takes effect only in a test
// executable that compiles that file in (list it in the test's SRCS). No seam
// in the code under test. The state log writes with writev and syncs with
// fdatasync; RocksDB syncs with fdatasync too (and writes with write/pwrite,
// which are left alone).
//
// Example:
//   {
//     aiq::testing::FailingSyscall eio(aiq::testing::Syscall::kFdatasync,
//                                      EIO);
//     // ... every fdatasync now returns -1 with errno EIO ...
//     const int failed = eio.failures();
//   }
//   // fdatasync works again
#ifndef AIQ_EXPORTER_TESTING_FAILING_IO_H_
#define AIQ_EXPORTER_TESTING_FAILING_IO_H_

#include <cerrno>

namespace aiq::testing {

enum class Syscall { kFdatasync, kWritev };

// While alive, every call of `call` fails with `error`.
class FailingSyscall {
 public:
  FailingSyscall(Syscall call, int error);
  ~FailingSyscall();
  FailingSyscall(const FailingSyscall&) = delete;
  FailingSyscall& operator=(const FailingSyscall&) = delete;

  // The calls failed since construction.
  int failures() const;

 private:
  const Syscall call_;
};

}  // namespace aiq::testing

#endif  // AIQ_EXPORTER_TESTING_FAILING_IO_H_
