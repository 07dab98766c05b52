#include "exporter/util/binary_codec.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace aiq::util {
namespace {

TEST(BinaryCodecTest, RoundTripsEveryType) {
  BinaryWriter w;
  w.U8(200);
  w.Bool(true);
  w.Varint(0);
  w.Varint(std::numeric_limits<uint64_t>::max());
  w.Signed(-1);
  w.Signed(std::numeric_limits<int64_t>::min());
  w.Double(-0.0);
  w.Double(std::numeric_limits<double>::quiet_NaN());
  w.Double(0.1);
  w.Fixed32(0xdeadbeef);
  w.Fixed64(0x0123456789abcdefULL);
  w.String(std::string("a\0b", 3));
  w.Time(absl::FromUnixNanos(-5));
  w.Time(absl::InfinitePast());
  w.Time(absl::InfiniteFuture());
  w.Duration(absl::Milliseconds(1500));
  w.Duration(absl::InfiniteDuration());
  const std::vector<double> doubles = {1.5, -2.25};
  const std::vector<uint64_t> varints = {0, 300, 1ULL << 40};
  const std::vector<std::string> strings = {"", "x", "yz"};
  w.Doubles(doubles);
  w.Varints(varints);
  w.Strings(strings);

  BinaryReader r(w.data());
  EXPECT_EQ(r.U8("u8"), 200);
  EXPECT_TRUE(r.Bool("bool"));
  EXPECT_EQ(r.Varint("v0"), 0u);
  EXPECT_EQ(r.Varint("vmax"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(r.Signed("s"), -1);
  EXPECT_EQ(r.Signed("smin"), std::numeric_limits<int64_t>::min());
  const double neg_zero = r.Double("d");
  EXPECT_EQ(neg_zero, 0.0);
  EXPECT_TRUE(std::signbit(neg_zero));
  EXPECT_TRUE(std::isnan(r.Double("nan")));
  EXPECT_EQ(r.Double("d"), 0.1);  // bit-exact
  EXPECT_EQ(r.Fixed32("f32"), 0xdeadbeefu);
  EXPECT_EQ(r.Fixed64("f64"), 0x0123456789abcdefULL);
  EXPECT_EQ(r.String("s"), std::string("a\0b", 3));
  EXPECT_EQ(r.Time("t"), absl::FromUnixNanos(-5));
  EXPECT_EQ(r.Time("t"), absl::InfinitePast());
  EXPECT_EQ(r.Time("t"), absl::InfiniteFuture());
  EXPECT_EQ(r.Duration("d"), absl::Milliseconds(1500));
  EXPECT_EQ(r.Duration("d"), absl::InfiniteDuration());
  EXPECT_EQ(r.Doubles("ds"), doubles);
  EXPECT_EQ(r.Varints("vs"), varints);
  EXPECT_EQ(r.Strings("ss"), strings);
  EXPECT_TRUE(r.Finish().ok()) << r.status();
}

TEST(BinaryCodecTest, BigEndianKeysSortAsTheirNumbers) {
  std::string a = "k", b = "k";
  AppendBigEndian64(a, 255);
  AppendBigEndian64(b, 256);
  EXPECT_EQ(a, std::string("k\0\0\0\0\0\0\0\xff", 9));
  EXPECT_LT(a, b);  // bytewise, as RocksDB compares keys
  EXPECT_EQ(ReadBigEndian64(std::string_view(a).substr(1)), 255u);
  std::string max;
  AppendBigEndian64(max, ~uint64_t{0});
  EXPECT_EQ(ReadBigEndian64(max), ~uint64_t{0});
}

TEST(BinaryCodecTest, TruncationNamesTheFieldAndSticks) {
  BinaryWriter w;
  w.Varint(7);
  w.Double(1.0);
  const std::string cut = w.data().substr(0, w.size() - 1);
  BinaryReader r(cut);
  EXPECT_EQ(r.Varint("count"), 7u);
  EXPECT_EQ(r.Double("mean"), 0.0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.Varint("later"), 0u);  // sticky
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.status().message(), "mean at byte 1: needs 8 bytes, 7 left");
}

TEST(BinaryCodecTest, HugeCountFailsWithoutAllocating) {
  BinaryWriter w;
  w.Varint(1ULL << 60);  // claims 2^60 doubles
  w.Double(1.0);
  BinaryReader r(w.data());
  EXPECT_TRUE(r.Doubles("samples").empty());
  EXPECT_EQ(r.status().message(),
            "samples at byte 9: count 1152921504606846976 exceeds what 8 "
            "bytes can hold");
}

TEST(BinaryCodecTest, RejectsOverlongVarintBadBoolAndRange) {
  const std::string overlong(11, '\xff');
  BinaryReader r1(overlong);
  r1.Varint("v");
  EXPECT_FALSE(r1.ok());

  BinaryReader r2(std::string_view("\x02", 1));
  r2.Bool("flag");
  EXPECT_EQ(r2.status().message(), "flag at byte 1: not a boolean");

  BinaryWriter w;
  w.Signed(5);
  BinaryReader r3(w.data());
  EXPECT_EQ(r3.Int("kind", 0, 2), 0);
  EXPECT_EQ(r3.status().message(), "kind at byte 1: value 5 outside [0, 2]");
}

TEST(BinaryCodecTest, BlocksNestWithoutCopies) {
  BinaryWriter w;
  const size_t outer = w.BeginBlock();
  w.Varint(300);
  const size_t inner = w.BeginBlock();
  w.String("abc");
  w.EndBlock(inner);
  w.EndBlock(outer);
  w.U8(7);
  BinaryReader r(w.data());
  BinaryReader o(r.Block("outer"));
  EXPECT_EQ(o.Varint("n"), 300u);
  BinaryReader i(o.Block("inner"));
  EXPECT_EQ(i.String("s"), "abc");
  EXPECT_TRUE(i.Finish().ok());
  EXPECT_TRUE(o.Finish().ok());
  EXPECT_EQ(r.U8("tail"), 7);
  EXPECT_TRUE(r.Finish().ok());
  // A block claiming more than is there fails.
  BinaryReader cut(std::string_view(w.data()).substr(0, 10));
  cut.Block("outer");
  EXPECT_FALSE(cut.ok());
}

TEST(BinaryCodecTest, FinishRejectsTrailingBytes) {
  BinaryWriter w;
  w.Varint(1);
  w.Varint(2);
  BinaryReader r(w.data());
  r.Varint("a");
  EXPECT_EQ(r.Finish().message(), "end of record at byte 1: 1 unread bytes");
}

}  // namespace
}  // namespace aiq::util
