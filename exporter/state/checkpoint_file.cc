#include "exporter/state/checkpoint_file.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "exporter/state/atomic_file.h"
#include "exporter/state/state_store.h"
#include "exporter/util/binary_codec.h"

namespace aiq::state {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "AIQCKPT\n";
constexpr std::string_view kPrefix = "checkpoint-";
constexpr std::string_view kSuffix = ".aiqs";
constexpr size_t kHeaderBytes = Checkpoint::kHeaderBytes;

// `crc` continues a CRC over earlier bytes (0 to start).
uint32_t Crc(std::string_view bytes, uint32_t start = 0) {
  uLong crc = start;
  // zlib takes uInt lengths; feed large payloads in pieces.
  while (!bytes.empty()) {
    const size_t n = std::min<size_t>(bytes.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()),
                static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<uint32_t>(crc);
}

// The CRC of a large payload, its halves computed on two threads and
// joined with crc32_combine (a restart waits for this).
uint32_t ParallelCrc(std::string_view bytes) {
  constexpr size_t kSplitAbove = 16 << 20;
  if (bytes.size() < kSplitAbove) return Crc(bytes);
  const size_t half = bytes.size() / 2;
  uint32_t second = 0;
  std::thread t([&] { second = Crc(bytes.substr(half)); });
  const uint32_t first = Crc(bytes.substr(0, half));
  t.join();
  return static_cast<uint32_t>(
      crc32_combine(first, second, static_cast<z_off_t>(bytes.size() - half)));
}

std::string FileName(uint64_t seq) {
  return absl::StrFormat("%s%020d%s", std::string(kPrefix), seq,
                         std::string(kSuffix));
}

std::optional<uint64_t> SeqOfName(const std::string& name) {
  if (name.size() <= kPrefix.size() + kSuffix.size() ||
      name.rfind(kPrefix, 0) != 0 ||
      name.substr(name.size() - kSuffix.size()) != kSuffix) {
    return std::nullopt;
  }
  uint64_t seq = 0;
  const std::string digits = name.substr(
      kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  if (!absl::SimpleAtoi(digits, &seq)) return std::nullopt;
  return seq;
}

}  // namespace

absl::Status WriteCheckpoint(const std::string& dir, uint64_t seq,
                             std::string_view payload) {
  return WriteCheckpoint(dir, seq,
                         std::span<const std::string_view>(&payload, 1));
}

absl::Status WriteCheckpoint(const std::string& dir, uint64_t seq,
                             std::span<const std::string_view> payload) {
  uint64_t length = 0;
  uint32_t crc = 0;
  for (std::string_view p : payload) {
    length += p.size();
    crc = Crc(p, crc);
  }
  util::BinaryWriter w;
  w.Raw(kMagic);
  w.Fixed32(kStateFormatVersion);
  w.Fixed64(seq);
  w.Fixed64(length);
  w.Fixed32(crc);
  std::vector<std::string_view> parts = {w.data()};
  parts.insert(parts.end(), payload.begin(), payload.end());
  return WriteFileAtomically((fs::path(dir) / FileName(seq)).string(), parts);
}

absl::StatusOr<Checkpoint> ParseCheckpoint(const std::string& path,
                                           std::string file) {
  auto owned = std::make_shared<const std::string>(std::move(file));
  const std::string_view bytes = *owned;
  return ParseCheckpoint(path, std::move(owned), bytes);
}

absl::StatusOr<Checkpoint> ParseCheckpoint(const std::string& path,
                                           std::shared_ptr<const void> storage,
                                           std::string_view bytes) {
  if (bytes.size() < kHeaderBytes || bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError(
        absl::StrCat(path, ": not a checkpoint (bad magic or too short, ",
                     bytes.size(), " bytes)"));
  }
  util::BinaryReader r(bytes.substr(kMagic.size()));
  const uint32_t version = r.Fixed32("format version");
  Checkpoint c;
  c.path = path;
  c.seq = r.Fixed64("seq");
  const uint64_t length = r.Fixed64("payload length");
  const uint32_t crc = r.Fixed32("payload crc");
  if (version < kOldestReadableStateFormat || version > kStateFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": ", UnreadableFormatMessage(static_cast<int>(version))));
  }
  if (length != r.remaining()) {
    return absl::DataLossError(absl::StrCat(path, ": payload of ", length,
                                            " bytes expected, ", r.remaining(),
                                            " present (truncated?)"));
  }
  std::string_view payload = bytes.substr(kHeaderBytes);
  if (ParallelCrc(payload) != crc) {
    return absl::DataLossError(
        absl::StrCat(path, ": CRC mismatch (the file is damaged)"));
  }
  c.storage = std::move(storage);
  c.bytes = bytes;
  return c;
}

std::vector<uint64_t> ListCheckpoints(const std::string& dir) {
  std::vector<uint64_t> seqs;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (std::optional<uint64_t> s = SeqOfName(it->path().filename().string())) {
      seqs.push_back(*s);
    }
  }
  std::sort(seqs.rbegin(), seqs.rend());
  return seqs;
}

absl::StatusOr<std::optional<Checkpoint>> LoadLatestCheckpoint(
    const std::string& dir, std::vector<std::string>& skipped,
    const std::function<absl::Status(const Checkpoint&)>& accept) {
  for (uint64_t seq : ListCheckpoints(dir)) {
    const std::string path = (fs::path(dir) / FileName(seq)).string();
    absl::StatusOr<std::shared_ptr<const MappedFile>> file =
        MappedFile::Open(path);
    if (!file.ok()) {
      skipped.push_back(std::string(file.status().message()));
      continue;
    }
    const std::string_view bytes = (*file)->data();
    absl::StatusOr<Checkpoint> c = ParseCheckpoint(path, *file, bytes);
    if (absl::IsFailedPrecondition(c.status())) return c.status();
    if (!c.ok()) {
      skipped.push_back(std::string(c.status().message()));
      continue;
    }
    if (c->seq != seq) {
      skipped.push_back(absl::StrCat(path, ": records seq ", c->seq,
                                     ", its name says ", seq));
      continue;
    }
    if (accept) {
      if (absl::Status st = accept(*c); !st.ok()) {
        skipped.push_back(absl::StrCat(path, ": ", st.message()));
        continue;
      }
    }
    return std::optional<Checkpoint>(*std::move(c));
  }
  return std::optional<Checkpoint>();
}

void PruneCheckpoints(const std::string& dir, int keep) {
  const std::vector<uint64_t> seqs = ListCheckpoints(dir);
  for (size_t i = static_cast<size_t>(keep); i < seqs.size(); ++i) {
    std::error_code ec;
    fs::remove(fs::path(dir) / FileName(seqs[i]), ec);
  }
}

}  // namespace aiq::state
