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

#include <memory>
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

// A read-only memory map of a whole file (pages populated up front): large
// files (checkpoints) are read without copying them into the heap.
class MappedFile {
 public:
  // NotFound when the file does not exist.
  static absl::StatusOr<std::shared_ptr<const MappedFile>> Open(
      const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view data() const { return {data_, size_}; }

 private:
  MappedFile(const char* data, size_t size) : data_(data), size_(size) {}
  const char* data_;
  size_t size_;
};

// fsyncs a directory, so a rename or unlink in it is durable.
absl::Status SyncDirectory(const std::string& dir);

}  // namespace aiq::state

#endif  // AIQ_EXPORTER_STATE_ATOMIC_FILE_H_
