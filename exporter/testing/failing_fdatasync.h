// Fault injection for tests: makes fdatasync(2) fail, for every caller in
// the process (the state log, RocksDB), while a FailingFdatasync is alive.
// Works by symbol interposition: failing_fdatasync.cc defines fdatasync,
// which forwards to the C library's unless a failure is armed, so it takes
// effect only in a test executable that compiles that file in (list it in
// the test's SRCS). No seam in the code under test.
//
// Example:
//   {
//     aiq::testing::FailingFdatasync eio(EIO);
//     // ... every fdatasync now returns -1 with errno EIO ...
//     const int failed = eio.failures();
//   }
//   // fdatasync works again
#ifndef AIQ_EXPORTER_TESTING_FAILING_FDATASYNC_H_
#define AIQ_EXPORTER_TESTING_FAILING_FDATASYNC_H_

#include <cerrno>

namespace aiq::testing {

class FailingFdatasync {
 public:
  explicit FailingFdatasync(int error = EIO);
  ~FailingFdatasync();
  FailingFdatasync(const FailingFdatasync&) = delete;
  FailingFdatasync& operator=(const FailingFdatasync&) = delete;

  // The calls failed since construction.
  int failures() const;
};

}  // namespace aiq::testing

#endif  // AIQ_EXPORTER_TESTING_FAILING_FDATASYNC_H_
