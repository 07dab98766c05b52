// The OTLP/HTTP JSON decoders (exporter/otlp/otlp_decoder.h) on arbitrary
// bodies: traces, logs and metrics each decode or refuse, with the
// invariants of otlp_fuzz_checks.h (the views point into the request's
// own storage, which must be set). The reply encoders, given the bytes as
// an error message, must still write JSON that parses.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "exporter/otlp/otlp_response.h"
#include "fuzz/otlp_fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  aiq::otlp::fuzz::CheckAll(aiq::otlp::Encoding::kJson, body);

  const std::string reply = aiq::otlp::EncodeExportResponse(
      aiq::otlp::Encoding::kJson, aiq::otlp::Signal::kLogs, 1,
      body.substr(0, 200));
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  aiq::otlp::fuzz::Check(parser.parse(reply).get(root) == simdjson::SUCCESS);
  return 0;
}
