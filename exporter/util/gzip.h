// gzip (RFC 1952) with zlib: compressing /metrics responses, and
// inflating request bodies sent with Content-Encoding: gzip (OTLP/HTTP
// clients' OTEL_EXPORTER_OTLP_COMPRESSION=gzip) with a bound on the
// output, so a small body cannot inflate past the body limit (a "zip
// bomb" allocates no more than the bound).
//
// Example:
//   absl::StatusOr<std::string> z = aiq::util::Gzip("hello");
//   absl::StatusOr<std::string> back =
//       aiq::util::Gunzip(*z, /*max_output_bytes=*/1 << 20);  // "hello"
#ifndef AIQ_EXPORTER_UTIL_GZIP_H_
#define AIQ_EXPORTER_UTIL_GZIP_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace aiq::util {

// The fastest level: metrics text compresses well even at it.
absl::StatusOr<std::string> Gzip(std::string_view data);

// One or more concatenated gzip members. InvalidArgument for input that is
// not gzip, corrupt or truncated (a member's CRC-32 and length are
// checked); ResourceExhausted as soon as the output would pass
// `max_output_bytes`, which also bounds what the output allocates.
absl::StatusOr<std::string> Gunzip(std::string_view data,
                                   size_t max_output_bytes);

}  // namespace aiq::util

#endif  // AIQ_EXPORTER_UTIL_GZIP_H_
