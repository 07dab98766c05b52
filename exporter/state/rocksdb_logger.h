// RocksDB's diagnostics, warnings and errors only, on stderr (prefixed
// "state: rocksdb <name>: ") instead of a LOG file inside the state
// directory. Why: Debian's RocksDB 7.8 is built with assertions, and its
// file logger aborts the process (WritableFileWriter's
// "sync_without_flush_called_" assertion) when it writes again after a
// write to its LOG failed, which is what happens as soon as the disk is
// full (found by tests/state/disk_full_test.py). Besides, in a container
// stderr is where logs belong.
//
// Example (the result goes to rocksdb::DBOptions::info_log):
//   std::shared_ptr<rocksdb::Logger> info_log =
//       aiq::state::detail::StderrRocksDbLogger("join");
#ifndef AIQ_EXPORTER_STATE_ROCKSDB_LOGGER_H_
#define AIQ_EXPORTER_STATE_ROCKSDB_LOGGER_H_

#include <memory>
#include <string>

#include "rocksdb/env.h"

namespace aiq::state::detail {

std::shared_ptr<rocksdb::Logger> StderrRocksDbLogger(std::string name);

}  // namespace aiq::state::detail

#endif  // AIQ_EXPORTER_STATE_ROCKSDB_LOGGER_H_
