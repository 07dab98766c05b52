#include "exporter/otlp/detail/wire_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "exporter/otlp/detail/wire_writer.h"

namespace aiq::otlp::detail {
namespace {

TEST(WireReaderTest, ReadsEveryWireType) {
  WireWriter w;
  w.Varint(1, 150).Fixed64(2, 0x0102030405060708).Bytes(3, "abc");
  w.Varint(536870911, UINT64_MAX);  // the largest field number and value
  std::string bytes = w.data();
  bytes += std::string("\x25\x01\x00\x00\x80", 5);  // field 4, fixed32
  WireReader r(bytes);
  WireField f;
  std::vector<WireField> fields;
  while (r.Next(f)) fields.push_back(f);
  ASSERT_TRUE(r.error().empty()) << r.error();
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0].value, 150u);
  EXPECT_EQ(fields[1].type, WireType::kFixed64);
  EXPECT_EQ(fields[1].value, 0x0102030405060708u);
  EXPECT_EQ(fields[2].bytes, "abc");
  EXPECT_EQ(fields[3].number, 536870911u);
  EXPECT_EQ(fields[3].value, UINT64_MAX);
  EXPECT_EQ(fields[4].type, WireType::kFixed32);
  EXPECT_EQ(fields[4].value, 0x80000001u);
}

TEST(WireReaderTest, RefusesMalformedInput) {
  const std::pair<std::string, std::string_view> cases[] = {
      {std::string("\x08", 1), "malformed or truncated varint"},
      {std::string("\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12),
       "malformed or truncated varint"},
      // The tenth byte holds only bit 63.
      {std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 11),
       "malformed or truncated varint"},
      {std::string("\x09\x01\x02", 3), "truncated fixed-width field"},
      {std::string("\x0a\x05"
                   "ab",
                   4),
       "length-delimited field longer than the rest of its message"},
      {std::string("\x0b", 1),
       "unsupported wire type (groups are not allowed)"},
      {std::string("\x0c", 1),
       "unsupported wire type (groups are not allowed)"},
      {std::string("\x0e", 1),
       "unsupported wire type (groups are not allowed)"},
      {std::string("\x00", 1), "invalid field number"},
      {std::string("\x80", 1), "malformed or truncated field tag"},
  };
  for (const auto& [bytes, error] : cases) {
    WireReader r(bytes);
    WireField f;
    while (r.Next(f)) {
    }
    EXPECT_EQ(r.error(), error) << testing::PrintToString(bytes);
  }
}

TEST(WireReaderTest, EdgesOfTheInput) {
  WireField f;
  WireReader empty("");
  EXPECT_FALSE(empty.Next(f));
  EXPECT_TRUE(empty.error().empty());
  // A length that ends exactly at the end, and an empty field.
  WireReader exact(std::string_view("\x0a\x02zz\x12\x00", 6));
  ASSERT_TRUE(exact.Next(f));
  EXPECT_EQ(f.bytes, "zz");
  ASSERT_TRUE(exact.Next(f));
  EXPECT_EQ(f.number, 2u);
  EXPECT_TRUE(f.bytes.empty());
  EXPECT_FALSE(exact.Next(f));
  EXPECT_TRUE(exact.error().empty());
  // Field number 2^29 is past the largest.
  WireWriter w;
  w.Varint(1, 1);
  std::string bytes = w.data() + std::string("\x80\x80\x80\x80\x10\x00", 6);
  WireReader big(bytes);
  EXPECT_TRUE(big.Next(f));
  EXPECT_FALSE(big.Next(f));
  EXPECT_EQ(big.error(), "invalid field number");
  // After an error, nothing more is read.
  EXPECT_FALSE(big.Next(f));
  // A length of 2^64 - 1 is refused, not added to the position.
  WireReader huge(
      std::string_view("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01zz", 14));
  EXPECT_FALSE(huge.Next(f));
  EXPECT_EQ(huge.error(),
            "length-delimited field longer than the rest of its message");
}

TEST(WireReaderTest, PackedVarints) {
  std::string_view in("\x01\x96\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
                      13);
  uint64_t v = 0;
  ASSERT_TRUE(ReadPackedVarint(in, v));
  EXPECT_EQ(v, 1u);
  ASSERT_TRUE(ReadPackedVarint(in, v));
  EXPECT_EQ(v, 150u);
  ASSERT_TRUE(ReadPackedVarint(in, v));
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_TRUE(in.empty());
  EXPECT_FALSE(ReadPackedVarint(in, v));
  std::string_view cut("\x96", 1);
  EXPECT_FALSE(ReadPackedVarint(cut, v));
  EXPECT_EQ(cut.size(), 1u);  // not advanced
}

TEST(WireReaderTest, NamesWireTypes) {
  EXPECT_STREQ(WireTypeName(WireType::kVarint), "varint");
  EXPECT_STREQ(WireTypeName(WireType::kFixed64), "fixed64");
  EXPECT_STREQ(WireTypeName(WireType::kLengthDelimited), "length-delimited");
  EXPECT_STREQ(WireTypeName(WireType::kFixed32), "fixed32");
}

}  // namespace
}  // namespace aiq::otlp::detail
