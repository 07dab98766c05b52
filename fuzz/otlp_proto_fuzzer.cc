// The OTLP/HTTP protobuf decoders (exporter/otlp/otlp_decoder.h) on
// arbitrary bodies: traces, logs and metrics each decode or refuse, with
// the invariants of otlp_fuzz_checks.h. The same bytes also go through
// Gunzip (Content-Encoding: gzip; what inflates is decoded too) and, as an
// error message, through the reply encoders, whose output must read back
// with the wire reader as valid UTF-8.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "exporter/otlp/detail/wire_reader.h"
#include "exporter/otlp/otlp_response.h"
#include "exporter/util/gzip.h"
#include "fuzz/otlp_fuzz_checks.h"

namespace {

using aiq::otlp::fuzz::Check;

// The google.rpc.Status reply reads back: code, then the message (if any)
// as valid UTF-8.
void CheckStatusReply(std::string_view message) {
  const std::string reply =
      aiq::otlp::EncodeStatus(aiq::otlp::Encoding::kProtobuf, 3, message);
  aiq::otlp::detail::WireReader r(reply);
  aiq::otlp::detail::WireField f;
  Check(r.Next(f) && f.number == 1 && f.value == 3);
  if (r.Next(f)) {
    Check(f.number == 2 && !message.empty());
    Check(simdjson::validate_utf8(f.bytes.data(), f.bytes.size()));
  }
  Check(!r.Next(f) && r.error().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  aiq::otlp::fuzz::CheckAll(aiq::otlp::Encoding::kProtobuf, body);

  absl::StatusOr<std::string> inflated = aiq::util::Gunzip(body, 1 << 16);
  if (inflated.ok()) {
    Check(inflated->size() <= (1 << 16));
    aiq::otlp::fuzz::CheckAll(aiq::otlp::Encoding::kProtobuf, *inflated);
  } else {
    Check(absl::IsInvalidArgument(inflated.status()) ||
          absl::IsResourceExhausted(inflated.status()));
  }

  CheckStatusReply(body.substr(0, 200));
  return 0;
}
