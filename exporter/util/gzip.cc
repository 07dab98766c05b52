#include "exporter/util/gzip.h"

#include <zlib.h>

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"

namespace aiq::util {

absl::StatusOr<std::string> Gzip(std::string_view data) {
  if (data.size() > std::numeric_limits<uInt>::max()) {
    return absl::InvalidArgumentError("too large to gzip in one piece");
  }
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper.
  if (deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError("deflate failed");
  out.resize(zs.total_out);
  return out;
}

absl::StatusOr<std::string> Gunzip(std::string_view data,
                                   size_t max_output_bytes) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip wrapper only (not zlib's, not raw deflate).
  if (inflateInit2(&zs, 15 + 16) != Z_OK) {
    return absl::InternalError("inflateInit2 failed");
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  // avail_in is 32 bits: longer input is fed in pieces.
  constexpr size_t kMaxIn = size_t{1} << 30;
  size_t in_left = data.size();
  std::string out;
  // The last member's ISIZE (its length mod 2^32, RFC 1952 2.3.1) is a
  // hint of the size: the usual single member takes one allocation. A
  // false hint costs a reallocation, or a reservation up to the bound.
  if (data.size() >= 18) {
    uint32_t isize = 0;
    for (int i = 0; i < 4; ++i) {
      isize |= uint32_t{static_cast<uint8_t>(data[data.size() - 4 + i])}
               << (8 * i);
    }
    out.reserve(std::min<size_t>(isize, max_output_bytes));
  }
  char chunk[64 * 1024];
  absl::Status status;
  while (status.ok()) {
    if (zs.avail_in == 0 && in_left > 0) {
      zs.avail_in = static_cast<uInt>(std::min(in_left, kMaxIn));
      in_left -= zs.avail_in;
    }
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    const size_t n = sizeof(chunk) - zs.avail_out;
    if (n > max_output_bytes - out.size()) {
      status = absl::ResourceExhaustedError(
          absl::StrCat("inflates to more than ", max_output_bytes, " bytes"));
      break;
    }
    if (out.size() + n > out.capacity()) {
      // Grow by doubling, as append would, but never past the bound (a
      // fresh string's reserve is exact; growing one in place rounds up).
      std::string bigger;
      bigger.reserve(std::min(max_output_bytes,
                              std::max(out.size() + n, 2 * out.capacity())));
      bigger.append(out);
      out.swap(bigger);
    }
    out.append(chunk, n);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && in_left == 0) break;
      // Another member follows (concatenated gzip, RFC 1952 2.2).
      if (inflateReset(&zs) != Z_OK) {
        status = absl::InternalError("inflateReset failed");
      }
    } else if (rc == Z_BUF_ERROR) {
      // No progress with 64 KiB of room: the input ended mid-stream.
      status = absl::InvalidArgumentError("truncated gzip data");
    } else if (rc == Z_MEM_ERROR) {
      status = absl::ResourceExhaustedError("out of memory inflating gzip");
    } else if (rc != Z_OK) {
      status = absl::InvalidArgumentError(
          absl::StrCat("not valid gzip data (",
                       zs.msg != nullptr ? zs.msg : "corrupt", ")"));
    } else if (n == 0 && zs.avail_in == 0 && in_left == 0) {
      status = absl::InvalidArgumentError("truncated gzip data");
    }
  }
  inflateEnd(&zs);
  if (!status.ok()) return status;
  return out;
}

}  // namespace aiq::util
