// Checkpoint files: a snapshot of the in-memory state and the log position
// it reflects, written atomically (atomic_file.h) as
// `checkpoints/checkpoint-<seq>.aiqs`:
//
//   "AIQCKPT\n"  magic (8 bytes)
//   fixed32      state format version (kStateFormatVersion)
//   fixed64      seq: the last log record the payload reflects
//   fixed64      payload length
//   fixed32      CRC-32 (zlib) of the payload
//   payload
//
// LoadLatestCheckpoint returns the newest intact one; corrupt or truncated
// files are skipped (and reported), so a damaged latest checkpoint falls
// back to the one before it plus a longer replay of the log. A file of
// another format version is an error, never skipped: the state would be
// silently reset otherwise.
//
// Example, given `std::string payload` and `std::string dir`:
//   absl::Status st = WriteCheckpoint(dir, /*seq=*/42, payload);
//   std::vector<std::string> skipped;
//   absl::StatusOr<std::optional<Checkpoint>> c =
//       LoadLatestCheckpoint(dir, skipped);
//   if (c.ok() && *c) { /* (*c)->seq == 42, (*c)->payload() == payload */ }
#ifndef AIQ_EXPORTER_STATE_CHECKPOINT_FILE_H_
#define AIQ_EXPORTER_STATE_CHECKPOINT_FILE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace aiq::state {

struct Checkpoint {
  uint64_t seq = 0;
  std::string path;
  std::shared_ptr<const void> storage;  // keeps `bytes` alive
  std::string_view bytes;               // the whole file

  // The payload within `bytes` (not copied: checkpoints are large).
  std::string_view payload() const { return bytes.substr(kHeaderBytes); }
  static constexpr size_t kHeaderBytes = 8 + 4 + 8 + 8 + 4;
};

absl::Status WriteCheckpoint(const std::string& dir, uint64_t seq,
                             std::string_view payload);
// The same for a payload in parts (their concatenation), not joined first.
absl::Status WriteCheckpoint(const std::string& dir, uint64_t seq,
                             std::span<const std::string_view> payload);

// Parses one checkpoint file's bytes (DataLoss: damaged;
// FailedPrecondition: another format version).
absl::StatusOr<Checkpoint> ParseCheckpoint(const std::string& path,
                                           std::string bytes);
// The same for bytes kept alive by `storage` (a mapped file).
absl::StatusOr<Checkpoint> ParseCheckpoint(const std::string& path,
                                           std::shared_ptr<const void> storage,
                                           std::string_view bytes);

// The newest intact checkpoint in `dir` (nullopt: none) that `accept` (when
// given) takes: it may restore what lives beside the file, and an error
// from it skips that checkpoint like damage. Each checkpoint skipped is
// described in `skipped` (path and what is wrong).
absl::StatusOr<std::optional<Checkpoint>> LoadLatestCheckpoint(
    const std::string& dir, std::vector<std::string>& skipped,
    const std::function<absl::Status(const Checkpoint&)>& accept = nullptr);

// Sequence numbers of the checkpoint files in `dir`, newest first.
std::vector<uint64_t> ListCheckpoints(const std::string& dir);

// Deletes all but the newest `keep` checkpoint files.
void PruneCheckpoints(const std::string& dir, int keep);

}  // namespace aiq::state

#endif  // AIQ_EXPORTER_STATE_CHECKPOINT_FILE_H_
