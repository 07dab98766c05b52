#include "exporter/ingest/field_checks.h"

#include "absl/strings/str_cat.h"
#include "exporter/util/absl_compat.h"

namespace aiq::ingest {

std::string QuoteBounded(std::string_view s) {
  if (s.size() <= kQuotedBytes) return std::string(s);
  size_t cut = kQuotedBytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(util::ToAbsl(s.substr(0, cut)), "... (", s.size(),
                      " bytes)");
}

std::optional<TextProblem> CheckText(std::string_view s, int64_t max_bytes,
                                     bool label) {
  if (static_cast<int64_t>(s.size()) > max_bytes) {
    return TextProblem{
        RejectReason::kTooLarge,
        absl::StrCat("longer than limits.max_string_bytes (", max_bytes, ")")};
  }
  if (!label) return std::nullopt;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      return TextProblem{
          RejectReason::kInvalidField,
          absl::StrCat("must not contain control characters (byte 0x",
                       absl::Hex(c, absl::kZeroPad2), " at offset ", i, ")")};
    }
  }
  return std::nullopt;
}

std::optional<TextProblem> CheckEventTime(absl::Time t, absl::Time now) {
  constexpr int64_t kMinTimestamp = 946684800;  // 2000-01-01T00:00:00Z
  if (t < absl::FromUnixSeconds(kMinTimestamp) || t > now + absl::Hours(24)) {
    return TextProblem{
        RejectReason::kOutOfRange,
        "must be after 2000-01-01 and at most 24h in the future"};
  }
  return std::nullopt;
}

const char* JsonTypeName(simdjson::dom::element_type t) {
  switch (t) {
    case simdjson::dom::element_type::ARRAY:
      return "array";
    case simdjson::dom::element_type::OBJECT:
      return "object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
      return "number";
    case simdjson::dom::element_type::STRING:
      return "string";
    case simdjson::dom::element_type::BOOL:
      return "bool";
    case simdjson::dom::element_type::NULL_VALUE:
      return "null";
  }
  return "?";
}

}  // namespace aiq::ingest
