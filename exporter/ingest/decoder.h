// Decodes ingest request bodies (a JSON object, a JSON array of objects, or
// NDJSON) into typed events, validating every field against the config.
// Runs outside any lock: it reads only the immutable config.
//
// Example, given `const config::Config& config` and
// `std::string_view body`:
//   aiq::ingest::Decoder decoder(config);
//   absl::StatusOr<DecodeResult> r = decoder.Decode(
//       EventKind::kPrediction, BodyFormat::kNdjson, body, absl::Now());
//   // r->events: valid events; r->errors: one per rejected event, naming
//   // the event index and the field.
//
// A body that is not JSON at all (or an array with a syntax error) is an
// InvalidArgument status: nothing in it is applied. In NDJSON each line
// stands alone, so a bad line rejects only that event.
#ifndef AIQ_EXPORTER_INGEST_DECODER_H_
#define AIQ_EXPORTER_INGEST_DECODER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/config/config.h"
#include "exporter/ingest/event.h"

namespace aiq::ingest {

enum class BodyFormat { kJson, kNdjson };

// Maps a Content-Type header value to a body format. An empty header is
// taken as JSON; anything other than JSON/NDJSON is nullopt (HTTP 415).
std::optional<BodyFormat> FormatFromContentType(std::string_view content_type);

struct EventError {
  int64_t index = 0;  // 0-based position of the event in the body
  RejectReason reason = RejectReason::kInvalidField;
  std::string message;  // names the field, e.g. `latency_ms: must be >= 0`
};

struct DecodedEvent {
  int64_t index = 0;
  Event event;
};

struct DecodeResult {
  std::vector<DecodedEvent> events;  // valid events, in body order
  std::vector<EventError> errors;    // in body order
  int64_t total = 0;                 // events found in the body
};

struct DecoderOptions {
  // Rejects an event without a `timestamp` (kMissingField) instead of
  // stamping it with the receive time: a replay has none.
  bool require_timestamp = false;
};

class Decoder {
 public:
  explicit Decoder(const config::Config& config, DecoderOptions options = {});

  absl::StatusOr<DecodeResult> Decode(EventKind kind, BodyFormat format,
                                      std::string_view body,
                                      absl::Time now) const;

 private:
  struct ModelLookup {
    absl::flat_hash_map<std::string, int> features;
    // "features.<name>" by feature, for error messages: built once here
    // rather than for every value decoded.
    std::vector<std::string> feature_fields;
  };
  friend class EventParser;

  const config::Config& config_;
  const DecoderOptions options_;
  absl::flat_hash_map<std::string, int> models_;
  std::vector<ModelLookup> lookups_;
};

}  // namespace aiq::ingest

#endif  // AIQ_EXPORTER_INGEST_DECODER_H_
