// Writes the protobuf wire format: the OTLP replies (otlp_response.cc),
// and the request bodies the tests, fuzz corpus and benchmarks build. The
// mirror of wire_reader.h.
//
// Example (an OTLP KeyValue {key: "k", value: {int_value: 3}}):
//   aiq::otlp::detail::WireWriter value;
//   value.Varint(3, 3);
//   aiq::otlp::detail::WireWriter kv;
//   kv.Bytes(1, "k").Message(2, value);
//   const std::string& bytes = kv.data();
#ifndef AIQ_EXPORTER_OTLP_DETAIL_WIRE_WRITER_H_
#define AIQ_EXPORTER_OTLP_DETAIL_WIRE_WRITER_H_

#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace aiq::otlp::detail {

class WireWriter {
 public:
  WireWriter& Varint(uint32_t field, uint64_t v) {
    Tag(field, 0);
    RawVarint(v);
    return *this;
  }
  WireWriter& Fixed64(uint32_t field, uint64_t v) {
    Tag(field, 1);
    RawFixed64(v);
    return *this;
  }
  WireWriter& Fixed32(uint32_t field, uint32_t v) {
    Tag(field, 5);
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  WireWriter& Double(uint32_t field, double v) {
    return Fixed64(field, std::bit_cast<uint64_t>(v));
  }
  WireWriter& Bytes(uint32_t field, std::string_view v) {
    Tag(field, 2);
    RawVarint(v.size());
    out_.append(v);
    return *this;
  }
  WireWriter& Message(uint32_t field, const WireWriter& m) {
    return Bytes(field, m.data());
  }
  // A packed repeated fixed64 (or double) field: one length, the values.
  WireWriter& PackedFixed64(uint32_t field, std::span<const uint64_t> values) {
    Tag(field, 2);
    RawVarint(values.size() * 8);
    for (uint64_t v : values) RawFixed64(v);
    return *this;
  }
  WireWriter& PackedDouble(uint32_t field, std::span<const double> values) {
    Tag(field, 2);
    RawVarint(values.size() * 8);
    for (double v : values) RawFixed64(std::bit_cast<uint64_t>(v));
    return *this;
  }

  const std::string& data() const { return out_; }

 private:
  void Tag(uint32_t field, int wire_type) {
    RawVarint(uint64_t{field} << 3 | static_cast<uint64_t>(wire_type));
  }
  void RawFixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  void RawVarint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }

  std::string out_;
};

}  // namespace aiq::otlp::detail

#endif  // AIQ_EXPORTER_OTLP_DETAIL_WIRE_WRITER_H_
