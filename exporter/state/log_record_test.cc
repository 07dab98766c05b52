#include "exporter/state/log_record.h"

#include "gtest/gtest.h"

namespace aiq::state {
namespace {

TEST(LogRecordTest, IngestRoundTrips) {
  LogRecord r;
  r.type = LogRecord::Type::kIngest;
  r.time = absl::FromUnixNanos(1'700'000'000'123'456'789);
  r.kind = ingest::EventKind::kFeedback;
  r.format = ingest::BodyFormat::kNdjson;
  r.decode_time = absl::FromUnixNanos(1'700'000'000'000'000'001);
  r.idempotency_key = "/api/v1/feedback\nretry-1";
  r.body = "{\"model\":\"m\"}\n{\"model\":\"m\"}\n";
  absl::StatusOr<LogRecord> back = DecodeLogRecord(EncodeLogRecord(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->type, r.type);
  EXPECT_EQ(back->time, r.time);
  EXPECT_EQ(back->kind, r.kind);
  EXPECT_EQ(back->format, r.format);
  EXPECT_EQ(back->decode_time, r.decode_time);
  EXPECT_EQ(back->idempotency_key, r.idempotency_key);
  EXPECT_EQ(back->body, r.body);
}

TEST(LogRecordTest, ReferenceRoundTrips) {
  LogRecord r;
  r.type = LogRecord::Type::kReference;
  r.time = absl::FromUnixSeconds(5);
  r.model = "churn";
  r.body = "age,plan\n31,pro\n";
  absl::StatusOr<LogRecord> back = DecodeLogRecord(EncodeLogRecord(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->type, LogRecord::Type::kReference);
  EXPECT_EQ(back->model, "churn");
  EXPECT_EQ(back->body, r.body);
}

TEST(LogRecordTest, OtlpRoundTrips) {
  LogRecord r;
  r.type = LogRecord::Type::kOtlp;
  r.time = absl::FromUnixSeconds(9);
  r.signal = otlp::Signal::kLogs;
  r.encoding = otlp::Encoding::kJson;
  r.decode_time = absl::FromUnixNanos(1'700'000'000'000'000'002);
  r.body = R"({"resourceLogs":[]})";
  absl::StatusOr<LogRecord> back = DecodeLogRecord(EncodeLogRecord(r));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->type, LogRecord::Type::kOtlp);
  EXPECT_EQ(back->signal, otlp::Signal::kLogs);
  EXPECT_EQ(back->encoding, otlp::Encoding::kJson);
  EXPECT_EQ(back->decode_time, r.decode_time);
  EXPECT_EQ(back->body, r.body);
  // An unknown signal is damage, not a guess.
  std::string bytes = EncodeLogRecord(r);
  r.signal = otlp::Signal::kMetrics;
  std::string metrics = EncodeLogRecord(r);
  ASSERT_EQ(bytes.size(), metrics.size());
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != metrics[i]) metrics[i] = static_cast<char>(metrics[i] + 2);
  }
  EXPECT_EQ(DecodeLogRecord(metrics).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(LogRecordTest, HeadThenBodyIsTheWholeEncoding) {
  LogRecord r;
  r.time = absl::FromUnixSeconds(7);
  r.idempotency_key = "k";
  for (size_t n : {0, 1, 127, 128, 100'000}) {
    r.body.assign(n, 'x');
    const std::string head = EncodeLogRecordHead(r);
    EXPECT_EQ(head + r.body, EncodeLogRecord(r)) << n;
    // The head does not hold the body (it is written beside it).
    EXPECT_LT(head.size(), 32u) << n;
  }
}

TEST(LogRecordTest, DamagedBytesAreDataLossNamingTheField) {
  LogRecord r;
  r.body = "xyz";
  const std::string bytes = EncodeLogRecord(r);
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::StatusOr<LogRecord> back = DecodeLogRecord(bytes.substr(0, n));
    EXPECT_EQ(back.status().code(), absl::StatusCode::kDataLoss) << n;
  }
  std::string bad_type = bytes;
  bad_type[0] = 9;
  EXPECT_EQ(DecodeLogRecord(bad_type).status().message(),
            "record type at byte 1: value -5 outside [1, 3]");
}

}  // namespace
}  // namespace aiq::state
