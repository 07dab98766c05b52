// A bounds-checked reader of the protobuf wire format
// (https://protobuf.dev/programming-guides/encoding/), for the OTLP
// decoder: it yields a message's fields one by one, and refuses rather
// than trusts anything malformed (a varint longer than 10 bytes, a length
// past the end, the deprecated group wire types, field number 0). It knows
// nothing of OTLP's messages; otlp_decoder.cc does.
//
// Example:
//   aiq::otlp::detail::WireReader r(std::string_view("\x08\x96\x01", 3));
//   aiq::otlp::detail::WireField f;
//   while (r.Next(f)) {
//     // f.number == 1, f.type == WireType::kVarint, f.value == 150
//   }
//   bool ok = r.error().empty();  // true
#ifndef AIQ_EXPORTER_OTLP_DETAIL_WIRE_READER_H_
#define AIQ_EXPORTER_OTLP_DETAIL_WIRE_READER_H_

#include <cstdint>
#include <string_view>

namespace aiq::otlp::detail {

enum class WireType : uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kFixed32 = 5,
};
const char* WireTypeName(WireType t);

struct WireField {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  // kVarint, kFixed64, kFixed32: the value (fixed ones little-endian).
  uint64_t value = 0;
  // kLengthDelimited: the bytes (a view into the input).
  std::string_view bytes;
};

class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}

  // The next field; false at the end of the input or on an error (then
  // error() says what was wrong, and where).
  bool Next(WireField& field);
  std::string_view error() const { return error_; }

 private:
  bool Fail(const char* what);
  // Inline for the common one-byte varint (tags, small lengths and
  // values); longer ones in ReadVarintSlow.
  bool ReadVarint(uint64_t& v) {
    if (pos_ < in_.size() && static_cast<uint8_t>(in_[pos_]) < 0x80) {
      v = static_cast<uint8_t>(in_[pos_++]);
      return true;
    }
    return ReadVarintSlow(v);
  }
  bool ReadVarintSlow(uint64_t& v);

  std::string_view in_;
  size_t pos_ = 0;
  const char* error_ = "";
};

// Reads one varint from the front of `in`, advancing it; false when
// malformed or truncated. For packed repeated fields.
bool ReadPackedVarint(std::string_view& in, uint64_t& v);

}  // namespace aiq::otlp::detail

#endif  // AIQ_EXPORTER_OTLP_DETAIL_WIRE_READER_H_
