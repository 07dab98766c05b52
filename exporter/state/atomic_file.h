// Whole-file writes that a crash cannot leave half done: the bytes go to a
// temporary file beside the target, which is fsynced, renamed over the
// target, and the directory fsynced, so after a crash the target holds
// either the old contents or the new ones.
//
// Example, given `std::string bytes`:
//   absl::Status st = WriteFileAtomically("/var/lib/aiq/FORMAT", bytes);
//   absl::StatusOr<std::string> back = ReadWholeFile("/var/lib/aiq/FORMAT");
#ifndef AIQ_EXPORTER_STATE_ATOMIC_FILE_H_
#define AIQ_EXPORTER_STATE_ATOMIC_FILE_H_

#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace aiq::state {

// Errors name the path and the system error (ENOSPC reads "No space left
// on device"); on error the target is unchanged and no temporary remains.
absl::Status WriteFileAtomically(const std::string& path,
                                 std::string_view bytes);
// The same for a file made of several parts, written without joining them.
absl::Status WriteFileAtomically(const std::string& path,
                                 std::span<const std::string_view> parts);

// NotFound when the file does not exist.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// fsyncs a directory, so a rename or unlink in it is durable.
absl::Status SyncDirectory(const std::string& dir);

}  // namespace aiq::state

#endif  // AIQ_EXPORTER_STATE_ATOMIC_FILE_H_
