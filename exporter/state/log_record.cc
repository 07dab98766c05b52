#include "exporter/state/log_record.h"

#include "exporter/util/binary_codec.h"

namespace aiq::state {

std::string EncodeLogRecordHead(const LogRecord& r) {
  util::BinaryWriter w;
  w.Signed(static_cast<int64_t>(r.type));
  w.Time(r.time);
  switch (r.type) {
    case LogRecord::Type::kIngest:
      w.Signed(static_cast<int64_t>(r.kind));
      w.Signed(static_cast<int64_t>(r.format));
      w.Time(r.decode_time);
      w.String(r.idempotency_key);
      break;
    case LogRecord::Type::kReference:
      w.String(r.model);
      break;
    case LogRecord::Type::kOtlp:
      w.Signed(static_cast<int64_t>(r.signal));
      w.Signed(static_cast<int64_t>(r.encoding));
      w.Time(r.decode_time);
      break;
  }
  w.Varint(r.body.size());  // the body's bytes follow
  return w.Release();
}

std::string EncodeLogRecord(const LogRecord& r) {
  std::string bytes = EncodeLogRecordHead(r);
  bytes.append(r.body);
  return bytes;
}

absl::StatusOr<LogRecord> DecodeLogRecord(std::string_view bytes) {
  util::BinaryReader rd(bytes);
  LogRecord r;
  r.type = static_cast<LogRecord::Type>(rd.Int("record type", 1, 3));
  r.time = rd.Time("record time");
  if (r.type == LogRecord::Type::kIngest) {
    r.kind = static_cast<ingest::EventKind>(
        rd.Int("event kind", 0, ingest::kNumEventKinds - 1));
    r.format = static_cast<ingest::BodyFormat>(rd.Int("body format", 0, 1));
    r.decode_time = rd.Time("decode time");
    r.idempotency_key = rd.String("idempotency key");
  } else if (r.type == LogRecord::Type::kOtlp) {
    r.signal = static_cast<otlp::Signal>(
        rd.Int("OTLP signal", 0, otlp::kNumSignals - 1));
    r.encoding = static_cast<otlp::Encoding>(rd.Int("OTLP encoding", 0, 1));
    r.decode_time = rd.Time("decode time");
  } else {
    r.model = rd.String("model");
  }
  r.body = rd.String("body");
  if (absl::Status st = rd.Finish(); !st.ok()) return st;
  return r;
}

}  // namespace aiq::state
