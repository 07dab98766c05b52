#include "exporter/util/gzip.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <random>
#include <string>

namespace aiq::util {
namespace {

// gzip of `n` zero bytes straight from zlib (not through Gzip), fed in
// pieces so the test never holds the uncompressed data.
std::string ZlibGzipOfZeros(size_t n) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY),
            Z_OK);
  const std::string zeros(1 << 20, '\0');
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (zs.avail_in == 0 && n > 0) {
      const size_t piece = std::min(n, zeros.size());
      zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
      zs.avail_in = static_cast<uInt>(piece);
      n -= piece;
    }
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = deflate(&zs, n == 0 ? Z_FINISH : Z_NO_FLUSH);
    EXPECT_NE(rc, Z_STREAM_ERROR);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  deflateEnd(&zs);
  return out;
}

TEST(GzipTest, InflatesWhatGzipWrote) {
  // printf 'hello\n' | gzip -n -9
  const unsigned char kHello[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00,
                                  0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9,
                                  0xc9, 0xe7, 0x02, 0x00, 0x20, 0x30, 0x3a,
                                  0x36, 0x06, 0x00, 0x00, 0x00};
  const std::string z(reinterpret_cast<const char*>(kHello), sizeof(kHello));
  absl::StatusOr<std::string> back = Gunzip(z, 100);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, "hello\n");
  // A wrong CRC-32 (the trailer's first byte) or length is corrupt.
  std::string bad_crc = z;
  bad_crc[18] ^= 1;
  EXPECT_EQ(Gunzip(bad_crc, 100).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string bad_length = z;
  bad_length[22] ^= 1;
  EXPECT_EQ(Gunzip(bad_length, 100).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Trailing bytes that are no gzip member.
  EXPECT_EQ(Gunzip(z + "junk", 100).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GzipTest, ZlibAndRawDeflateAreNotGzip) {
  const std::string data(1000, 'z');
  for (int window_bits : {15, -15}) {  // zlib wrapper, raw deflate
    z_stream zs{};
    ASSERT_EQ(
        deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY),
        Z_OK);
    std::string out(deflateBound(&zs, data.size()), '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    EXPECT_EQ(Gunzip(out, 1 << 20).status().code(),
              absl::StatusCode::kInvalidArgument)
        << window_bits;
  }
}

TEST(GzipTest, AZipBombStopsAtTheBound) {
  // 128 MiB of zeros in about 128 KB of gzip.
  const std::string bomb = ZlibGzipOfZeros(size_t{128} << 20);
  EXPECT_LT(bomb.size(), 1u << 20);
  absl::StatusOr<std::string> back = Gunzip(bomb, 1 << 20);
  EXPECT_EQ(back.status().code(), absl::StatusCode::kResourceExhausted);
  // Under the bound, what it allocates stays under it too.
  const std::string small = ZlibGzipOfZeros(100'000);
  back = Gunzip(small, 100'000);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->size(), 100'000u);
  EXPECT_LE(back->capacity(), 100'000u);
}

TEST(GzipTest, RoundTrips) {
  const std::string data(10000, 'a');
  absl::StatusOr<std::string> z = Gzip(data);
  ASSERT_TRUE(z.ok());
  EXPECT_LT(z->size(), 200u);
  EXPECT_EQ(static_cast<unsigned char>((*z)[0]), 0x1f);  // gzip magic
  absl::StatusOr<std::string> back = Gunzip(*z, data.size());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);
  EXPECT_EQ(*Gunzip(*Gzip(""), 10), "");
}

TEST(GzipTest, LargeIncompressibleInputSpansChunks) {
  std::mt19937 rng(7);
  std::string data(300'000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  absl::StatusOr<std::string> back = Gunzip(*Gzip(data), data.size());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, data);
}

TEST(GzipTest, ConcatenatedMembersAreOneBody) {
  const std::string z = *Gzip("hello, ") + *Gzip("world");
  EXPECT_EQ(*Gunzip(z, 100), "hello, world");
}

TEST(GzipTest, OutputPastTheBoundIsRefusedWithoutInflatingIt) {
  // 10 MB of zeros compress to about 10 KB.
  const std::string zeros(10 << 20, '\0');
  const std::string z = *Gzip(zeros);
  absl::StatusOr<std::string> back = Gunzip(z, 1 << 20);
  EXPECT_EQ(back.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(back.status().message(), "inflates to more than 1048576 bytes");
  // Exactly the bound is fine.
  EXPECT_TRUE(Gunzip(*Gzip(std::string(1000, 'x')), 1000).ok());
  EXPECT_FALSE(Gunzip(*Gzip(std::string(1001, 'x')), 1000).ok());
}

TEST(GzipTest, CorruptAndTruncatedInputAreInvalidArgument) {
  const std::string z = *Gzip(std::string(5000, 'q') + "tail");
  for (size_t n : {size_t{0}, size_t{1}, size_t{10}, z.size() - 1}) {
    absl::StatusOr<std::string> back = Gunzip(z.substr(0, n), 1 << 20);
    EXPECT_EQ(back.status().code(), absl::StatusCode::kInvalidArgument) << n;
  }
  EXPECT_EQ(Gunzip("plain text, not gzip", 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::string flipped = z;
  flipped[flipped.size() / 2] ^= 0x55;
  EXPECT_FALSE(Gunzip(flipped, 1 << 20).ok());
}

}  // namespace
}  // namespace aiq::util
