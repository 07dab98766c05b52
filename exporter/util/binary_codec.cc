#include "exporter/util/binary_codec.h"

#include <bit>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "exporter/util/absl_compat.h"

namespace aiq::util {
namespace {

// absl::Time's infinities have no nanosecond count; they get the two
// extreme int64 values, which no finite time we store reaches.
constexpr int64_t kInfinitePast = std::numeric_limits<int64_t>::min();
constexpr int64_t kInfiniteFuture = std::numeric_limits<int64_t>::max();

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

}  // namespace

void BinaryWriter::Varint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

void BinaryWriter::Signed(int64_t v) { Varint(ZigZag(v)); }

void BinaryWriter::Fixed32(uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
}

void BinaryWriter::Fixed64(uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
}

void BinaryWriter::Double(double v) { Fixed64(std::bit_cast<uint64_t>(v)); }

void BinaryWriter::String(std::string_view v) {
  Varint(v.size());
  out_.append(v);
}

void BinaryWriter::Time(absl::Time t) {
  if (t == absl::InfinitePast()) return Signed(kInfinitePast);
  if (t == absl::InfiniteFuture()) return Signed(kInfiniteFuture);
  Signed(absl::ToUnixNanos(t));
}

void BinaryWriter::Duration(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return Signed(kInfiniteFuture);
  if (d == -absl::InfiniteDuration()) return Signed(kInfinitePast);
  Signed(absl::ToInt64Nanoseconds(d));
}

size_t BinaryWriter::BeginBlock() {
  const size_t at = out_.size();
  Fixed64(0);
  return at;
}

void BinaryWriter::EndBlock(size_t begin) {
  const uint64_t length = out_.size() - begin - 8;
  for (int i = 0; i < 8; ++i) {
    out_[begin + static_cast<size_t>(i)] = static_cast<char>(length >> (8 * i));
  }
}

void BinaryWriter::Doubles(std::span<const double> v) {
  Varint(v.size());
  for (double d : v) Double(d);
}

void BinaryWriter::Varints(std::span<const uint64_t> v) {
  Varint(v.size());
  for (uint64_t x : v) Varint(x);
}

void BinaryWriter::Strings(std::span<const std::string> v) {
  Varint(v.size());
  for (const std::string& s : v) String(s);
}

bool BinaryReader::Need(size_t n, std::string_view what) {
  if (!ok()) return false;
  if (remaining() < n) {
    Fail(what, absl::StrCat("needs ", n, " bytes, ", remaining(), " left"));
    return false;
  }
  return true;
}

void BinaryReader::Fail(std::string_view what, std::string_view why) {
  if (!ok()) return;  // the first failure is the one worth reporting
  error_ = absl::StrCat(ToAbsl(what), " at byte ", pos_, ": ", ToAbsl(why));
}

uint8_t BinaryReader::U8(std::string_view what) {
  if (!Need(1, what)) return 0;
  return static_cast<uint8_t>(in_[pos_++]);
}

bool BinaryReader::Bool(std::string_view what) {
  const uint8_t v = U8(what);
  if (v > 1) Fail(what, "not a boolean");
  return v == 1;
}

uint64_t BinaryReader::Varint(std::string_view what) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (!Need(1, what)) return 0;
    const auto byte = static_cast<uint8_t>(in_[pos_++]);
    if (shift == 63 && byte > 1) break;
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return v;
  }
  Fail(what, "varint longer than 64 bits");
  return 0;
}

int64_t BinaryReader::Signed(std::string_view what) {
  return UnZigZag(Varint(what));
}

uint32_t BinaryReader::Fixed32(std::string_view what) {
  if (!Need(4, what)) return 0;
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) {
    v |= static_cast<uint32_t>(static_cast<uint8_t>(in_[pos_++])) << (8 * i);
  }
  return v;
}

uint64_t BinaryReader::Fixed64(std::string_view what) {
  if (!Need(8, what)) return 0;
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_++])) << (8 * i);
  }
  return v;
}

double BinaryReader::Double(std::string_view what) {
  return std::bit_cast<double>(Fixed64(what));
}

std::string_view BinaryReader::StringView(std::string_view what) {
  const uint64_t n = Varint(what);
  if (!Need(n, what)) return {};
  std::string_view v = in_.substr(pos_, n);
  pos_ += n;
  return v;
}

std::string_view BinaryReader::Block(std::string_view what) {
  const uint64_t n = Fixed64(what);
  if (!Need(n, what)) return {};
  std::string_view v = in_.substr(pos_, n);
  pos_ += n;
  return v;
}

std::string BinaryReader::String(std::string_view what) {
  return std::string(StringView(what));
}

absl::Time BinaryReader::Time(std::string_view what) {
  const int64_t ns = Signed(what);
  if (ns == kInfinitePast) return absl::InfinitePast();
  if (ns == kInfiniteFuture) return absl::InfiniteFuture();
  return absl::FromUnixNanos(ns);
}

absl::Duration BinaryReader::Duration(std::string_view what) {
  const int64_t ns = Signed(what);
  if (ns == kInfinitePast) return -absl::InfiniteDuration();
  if (ns == kInfiniteFuture) return absl::InfiniteDuration();
  return absl::Nanoseconds(ns);
}

size_t BinaryReader::Count(std::string_view what, size_t min_item_bytes) {
  const uint64_t n = Varint(what);
  if (!ok()) return 0;
  if (min_item_bytes == 0) min_item_bytes = 1;
  if (n > remaining() / min_item_bytes) {
    Fail(what, absl::StrCat("count ", n, " exceeds what ", remaining(),
                            " bytes can hold"));
    return 0;
  }
  return static_cast<size_t>(n);
}

int64_t BinaryReader::Int(std::string_view what, int64_t lo, int64_t hi) {
  const int64_t v = Signed(what);
  if (!ok()) return lo;
  if (v < lo || v > hi) {
    Fail(what, absl::StrCat("value ", v, " outside [", lo, ", ", hi, "]"));
    return lo;
  }
  return v;
}

std::vector<double> BinaryReader::Doubles(std::string_view what) {
  std::vector<double> v(Count(what, 8));
  for (double& d : v) d = Double(what);
  return v;
}

std::vector<uint64_t> BinaryReader::Varints(std::string_view what) {
  std::vector<uint64_t> v(Count(what, 1));
  for (uint64_t& x : v) x = Varint(what);
  return v;
}

std::vector<std::string> BinaryReader::Strings(std::string_view what) {
  std::vector<std::string> v(Count(what, 1));
  for (std::string& s : v) s = String(what);
  return v;
}

absl::Status BinaryReader::status() const {
  if (ok()) return absl::OkStatus();
  return absl::DataLossError(error_);
}

absl::Status BinaryReader::Finish() {
  if (ok() && !AtEnd()) {
    Fail("end of record", absl::StrCat(remaining(), " unread bytes"));
  }
  return status();
}

void AppendBigEndian64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint64_t ReadBigEndian64(std::string_view bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[i]);
  return v;
}

}  // namespace aiq::util
