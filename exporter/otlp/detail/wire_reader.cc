#include "exporter/otlp/detail/wire_reader.h"

namespace aiq::otlp::detail {

const char* WireTypeName(WireType t) {
  switch (t) {
    case WireType::kVarint:
      return "varint";
    case WireType::kFixed64:
      return "fixed64";
    case WireType::kLengthDelimited:
      return "length-delimited";
    case WireType::kFixed32:
      return "fixed32";
  }
  return "?";
}

bool ReadPackedVarint(std::string_view& in, uint64_t& v) {
  v = 0;
  for (size_t i = 0; i < 10; ++i) {
    if (i >= in.size()) return false;
    const auto b = static_cast<uint8_t>(in[i]);
    // The tenth byte may only hold the top bit of a 64-bit value.
    if (i == 9 && b > 1) return false;
    v |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      in.remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

bool WireReader::Fail(const char* what) {
  error_ = what;
  pos_ = in_.size();
  return false;
}

bool WireReader::ReadVarintSlow(uint64_t& v) {
  std::string_view rest = in_.substr(pos_);
  const size_t before = rest.size();
  if (!ReadPackedVarint(rest, v)) return false;
  pos_ += before - rest.size();
  return true;
}

bool WireReader::Next(WireField& f) {
  if (pos_ >= in_.size()) return false;
  uint64_t tag = 0;
  if (!ReadVarint(tag)) return Fail("malformed or truncated field tag");
  const uint64_t number = tag >> 3;
  if (number == 0 || number > 0x1fffffff) return Fail("invalid field number");
  f.number = static_cast<uint32_t>(number);
  switch (tag & 7) {
    case 0:
      f.type = WireType::kVarint;
      if (!ReadVarint(f.value)) return Fail("malformed or truncated varint");
      return true;
    case 1:
    case 5: {
      const size_t n = (tag & 7) == 1 ? 8 : 4;
      if (in_.size() - pos_ < n) return Fail("truncated fixed-width field");
      f.type = n == 8 ? WireType::kFixed64 : WireType::kFixed32;
      f.value = 0;
      for (size_t i = 0; i < n; ++i) {
        f.value |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i]))
                   << (8 * i);
      }
      pos_ += n;
      return true;
    }
    case 2: {
      uint64_t length = 0;
      if (!ReadVarint(length)) return Fail("malformed or truncated length");
      if (length > in_.size() - pos_) {
        return Fail(
            "length-delimited field longer than the rest of its "
            "message");
      }
      f.type = WireType::kLengthDelimited;
      f.bytes = in_.substr(pos_, static_cast<size_t>(length));
      pos_ += static_cast<size_t>(length);
      return true;
    }
    default:
      return Fail("unsupported wire type (groups are not allowed)");
  }
}

}  // namespace aiq::otlp::detail
