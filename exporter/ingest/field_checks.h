// The checks every decoder of client input into events applies to its
// text and times: the JSON API's (decoder.h) and the OTLP mapping's
// (exporter/otlp/genai_mapping.h), so both refuse the same values with the
// same words.
//
// Example:
//   std::optional<aiq::ingest::TextProblem> p =
//       aiq::ingest::CheckText("ok\n", /*max_bytes=*/256, /*label=*/true);
//   // p->reason == RejectReason::kInvalidField, p->what says "byte 0x0a"
//   std::string q = aiq::ingest::QuoteBounded(std::string(1000, 'x'));
//   // the first 64 bytes, then "... (1000 bytes)"
//   const absl::Time now = absl::FromUnixSeconds(1800000000);
//   bool ok = !aiq::ingest::CheckEventTime(now, now);  // true
//   const char* t = aiq::ingest::JsonTypeName(
//       simdjson::dom::element_type::STRING);  // "string"
#ifndef AIQ_EXPORTER_INGEST_FIELD_CHECKS_H_
#define AIQ_EXPORTER_INGEST_FIELD_CHECKS_H_

#include <simdjson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "exporter/ingest/event.h"

namespace aiq::ingest {

// Client text echoed in an error message: at most this many bytes of it.
inline constexpr size_t kQuotedBytes = 64;

// `s` when short; else its first kQuotedBytes (cut on a UTF-8 character
// boundary) and its size, so a megabyte key does not come back whole.
std::string QuoteBounded(std::string_view s);

// Why a string was refused: the reason, and what to say after the field.
struct TextProblem {
  RejectReason reason = RejectReason::kInvalidField;
  std::string what;  // e.g. "longer than limits.max_string_bytes (256)"
};

// The problem with `s` as event text, or nullopt: longer than `max_bytes`
// (limits.max_string_bytes; kTooLarge), or, when it can become a label
// value (`label`), a control character (C0 or DEL; kInvalidField), which
// exposition formats and dashboards mangle.
std::optional<TextProblem> CheckText(std::string_view s, int64_t max_bytes,
                                     bool label);

// The problem with `t` as an event's time, or nullopt: before 2000-01-01
// or more than 24 hours after `now` (kOutOfRange) is almost always a unit
// mistake (milliseconds sent as seconds) and would poison label-delay
// histograms.
std::optional<TextProblem> CheckEventTime(absl::Time t, absl::Time now);

// The word error messages use for a JSON value's type: "object", "array",
// "number", "string", "bool" or "null".
const char* JsonTypeName(simdjson::dom::element_type t);

}  // namespace aiq::ingest

#endif  // AIQ_EXPORTER_INGEST_FIELD_CHECKS_H_
