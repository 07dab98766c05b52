// Little binary encoding for durable state (checkpoints, the state log):
// LEB128 varints, zig-zag signed integers, IEEE doubles as 8 little-endian
// bytes (bit-exact, so a decoded window computes exactly the same
// statistics), length-prefixed strings. BinaryReader never reads past its
// input and never allocates more than the input could hold: the first
// malformed or truncated field makes it fail, remembers what was being
// read, and every later read returns zero values.
//
// Example:
//   BinaryWriter w;
//   w.Varint(3);
//   w.Double(0.25);
//   w.String("v1");
//   BinaryReader r(w.data());
//   uint64_t n = r.Varint("count");
//   double d = r.Double("mean");
//   std::string s = r.String("version");
//   absl::Status st = r.Finish();  // OK: everything read, nothing left over
#ifndef AIQ_EXPORTER_UTIL_BINARY_CODEC_H_
#define AIQ_EXPORTER_UTIL_BINARY_CODEC_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace aiq::util {

class BinaryWriter {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void Bool(bool v) { U8(v ? 1 : 0); }
  void Varint(uint64_t v);
  void Signed(int64_t v);  // zig-zag, so small negatives stay short
  void Double(double v);
  void Fixed32(uint32_t v);
  void Fixed64(uint64_t v);
  void String(std::string_view v);
  // Nanoseconds since the Unix epoch; the infinite past and future too.
  void Time(absl::Time t);
  void Duration(absl::Duration d);
  void Doubles(std::span<const double> v);
  void Varints(std::span<const uint64_t> v);
  void Strings(std::span<const std::string> v);
  // Raw bytes with no length (for nesting an already encoded block, use
  // String).
  void Raw(std::string_view bytes) { out_.append(bytes); }
  // A length-prefixed block written in place (no copy of its contents):
  //   size_t b = w.BeginBlock(); /* write the block */ w.EndBlock(b);
  // The length is a fixed64 patched in by EndBlock; read it back with
  // BinaryReader::Block.
  size_t BeginBlock();
  void EndBlock(size_t begin);
  void Reserve(size_t bytes) { out_.reserve(out_.size() + bytes); }

  const std::string& data() const { return out_; }
  std::string Release() { return std::move(out_); }
  size_t size() const { return out_.size(); }
  void Clear() { out_.clear(); }

 private:
  std::string out_;
};

class BinaryReader {
 public:
  explicit BinaryReader(std::string_view in) : in_(in) {}

  // `what` names the field in the error (e.g. "drift window bucket").
  uint8_t U8(std::string_view what);
  bool Bool(std::string_view what);
  uint64_t Varint(std::string_view what);
  int64_t Signed(std::string_view what);
  double Double(std::string_view what);
  uint32_t Fixed32(std::string_view what);
  uint64_t Fixed64(std::string_view what);
  std::string String(std::string_view what);
  std::string_view StringView(std::string_view what);  // into the input
  // What BinaryWriter::BeginBlock/EndBlock wrote (a view into the input).
  std::string_view Block(std::string_view what);
  absl::Time Time(std::string_view what);
  absl::Duration Duration(std::string_view what);
  std::vector<double> Doubles(std::string_view what);
  std::vector<uint64_t> Varints(std::string_view what);
  std::vector<std::string> Strings(std::string_view what);
  // A count of items that each take at least `min_item_bytes` bytes: fails
  // (returns 0) when the rest of the input cannot hold that many, so a
  // corrupt count never makes a decoder allocate gigabytes.
  size_t Count(std::string_view what, size_t min_item_bytes = 1);
  // An integer that must lie in [lo, hi] (an enum, an index).
  int64_t Int(std::string_view what, int64_t lo, int64_t hi);

  // Marks the input malformed (a decoder's own consistency check failed).
  void Fail(std::string_view what, std::string_view why);

  bool ok() const { return error_.empty(); }
  size_t remaining() const { return in_.size() - pos_; }
  bool AtEnd() const { return pos_ == in_.size(); }
  // OK when every read succeeded; otherwise DataLoss naming the first field
  // that failed and its byte offset.
  absl::Status status() const;
  // status(), and also DataLoss when bytes are left over.
  absl::Status Finish();

 private:
  bool Need(size_t n, std::string_view what);

  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;  // empty while every read has succeeded
};

// Fixed64 in big-endian order, for keys that must sort as their number
// (RocksDB compares keys bytewise).
void AppendBigEndian64(std::string& out, uint64_t v);
// The first 8 bytes of `bytes` (at least 8) read as AppendBigEndian64 wrote.
uint64_t ReadBigEndian64(std::string_view bytes);

}  // namespace aiq::util

#endif  // AIQ_EXPORTER_UTIL_BINARY_CODEC_H_
