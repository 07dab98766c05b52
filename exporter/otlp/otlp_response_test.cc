#include "exporter/otlp/otlp_response.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "exporter/otlp/detail/wire_reader.h"

namespace aiq::otlp {
namespace {

using detail::WireField;
using detail::WireReader;

std::vector<WireField> Fields(std::string_view bytes) {
  WireReader r(bytes);
  WireField f;
  std::vector<WireField> out;
  while (r.Next(f)) out.push_back(f);
  EXPECT_TRUE(r.error().empty());
  return out;
}

TEST(OtlpResponseTest, NothingRejectedIsTheEmptyMessage) {
  EXPECT_EQ(EncodeExportResponse(Encoding::kProtobuf, Signal::kTraces, 0, ""),
            "");
  EXPECT_EQ(EncodeExportResponse(Encoding::kJson, Signal::kLogs, 0, ""), "{}");
}

TEST(OtlpResponseTest, PartialSuccessInBothEncodings) {
  const std::string pb =
      EncodeExportResponse(Encoding::kProtobuf, Signal::kTraces, 3, "why");
  std::vector<WireField> top = Fields(pb);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].number, 1u);  // partial_success
  std::vector<WireField> partial = Fields(top[0].bytes);
  ASSERT_EQ(partial.size(), 2u);
  EXPECT_EQ(partial[0].number, 1u);  // rejected_spans
  EXPECT_EQ(partial[0].value, 3u);
  EXPECT_EQ(partial[1].number, 2u);  // error_message
  EXPECT_EQ(partial[1].bytes, "why");

  for (auto [signal, key] :
       {std::pair{Signal::kTraces, "rejectedSpans"},
        std::pair{Signal::kLogs, "rejectedLogRecords"},
        std::pair{Signal::kMetrics, "rejectedDataPoints"}}) {
    nlohmann::json j = nlohmann::json::parse(
        EncodeExportResponse(Encoding::kJson, signal, 2, "a \"b\""));
    EXPECT_EQ(j["partialSuccess"][key], "2");
    EXPECT_EQ(j["partialSuccess"]["errorMessage"], "a \"b\"");
  }
}

TEST(OtlpResponseTest, EverySignalAndPartOfThePartialSuccess) {
  for (Signal signal : {Signal::kTraces, Signal::kLogs, Signal::kMetrics}) {
    // Only a count; only a message; a negative count (int64, ten bytes).
    // (Fields' views are into the encoded string: keep it.)
    std::string pb = EncodeExportResponse(Encoding::kProtobuf, signal, 7, "");
    std::vector<WireField> top = Fields(pb);
    ASSERT_EQ(top.size(), 1u);
    std::vector<WireField> partial = Fields(top[0].bytes);
    ASSERT_EQ(partial.size(), 1u);
    EXPECT_EQ(partial[0].number, 1u);
    EXPECT_EQ(partial[0].type, detail::WireType::kVarint);
    EXPECT_EQ(partial[0].value, 7u);

    pb = EncodeExportResponse(Encoding::kProtobuf, signal, 0, "note");
    top = Fields(pb);
    ASSERT_EQ(top.size(), 1u);
    partial = Fields(top[0].bytes);
    ASSERT_EQ(partial.size(), 1u);
    EXPECT_EQ(partial[0].number, 2u);
    EXPECT_EQ(partial[0].bytes, "note");

    pb = EncodeExportResponse(Encoding::kProtobuf, signal, -1, "");
    top = Fields(pb);
    partial = Fields(top[0].bytes);
    ASSERT_EQ(partial.size(), 1u);
    EXPECT_EQ(static_cast<int64_t>(partial[0].value), -1);
    EXPECT_EQ(top[0].bytes.size(), 11u);  // tag + ten-byte varint
  }
  nlohmann::json j = nlohmann::json::parse(
      EncodeExportResponse(Encoding::kJson, Signal::kMetrics, 0, "note"));
  EXPECT_EQ(j["partialSuccess"]["rejectedDataPoints"], "0");
  EXPECT_EQ(j["partialSuccess"]["errorMessage"], "note");
}

TEST(OtlpResponseTest, MessagesAreValidUtf8) {
  // A message that quotes a cut-off prefix: the stray bytes become U+FFFD
  // in both encodings, valid text is kept as it is.
  const std::string cut = "bad \"h\xc3\xa9\xc3\" and \xff\xed\xa0\x80.";
  const std::string want =
      "bad \"h\xc3\xa9\xef\xbf\xbd\" and \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
      "\xef\xbf\xbd.";
  std::string pb =
      EncodeExportResponse(Encoding::kProtobuf, Signal::kLogs, 1, cut);
  std::vector<WireField> top = Fields(pb);
  std::vector<WireField> partial = Fields(top[0].bytes);
  ASSERT_EQ(partial.size(), 2u);
  EXPECT_EQ(partial[1].bytes, want);
  const std::string status_pb = EncodeStatus(Encoding::kProtobuf, 3, cut);
  std::vector<WireField> status = Fields(status_pb);
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[1].bytes, want);
  nlohmann::json j = nlohmann::json::parse(
      EncodeExportResponse(Encoding::kJson, Signal::kLogs, 1, cut));
  EXPECT_EQ(j["partialSuccess"]["errorMessage"].get<std::string>().substr(0, 8),
            "bad \"h\xc3\xa9");
  const std::string fine = "d\xc3\xa9j\xc3\xa0 vu \xf0\x9f\x98\x80";
  pb = EncodeExportResponse(Encoding::kProtobuf, Signal::kLogs, 1, fine);
  top = Fields(pb);
  EXPECT_EQ(Fields(top[0].bytes)[1].bytes, fine);
}

TEST(OtlpResponseTest, Status) {
  std::string pb = EncodeStatus(Encoding::kProtobuf, 3, "bad body");
  std::vector<WireField> f = Fields(pb);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].number, 1u);
  EXPECT_EQ(f[0].value, 3u);
  EXPECT_EQ(f[1].bytes, "bad body");
  nlohmann::json j =
      nlohmann::json::parse(EncodeStatus(Encoding::kJson, 8, "slow down"));
  EXPECT_EQ(j["code"], 8);
  EXPECT_EQ(j["message"], "slow down");
  // OK with no message: the empty message, and the code alone.
  EXPECT_EQ(EncodeStatus(Encoding::kProtobuf, 0, ""), "");
  pb = EncodeStatus(Encoding::kProtobuf, 14, "");
  f = Fields(pb);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].value, 14u);
}

}  // namespace
}  // namespace aiq::otlp
