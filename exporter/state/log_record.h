// The records of the state log (docs/state.md, "Log records"). The log is
// the exporter's input, not its output: an ingest record is the request
// body as it was accepted, with the times it was decoded and applied, so
// replay runs the very same decode-and-apply code as serving did and
// reaches the very same state. An OTLP record is the same for an OTLP/HTTP
// export request (its body after any gzip). A reference record is a
// reference CSV that PUT installed.
//
// Example:
//   LogRecord r;
//   r.type = LogRecord::Type::kIngest;
//   r.time = absl::Now();
//   r.body = R"({"model":"m","prediction":"yes"})";
//   std::string bytes = EncodeLogRecord(r);
//   bool same = EncodeLogRecordHead(r) + r.body == bytes;  // true
//   absl::StatusOr<LogRecord> back = DecodeLogRecord(bytes);
#ifndef AIQ_EXPORTER_STATE_LOG_RECORD_H_
#define AIQ_EXPORTER_STATE_LOG_RECORD_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/ingest/decoder.h"
#include "exporter/ingest/event.h"
#include "exporter/otlp/otlp_request.h"

namespace aiq::state {

struct LogRecord {
  enum class Type : uint8_t { kIngest = 1, kReference = 2, kOtlp = 3 };
  Type type = Type::kIngest;
  // The model clock while the record was applied (see docs/state.md).
  absl::Time time;
  // kIngest: what the decoder was given.
  ingest::EventKind kind = ingest::EventKind::kPrediction;
  ingest::BodyFormat format = ingest::BodyFormat::kJson;
  // kIngest and kOtlp: the default timestamp of events without one.
  absl::Time decode_time;
  std::string idempotency_key;  // kIngest; "" when the request had none
  // kOtlp: what the OTLP decoder was given.
  otlp::Signal signal = otlp::Signal::kTraces;
  otlp::Encoding encoding = otlp::Encoding::kProtobuf;
  // kReference: the model whose reference was replaced.
  std::string model;
  // kIngest, kOtlp: the request body; kReference: the CSV.
  std::string body;
  // Where the log holds it: set when it is read back (replay), not encoded.
  uint64_t seq = 0;
};

std::string EncodeLogRecord(const LogRecord& record);
// The encoding without the body's bytes, which follow it:
// EncodeLogRecordHead(r) + r.body == EncodeLogRecord(r). Lets the log write
// (and checksum) a large body without copying it (SegmentLog::PayloadParts).
std::string EncodeLogRecordHead(const LogRecord& record);
// DataLoss naming the field when the bytes are not a record.
absl::StatusOr<LogRecord> DecodeLogRecord(std::string_view bytes);

}  // namespace aiq::state

#endif  // AIQ_EXPORTER_STATE_LOG_RECORD_H_
