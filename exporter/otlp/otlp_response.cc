#include "exporter/otlp/otlp_response.h"

#include <simdjson.h>

#include <nlohmann/json.hpp>

#include "exporter/otlp/detail/wire_writer.h"

namespace aiq::otlp {
namespace {

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The length of the valid UTF-8 sequence at the front of `s`, or 0.
size_t Utf8SequenceLength(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t b0 = byte(0);
  if (b0 < 0x80) return 1;
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xbf;  // the second byte's range
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    if (b0 == 0xe0) lo = 0xa0;  // no overlong forms
    if (b0 == 0xed) hi = 0x9f;  // no surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < n || byte(1) < lo || byte(1) > hi) return 0;
  for (size_t i = 2; i < n; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
  }
  return n;
}

// proto3 `string` fields must be UTF-8: each byte that is not part of a
// valid sequence becomes U+FFFD (a message may quote a cut-off prefix).
std::string ValidUtf8(std::string_view s) {
  if (simdjson::validate_utf8(s.data(), s.size())) return std::string(s);
  std::string out;
  while (!s.empty()) {
    const size_t n = Utf8SequenceLength(s);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      s.remove_prefix(1);
    } else {
      out.append(s.substr(0, n));
      s.remove_prefix(n);
    }
  }
  return out;
}

}  // namespace

std::string EncodeExportResponse(Encoding encoding, Signal signal,
                                 int64_t rejected, std::string_view message) {
  if (rejected == 0 && message.empty()) {
    return encoding == Encoding::kJson ? "{}" : "";
  }
  if (encoding == Encoding::kJson) {
    const char* count = signal == Signal::kTraces ? "rejectedSpans"
                        : signal == Signal::kLogs ? "rejectedLogRecords"
                                                  : "rejectedDataPoints";
    // int64 as a decimal string, as the JSON mapping writes it.
    return Dump({{"partialSuccess",
                  {{count, std::to_string(rejected)},
                   {"errorMessage", std::string(message)}}}});
  }
  // Export*PartialSuccess: rejected_{spans,log_records,data_points} = 1
  // (int64), error_message = 2; Export*ServiceResponse: partial_success = 1.
  detail::WireWriter partial;
  if (rejected != 0) partial.Varint(1, static_cast<uint64_t>(rejected));
  if (!message.empty()) partial.Bytes(2, ValidUtf8(message));
  detail::WireWriter out;
  out.Message(1, partial);
  return out.data();
}

std::string EncodeStatus(Encoding encoding, int code,
                         std::string_view message) {
  if (encoding == Encoding::kJson) {
    return Dump({{"code", code}, {"message", std::string(message)}});
  }
  // google.rpc.Status: code = 1 (int32), message = 2.
  detail::WireWriter out;
  if (code != 0) out.Varint(1, static_cast<uint64_t>(int64_t{code}));
  if (!message.empty()) out.Bytes(2, ValidUtf8(message));
  return out.data();
}

}  // namespace aiq::otlp
