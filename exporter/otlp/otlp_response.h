// The bodies of OTLP/HTTP replies
// (https://opentelemetry.io/docs/specs/otlp/#otlphttp-response), in the
// request's encoding: the Export*ServiceResponse of a 200, whose
// partial_success counts the items refused, and the google.rpc.Status of
// a refusal. Field numbers: opentelemetry-proto v1.9.0,
// opentelemetry/proto/collector/{trace,logs,metrics}/v1/*_service.proto,
// and googleapis google/rpc/status.proto.
//
// Example:
//   std::string ok = aiq::otlp::EncodeExportResponse(
//       aiq::otlp::Encoding::kJson, aiq::otlp::Signal::kTraces, 2,
//       "2 of 5 rejected");
//   // {"partialSuccess":{"rejectedSpans":"2","errorMessage":"2 of 5 ..."}}
//   std::string bad = aiq::otlp::EncodeStatus(
//       aiq::otlp::Encoding::kProtobuf, 3, "truncated");
#ifndef AIQ_EXPORTER_OTLP_OTLP_RESPONSE_H_
#define AIQ_EXPORTER_OTLP_OTLP_RESPONSE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "exporter/otlp/otlp_request.h"

namespace aiq::otlp {

// With nothing refused (0 and ""), the empty message: no bytes, or "{}".
std::string EncodeExportResponse(Encoding encoding, Signal signal,
                                 int64_t rejected, std::string_view message);

// google.rpc.Status{code, message}; `code` is a google.rpc.Code.
std::string EncodeStatus(Encoding encoding, int code, std::string_view message);

}  // namespace aiq::otlp

#endif  // AIQ_EXPORTER_OTLP_OTLP_RESPONSE_H_
