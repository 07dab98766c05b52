#include "exporter/otlp/otlp_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exporter/testing/otlp_bodies.h"
#include "exporter/util/absl_compat.h"

namespace aiq::otlp {
namespace {

using ::testing::HasSubstr;
namespace b = aiq::testing::otlp_bodies;
using b::WireWriter;

constexpr uint64_t kT = 1'800'000'000'000'000'000;

// gMock's StartsWith wants a std::string; status messages are absl's views.
MATCHER_P(StartsWith, prefix, "") {
  return absl::StartsWith(arg, absl::string_view(prefix));
}

// The attribute `key` as a T, or nullopt (absent or another type).
template <typename T>
std::optional<T> Attr(const Attributes& attributes, std::string_view key) {
  const AttributeValue* v = FindAttribute(attributes, key);
  if (v == nullptr || !std::holds_alternative<T>(*v)) return std::nullopt;
  return std::get<T>(*v);
}

// ExportTraceServiceRequest{resource_spans: [{scope_spans: [{spans}]}]},
// without the resource or scope that otlp_bodies adds.
std::string BareTraces(const std::vector<WireWriter>& spans) {
  WireWriter scope, rs, req;
  for (const WireWriter& s : spans) scope.Message(2, s);
  rs.Message(2, scope);
  req.Message(1, rs);
  return req.data();
}
std::string BareLogs(const std::vector<WireWriter>& records) {
  WireWriter scope, rl, req;
  for (const WireWriter& r : records) scope.Message(2, r);
  rl.Message(2, scope);
  req.Message(1, rl);
  return req.data();
}
std::string BareMetrics(const std::vector<WireWriter>& metrics) {
  WireWriter scope, rm, req;
  for (const WireWriter& m : metrics) scope.Message(2, m);
  rm.Message(2, scope);
  req.Message(1, rm);
  return req.data();
}

WireWriter ArrayOf(const std::vector<WireWriter>& values) {
  WireWriter array, any;
  for (const WireWriter& v : values) array.Message(1, v);
  any.Message(5, array);
  return any;
}

std::string OneChatSpan() {
  return b::TracesBody(
      "chatbot",
      {b::Span("chat gpt-4o", kT, kT + 1'500'000'000,
               {b::KeyValue("gen_ai.operation.name", b::Str("chat")),
                b::KeyValue("gen_ai.usage.input_tokens", b::Int(120)),
                b::KeyValue("score", b::Double(0.5)),
                b::KeyValue("stream", b::Bool(true)),
                b::KeyValue("list", ArrayOf({b::Str("a"), b::Int(2)})),
                b::KeyValue("negative", b::Int(-7))},
               {b::SpanEvent("gen_ai.evaluation.result", kT + 7,
                             {b::KeyValue("gen_ai.evaluation.name",
                                          b::Str("relevance"))})},
               /*status_code=*/2)});
}

std::string OneLogRecord() {
  WireWriter body;
  body.Bytes(1, "the body");
  WireWriter record = b::LogRecord(
      "gen_ai.evaluation.result", kT,
      {b::KeyValue("gen_ai.evaluation.name", b::Str("rel")),
       b::KeyValue("gen_ai.evaluation.score.value", b::Double(0.9))});
  record.Message(5, body);
  return b::LogsBody("chatbot", {record});
}

std::string OneHistogram() {
  return b::MetricsBody(
      "chatbot",
      {b::HistogramMetric(
          "gen_ai.server.time_to_first_token", "s", 1,
          {b::HistogramPoint(
              {b::KeyValue("gen_ai.request.model", b::Str("gpt-4o"))}, kT,
              kT + 60, {1, 2, 0}, {0.1, 1}, 1.7)})});
}

TEST(EncodingTest, ContentTypes) {
  EXPECT_EQ(EncodingFromContentType("application/x-protobuf"),
            Encoding::kProtobuf);
  EXPECT_EQ(EncodingFromContentType("APPLICATION/X-PROTOBUF"),
            Encoding::kProtobuf);
  EXPECT_EQ(EncodingFromContentType("application/json"), Encoding::kJson);
  EXPECT_EQ(EncodingFromContentType("Application/JSON; charset=utf-8"),
            Encoding::kJson);
  EXPECT_EQ(EncodingFromContentType(" application/json ;charset=UTF-8"),
            Encoding::kJson);
  EXPECT_EQ(EncodingFromContentType(""), std::nullopt);
  EXPECT_EQ(EncodingFromContentType("text/plain"), std::nullopt);
  EXPECT_EQ(EncodingFromContentType("application/x-ndjson"), std::nullopt);
  EXPECT_EQ(EncodingFromContentType("application/protobuf"), std::nullopt);
  EXPECT_EQ(EncodingFromContentType("application/jsonx"), std::nullopt);
}

TEST(OtlpDecoderTest, ProtobufTraces) {
  const std::string body = OneChatSpan();  // the request's views are into it
  absl::StatusOr<TracesRequest> r = DecodeTraces(Encoding::kProtobuf, body);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->resource_spans.size(), 1u);
  const ResourceSpans& rs = r->resource_spans[0];
  EXPECT_EQ(Attr<std::string_view>(rs.resource, "service.name"), "chatbot");
  ASSERT_EQ(rs.spans.size(), 1u);
  const Span& s = rs.spans[0];
  EXPECT_EQ(s.name, "chat gpt-4o");
  EXPECT_GE(s.name.data(), body.data());  // a view into the body
  EXPECT_LT(s.name.data(), body.data() + body.size());
  EXPECT_EQ(s.start_time_unix_nano, kT);
  EXPECT_EQ(s.end_time_unix_nano, kT + 1'500'000'000);
  ASSERT_EQ(s.attributes.size(), 6u);
  EXPECT_EQ(s.attributes[0].key, "gen_ai.operation.name");
  EXPECT_EQ(Attr<std::string_view>(s.attributes, "gen_ai.operation.name"),
            "chat");
  EXPECT_EQ(Attr<int64_t>(s.attributes, "gen_ai.usage.input_tokens"), 120);
  EXPECT_EQ(Attr<double>(s.attributes, "score"), 0.5);
  EXPECT_EQ(Attr<bool>(s.attributes, "stream"), true);
  EXPECT_TRUE(Attr<OtherValue>(s.attributes, "list").has_value());
  EXPECT_EQ(Attr<int64_t>(s.attributes, "negative"), -7);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].name, "gen_ai.evaluation.result");
  EXPECT_EQ(s.events[0].time_unix_nano, kT + 7);
  EXPECT_EQ(
      Attr<std::string_view>(s.events[0].attributes, "gen_ai.evaluation.name"),
      "relevance");
  EXPECT_EQ(s.status_code, StatusCode::kError);
  EXPECT_EQ(s.status_message, "");
  EXPECT_EQ(r->storage, nullptr);  // nothing owned: all views into `body`
}

TEST(OtlpDecoderTest, ProtobufValuesAndStatus) {
  WireWriter bytes_value, empty_value, kvlist, kvlist_value, last_wins;
  bytes_value.Bytes(7, std::string("\x00\xff", 2));
  kvlist.Message(1, b::KeyValue("k", b::Int(1)));
  kvlist_value.Message(6, kvlist);
  last_wins.Bytes(1, "first").Varint(3, 9);  // a oneof: the last one read
  WireWriter status;
  status.Bytes(2, "it broke").Varint(3, 1);
  WireWriter span;
  span.Bytes(5, "s")
      .Message(9, b::KeyValue("bytes", bytes_value))
      .Message(9, b::KeyValue("empty", empty_value))
      .Message(9, b::KeyValue("kv", kvlist_value))
      .Message(9, b::KeyValue("last", last_wins))
      .Message(9, WireWriter())  // a KeyValue with neither key nor value
      .Message(15, status);
  const std::string body = BareTraces({span});  // the request views into it
  absl::StatusOr<TracesRequest> r = DecodeTraces(Encoding::kProtobuf, body);
  ASSERT_TRUE(r.ok()) << r.status();
  const Span& s = r->resource_spans[0].spans[0];
  ASSERT_EQ(s.attributes.size(), 5u);
  EXPECT_TRUE(std::holds_alternative<OtherValue>(s.attributes[0].value));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(s.attributes[1].value));
  EXPECT_TRUE(std::holds_alternative<OtherValue>(s.attributes[2].value));
  EXPECT_EQ(Attr<int64_t>(s.attributes, "last"), 9);
  EXPECT_EQ(s.attributes[4].key, "");
  EXPECT_TRUE(std::holds_alternative<std::monostate>(s.attributes[4].value));
  EXPECT_EQ(s.status_code, StatusCode::kOk);
  EXPECT_EQ(s.status_message, "it broke");

  // A status code from a newer spec reads as unset.
  WireWriter future_status, span2;
  future_status.Varint(3, 7);
  span2.Message(15, future_status);
  r = DecodeTraces(Encoding::kProtobuf, BareTraces({span2}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->resource_spans[0].spans[0].status_code, StatusCode::kUnset);
}

TEST(OtlpDecoderTest, ScopesAreFlattenedInBodyOrder) {
  WireWriter scope1, scope2, rs1, rs2, req;
  scope1.Message(2, b::Span("a", 1, 2, {})).Message(2, b::Span("b", 1, 2, {}));
  scope2.Message(1, b::Scope()).Message(2, b::Span("c", 1, 2, {}));
  rs1.Message(1, b::Resource("one")).Message(2, scope1).Message(2, scope2);
  rs1.Bytes(3, "https://opentelemetry.io/schemas/1.30.0");  // schema_url
  rs2.Message(2, WireWriter()).Message(1, b::Resource("two"));
  req.Message(1, rs1).Message(1, rs2);
  absl::StatusOr<TracesRequest> r =
      DecodeTraces(Encoding::kProtobuf, req.data());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->resource_spans.size(), 2u);
  const std::vector<Span>& spans = r->resource_spans[0].spans;
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].name, "a");
  EXPECT_EQ(spans[1].name, "b");
  EXPECT_EQ(spans[2].name, "c");
  EXPECT_EQ(
      Attr<std::string_view>(r->resource_spans[1].resource, "service.name"),
      "two");
  EXPECT_TRUE(r->resource_spans[1].spans.empty());

  // An error names the scope and the span within it.
  WireWriter bad_span, scope3, rs3, req3;
  bad_span.Varint(5, 1);  // name as a varint
  scope3.Message(2, b::Span("ok", 1, 2, {})).Message(2, bad_span);
  rs3.Message(2, scope1).Message(2, scope3);
  req3.Message(1, rs1).Message(1, rs3);
  r = DecodeTraces(Encoding::kProtobuf, req3.data());
  EXPECT_EQ(r.status().message(),
            "resource_spans[1].scope_spans[1].spans[1]: name: wire type "
            "varint, expected length-delimited");
}

TEST(OtlpDecoderTest, EmptyBodiesAreEmptyRequests) {
  absl::StatusOr<TracesRequest> t = DecodeTraces(Encoding::kProtobuf, "");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->resource_spans.empty());
  absl::StatusOr<LogsRequest> l = DecodeLogs(Encoding::kJson, "{}");
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE(l->resource_logs.empty());
  absl::StatusOr<MetricsRequest> m =
      DecodeMetrics(Encoding::kJson, R"({"resourceMetrics":null})");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->resource_metrics.empty());
  // JSON needs a document, though.
  EXPECT_THAT(DecodeTraces(Encoding::kJson, "").status().message(),
              StartsWith("not JSON: "));
}

TEST(OtlpDecoderTest, JsonTracesInBothKeyStyles) {
  // lowerCamelCase, int64 as strings, enum by name, hex ids.
  const std::string camel = R"({"resourceSpans":[{
    "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"chatbot"}}]},
    "scopeSpans":[{"scope":{"name":"x"},"spans":[{
      "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
      "name":"chat","kind":3,
      "startTimeUnixNano":"1800000000000000000","endTimeUnixNano":1800000001500000000,
      "attributes":[
        {"key":"gen_ai.usage.input_tokens","value":{"intValue":"120"}},
        {"key":"gen_ai.usage.output_tokens","value":{"intValue":30}},
        {"key":"score","value":{"doubleValue":0.25}},
        {"key":"esc","value":{"stringValue":"a\"b\u00e9"}},
        {"key":"kv","value":{"kvlistValue":{"values":[{"key":"a","value":{"boolValue":true}}]}}},
        {"key":"b","value":{"bytesValue":"AAE="}},
        {"key":"arr","value":{"arrayValue":{"values":[{"intValue":"1"},{"doubleValue":"Infinity"}]}}},
        {"key":"flag","value":{"boolValue":false}},
        {"key":"neg","value":{"intValue":"-9223372036854775808"}},
        {"key":"none","value":{}}],
      "events":[{"timeUnixNano":"1800000000000000007","name":"gen_ai.evaluation.result",
                 "attributes":[{"key":"gen_ai.evaluation.name","value":{"stringValue":"rel"}}]}],
      "status":{"code":"STATUS_CODE_ERROR","message":"boom"},
      "someFutureField":{"x":[1,{"y":null}]}}]}]}]})";
  // The original proto names, as the mapping says receivers accept; int64
  // as numbers, the enum by number.
  const std::string snake = R"({"resource_spans":[{
    "resource":{"attributes":[{"key":"service.name","value":{"string_value":"chatbot"}}]},
    "scope_spans":[{"spans":[{"name":"chat","trace_id":"00","span_id":"01",
      "start_time_unix_nano":1800000000000000000,"end_time_unix_nano":"1800000001500000000",
      "attributes":[{"key":"gen_ai.usage.input_tokens","value":{"int_value":120}}],
      "events":[{"time_unix_nano":1800000000000000007,"name":"gen_ai.evaluation.result"}],
      "status":{"code":2,"message":"boom"}}]}]}]})";
  for (const std::string& body : {camel, snake}) {
    absl::StatusOr<TracesRequest> r = DecodeTraces(Encoding::kJson, body);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->resource_spans.size(), 1u);
    ASSERT_EQ(r->resource_spans[0].spans.size(), 1u);
    const Span& s = r->resource_spans[0].spans[0];
    EXPECT_EQ(
        Attr<std::string_view>(r->resource_spans[0].resource, "service.name"),
        "chatbot");
    EXPECT_EQ(s.name, "chat");
    EXPECT_EQ(s.start_time_unix_nano, kT);
    EXPECT_EQ(s.end_time_unix_nano, kT + 1'500'000'000);
    EXPECT_EQ(Attr<int64_t>(s.attributes, "gen_ai.usage.input_tokens"), 120);
    ASSERT_EQ(s.events.size(), 1u);
    EXPECT_EQ(s.events[0].time_unix_nano, kT + 7);
    EXPECT_EQ(s.events[0].name, "gen_ai.evaluation.result");
    EXPECT_EQ(s.status_code, StatusCode::kError);
    EXPECT_EQ(s.status_message, "boom");
    // The strings live in the request's storage.
    EXPECT_NE(r->storage, nullptr);
  }
  absl::StatusOr<TracesRequest> r = DecodeTraces(Encoding::kJson, camel);
  ASSERT_TRUE(r.ok()) << r.status();
  const Span& s = r->resource_spans[0].spans[0];
  ASSERT_EQ(s.attributes.size(), 10u);
  EXPECT_EQ(Attr<int64_t>(s.attributes, "gen_ai.usage.output_tokens"), 30);
  EXPECT_EQ(Attr<double>(s.attributes, "score"), 0.25);
  EXPECT_EQ(Attr<std::string_view>(s.attributes, "esc"), "a\"b\xc3\xa9");
  EXPECT_TRUE(Attr<OtherValue>(s.attributes, "kv").has_value());
  EXPECT_TRUE(Attr<OtherValue>(s.attributes, "b").has_value());
  EXPECT_TRUE(Attr<OtherValue>(s.attributes, "arr").has_value());
  EXPECT_EQ(Attr<bool>(s.attributes, "flag"), false);
  EXPECT_EQ(Attr<int64_t>(s.attributes, "neg"), INT64_MIN);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(s.attributes[9].value));
  EXPECT_EQ(
      Attr<std::string_view>(s.events[0].attributes, "gen_ai.evaluation.name"),
      "rel");
}

TEST(OtlpDecoderTest, JsonNumbers) {
  const auto start = [](std::string_view value) {
    return DecodeTraces(
        Encoding::kJson,
        absl::StrCat(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{)",
                     R"("startTimeUnixNano":)", util::ToAbsl(value),
                     R"(}]}]}]})"));
  };
  const std::pair<std::string_view, uint64_t> good[] = {
      {"0", 0},
      {"\"0\"", 0},
      {"18446744073709551615", UINT64_MAX},
      {"\"18446744073709551615\"", UINT64_MAX},
      {"1.8e18", kT},
      {"1e3", 1000},
      {"null", 0},
  };
  for (const auto& [text, want] : good) {
    absl::StatusOr<TracesRequest> r = start(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status();
    EXPECT_EQ(r->resource_spans[0].spans[0].start_time_unix_nano, want) << text;
  }
  for (std::string_view bad :
       {"-1", "\"-1\"", "1.5", "\"\"", "\"0x10\"", "18446744073709551616",
        "\"18446744073709551616\"", "1e20", "true", "{}", "[]", "\"1 2\""}) {
    absl::StatusOr<TracesRequest> r = start(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }

  const auto int_value = [](std::string_view value) {
    return DecodeTraces(
        Encoding::kJson,
        absl::StrCat(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{)",
                     R"("attributes":[{"key":"k","value":{"intValue":)",
                     util::ToAbsl(value), R"(}}]}]}]}]})"));
  };
  for (const auto& [text, want] :
       {std::pair<std::string_view, int64_t>{"-5", -5},
        {"\"-5\"", -5},
        {"9223372036854775807", INT64_MAX},
        {"\"-9223372036854775808\"", INT64_MIN},
        {"-2e3", -2000}}) {
    absl::StatusOr<TracesRequest> r = int_value(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status();
    EXPECT_EQ(Attr<int64_t>(r->resource_spans[0].spans[0].attributes, "k"),
              want)
        << text;
  }
  for (std::string_view bad :
       {"9223372036854775808", "\"9223372036854775808\"", "0.5", "\"x\""}) {
    EXPECT_FALSE(int_value(bad).ok()) << bad;
  }

  const auto double_value = [](std::string_view value) {
    return DecodeTraces(
        Encoding::kJson,
        absl::StrCat(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{)",
                     R"("attributes":[{"key":"k","value":{"doubleValue":)",
                     util::ToAbsl(value), R"(}}]}]}]}]})"));
  };
  for (const auto& [text, want] :
       {std::pair<std::string_view, double>{"1", 1.0},
        {"-0.25", -0.25},
        {"\"2.5\"", 2.5},
        {"\"Infinity\"", HUGE_VAL},
        {"\"-Infinity\"", -HUGE_VAL}}) {
    absl::StatusOr<TracesRequest> r = double_value(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.status();
    EXPECT_EQ(Attr<double>(r->resource_spans[0].spans[0].attributes, "k"), want)
        << text;
  }
  absl::StatusOr<TracesRequest> nan = double_value("\"NaN\"");
  ASSERT_TRUE(nan.ok());
  EXPECT_TRUE(std::isnan(
      *Attr<double>(nan->resource_spans[0].spans[0].attributes, "k")));
  EXPECT_FALSE(double_value("true").ok());
  EXPECT_FALSE(double_value("\"fast\"").ok());
}

TEST(OtlpDecoderTest, LogsBothEncodings) {
  const std::string pb = OneLogRecord();
  absl::StatusOr<LogsRequest> p = DecodeLogs(Encoding::kProtobuf, pb);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->resource_logs.size(), 1u);
  EXPECT_EQ(
      Attr<std::string_view>(p->resource_logs[0].resource, "service.name"),
      "chatbot");
  ASSERT_EQ(p->resource_logs[0].log_records.size(), 1u);
  const LogRecord& lr = p->resource_logs[0].log_records[0];
  EXPECT_EQ(lr.event_name, "gen_ai.evaluation.result");
  EXPECT_EQ(lr.time_unix_nano, kT);
  EXPECT_EQ(lr.observed_time_unix_nano, kT);
  EXPECT_EQ(std::get<std::string_view>(lr.body), "the body");
  ASSERT_EQ(lr.attributes.size(), 2u);
  EXPECT_EQ(Attr<std::string_view>(lr.attributes, "gen_ai.evaluation.name"),
            "rel");
  EXPECT_EQ(Attr<double>(lr.attributes, "gen_ai.evaluation.score.value"), 0.9);

  for (const char* body : {R"({
    "resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"chatbot"}}]},
     "scopeLogs":[{"scope":{},"logRecords":[
      {"timeUnixNano":"1800000000000000000","eventName":"gen_ai.evaluation.result",
       "body":{"stringValue":"hi"},"severityNumber":"SEVERITY_NUMBER_INFO",
       "traceId":"5b8efff798038103d269b633813fc60c",
       "attributes":[{"key":"gen_ai.evaluation.score.value","value":{"doubleValue":"NaN"}}]},
      {"observedTimeUnixNano":"5","body":{"kvlistValue":{"values":[]}}}]}]}]})",
                           R"({
    "resource_logs":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"chatbot"}}]},
     "scope_logs":[{"log_records":[
      {"time_unix_nano":1800000000000000000,"event_name":"gen_ai.evaluation.result",
       "body":{"string_value":"hi"},"severity_number":9,
       "attributes":[{"key":"gen_ai.evaluation.score.value","value":{"double_value":"NaN"}}]},
      {"observed_time_unix_nano":5,"body":{"kvlist_value":{}}}]}]}]})"}) {
    absl::StatusOr<LogsRequest> j = DecodeLogs(Encoding::kJson, body);
    ASSERT_TRUE(j.ok()) << j.status();
    EXPECT_EQ(
        Attr<std::string_view>(j->resource_logs[0].resource, "service.name"),
        "chatbot");
    const auto& records = j->resource_logs[0].log_records;
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].time_unix_nano, kT);
    EXPECT_EQ(records[0].event_name, "gen_ai.evaluation.result");
    EXPECT_EQ(std::get<std::string_view>(records[0].body), "hi");
    EXPECT_TRUE(std::isnan(
        *Attr<double>(records[0].attributes, "gen_ai.evaluation.score.value")));
    EXPECT_EQ(records[1].observed_time_unix_nano, 5u);
    EXPECT_EQ(records[1].event_name, "");
    EXPECT_TRUE(std::holds_alternative<OtherValue>(records[1].body));
  }
}

TEST(OtlpDecoderTest, MetricsHistogramsAndOtherTypes) {
  WireWriter gauge_metric, gauge, point;
  point.Double(4, 1.0);
  gauge.Message(1, point).Message(1, point);
  gauge_metric.Bytes(1, "other").Bytes(2, "a description").Message(5, gauge);
  WireWriter summary_metric, summary;
  summary.Message(1, WireWriter());
  summary_metric.Bytes(1, "summary").Message(11, summary);
  WireWriter sum_metric, sum;
  sum.Message(1, point).Varint(2, 2).Varint(3, 1);
  sum_metric.Bytes(1, "sum").Message(7, sum);
  WireWriter exp_metric, exp;
  exp.Message(1, WireWriter()).Message(1, WireWriter()).Message(1, point);
  exp_metric.Bytes(1, "exp").Message(10, exp);
  std::string pb = OneHistogram();
  // Append the others to the same scope: a second ScopeMetrics.
  pb = b::MetricsBody(
      "chatbot",
      {b::HistogramMetric(
           "gen_ai.server.time_to_first_token", "s", 1,
           {b::HistogramPoint(
               {b::KeyValue("gen_ai.request.model", b::Str("gpt-4o"))}, kT,
               kT + 60, {1, 2, 0}, {0.1, 1}, 1.7)}),
       gauge_metric, summary_metric, sum_metric, exp_metric});
  absl::StatusOr<MetricsRequest> r = DecodeMetrics(Encoding::kProtobuf, pb);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(
      Attr<std::string_view>(r->resource_metrics[0].resource, "service.name"),
      "chatbot");
  const auto& metrics = r->resource_metrics[0].metrics;
  ASSERT_EQ(metrics.size(), 5u);
  EXPECT_EQ(metrics[0].name, "gen_ai.server.time_to_first_token");
  EXPECT_EQ(metrics[0].type, Metric::Type::kHistogram);
  EXPECT_EQ(metrics[0].unit, "s");
  EXPECT_EQ(metrics[0].temporality, Temporality::kDelta);
  ASSERT_EQ(metrics[0].points.size(), 1u);
  const HistogramPoint& p = metrics[0].points[0];
  EXPECT_EQ(Attr<std::string_view>(p.attributes, "gen_ai.request.model"),
            "gpt-4o");
  EXPECT_EQ(p.start_time_unix_nano, kT);
  EXPECT_EQ(p.time_unix_nano, kT + 60);
  EXPECT_EQ(p.count, 3u);
  EXPECT_EQ(p.sum, 1.7);
  EXPECT_EQ(p.bucket_counts, (std::vector<uint64_t>{1, 2, 0}));
  EXPECT_EQ(p.explicit_bounds, (std::vector<double>{0.1, 1}));
  for (size_t i = 1; i < 5; ++i) {
    EXPECT_EQ(metrics[i].type, Metric::Type::kOther) << i;
    EXPECT_TRUE(metrics[i].points.empty()) << i;
  }
  EXPECT_EQ(metrics[1].name, "other");
  EXPECT_EQ(metrics[1].other_points, 2);
  EXPECT_EQ(metrics[2].other_points, 1);
  EXPECT_EQ(metrics[3].other_points, 1);
  EXPECT_EQ(metrics[4].other_points, 3);

  // Unpacked repeated fields read the same; no sum is no sum; a later
  // member of the data oneof replaces the earlier one.
  WireWriter unpacked;
  unpacked.Fixed64(4, 3).Fixed64(6, 1).Fixed64(6, 2).Double(7, 0.5);
  WireWriter h, m, replaced;
  h.Message(1, unpacked).Varint(2, 2);
  m.Bytes(1, "x").Message(9, h);
  replaced.Bytes(1, "y").Message(9, h).Message(5, gauge);
  r = DecodeMetrics(Encoding::kProtobuf, BareMetrics({m, replaced}));
  ASSERT_TRUE(r.ok()) << r.status();
  const Metric& x = r->resource_metrics[0].metrics[0];
  ASSERT_EQ(x.points.size(), 1u);
  EXPECT_EQ(x.points[0].bucket_counts, (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(x.points[0].explicit_bounds, (std::vector<double>{0.5}));
  EXPECT_EQ(x.points[0].sum, std::nullopt);
  EXPECT_EQ(x.temporality, Temporality::kCumulative);
  const Metric& y = r->resource_metrics[0].metrics[1];
  EXPECT_EQ(y.type, Metric::Type::kOther);
  EXPECT_TRUE(y.points.empty());
  EXPECT_EQ(y.other_points, 2);
  EXPECT_EQ(y.temporality, Temporality::kUnspecified);

  // Packed and unpacked mixed in one point, as parsers must accept.
  WireWriter mixed, mh, mm;
  mixed.Fixed64(4, 6).Fixed64(6, 1);
  mixed.PackedFixed64(6, std::vector<uint64_t>{2, 3});
  mixed.PackedDouble(7, std::vector<double>{1}).Double(7, 2);
  mh.Message(1, mixed);
  mm.Message(9, mh);
  r = DecodeMetrics(Encoding::kProtobuf, BareMetrics({mm}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->resource_metrics[0].metrics[0].points[0].bucket_counts,
            (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(r->resource_metrics[0].metrics[0].points[0].explicit_bounds,
            (std::vector<double>{1, 2}));
}

TEST(OtlpDecoderTest, JsonMetricsInBothKeyStyles) {
  for (const char* body : {R"({
    "resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"chatbot"}}]},
     "scopeMetrics":[{"metrics":[
      {"name":"gen_ai.server.time_per_output_token","unit":"s","histogram":{
        "aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE",
        "dataPoints":[{"startTimeUnixNano":"1","timeUnixNano":"2","count":"3",
          "sum":0.3,"bucketCounts":["1",2],"explicitBounds":[0.1],
          "attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"m"}}]}]}},
      {"name":"s","sum":{"dataPoints":[{"asDouble":1},{"asInt":"2"}],
                         "aggregationTemporality":1,"isMonotonic":true}},
      {"name":"e","exponentialHistogram":{"dataPoints":[{}]}},
      {"name":"q","summary":{"dataPoints":[]}},
      {"name":"g","gauge":{}}]}]}]})",
                           R"({
    "resource_metrics":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"chatbot"}}]},
     "scope_metrics":[{"metrics":[
      {"name":"gen_ai.server.time_per_output_token","unit":"s","histogram":{
        "aggregation_temporality":2,
        "data_points":[{"start_time_unix_nano":1,"time_unix_nano":"2","count":3,
          "sum":"0.3","bucket_counts":[1,"2"],"explicit_bounds":["0.1"],
          "attributes":[{"key":"gen_ai.request.model","value":{"string_value":"m"}}]}]}},
      {"name":"s","sum":{"data_points":[{"as_double":1},{"as_int":"2"}]}},
      {"name":"e","exponential_histogram":{"data_points":[{}]}},
      {"name":"q","summary":{"data_points":[]}},
      {"name":"g","gauge":{}}]}]}]})"}) {
    absl::StatusOr<MetricsRequest> j = DecodeMetrics(Encoding::kJson, body);
    ASSERT_TRUE(j.ok()) << j.status();
    EXPECT_EQ(
        Attr<std::string_view>(j->resource_metrics[0].resource, "service.name"),
        "chatbot");
    const auto& jm = j->resource_metrics[0].metrics;
    ASSERT_EQ(jm.size(), 5u);
    EXPECT_EQ(jm[0].name, "gen_ai.server.time_per_output_token");
    EXPECT_EQ(jm[0].unit, "s");
    EXPECT_EQ(jm[0].type, Metric::Type::kHistogram);
    EXPECT_EQ(jm[0].temporality, Temporality::kCumulative);
    ASSERT_EQ(jm[0].points.size(), 1u);
    const HistogramPoint& p = jm[0].points[0];
    EXPECT_EQ(p.start_time_unix_nano, 1u);
    EXPECT_EQ(p.time_unix_nano, 2u);
    EXPECT_EQ(p.count, 3u);
    EXPECT_EQ(p.sum, 0.3);
    EXPECT_EQ(p.bucket_counts, (std::vector<uint64_t>{1, 2}));
    EXPECT_EQ(p.explicit_bounds, (std::vector<double>{0.1}));
    EXPECT_EQ(Attr<std::string_view>(p.attributes, "gen_ai.request.model"),
              "m");
    EXPECT_EQ(jm[1].type, Metric::Type::kOther);
    EXPECT_EQ(jm[1].other_points, 2);
    EXPECT_EQ(jm[2].other_points, 1);
    EXPECT_EQ(jm[3].other_points, 0);
    EXPECT_EQ(jm[4].other_points, 0);
    EXPECT_EQ(jm[4].type, Metric::Type::kOther);
  }
  absl::StatusOr<MetricsRequest> delta = DecodeMetrics(Encoding::kJson, R"({
    "resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{
      "aggregationTemporality":"AGGREGATION_TEMPORALITY_DELTA","dataPoints":[{}]}}]}]}]})");
  ASSERT_TRUE(delta.ok()) << delta.status();
  EXPECT_EQ(delta->resource_metrics[0].metrics[0].temporality,
            Temporality::kDelta);
  EXPECT_EQ(delta->resource_metrics[0].metrics[0].points[0].sum, std::nullopt);
}

TEST(OtlpDecoderTest, BadHistogramShapesAreRefused) {
  struct Case {
    std::vector<uint64_t> counts;
    std::vector<double> bounds;
    const char* message;
  };
  const Case cases[] = {
      {{1, 2},
       {0.1, 1},
       "bucket_counts has 2 entries for 2 explicit_bounds (must be one more, "
       "or none)"},
      {{3},
       {0.5},
       "bucket_counts has 1 entries for 1 explicit_bounds (must be one more, "
       "or none)"},
      {{1, 2, 3},
       {1, 0.5},
       "explicit_bounds must be finite and strictly increasing"},
      {{1, 2, 3},
       {1, 1},
       "explicit_bounds must be finite and strictly increasing"},
      {{1, 2, 3},
       {0.5, HUGE_VAL},
       "explicit_bounds must be finite and strictly increasing"},
      {{1, 2, 3},
       {std::nan(""), 1},
       "explicit_bounds must be finite and strictly increasing"},
      {{}, {2, 1}, "explicit_bounds must be finite and strictly increasing"},
  };
  for (const Case& c : cases) {
    const std::string body = BareMetrics({b::HistogramMetric(
        "m", "s", 1, {b::HistogramPoint({}, 1, 2, c.counts, c.bounds, 1)})});
    absl::StatusOr<MetricsRequest> r = DecodeMetrics(Encoding::kProtobuf, body);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(),
              std::string("resource_metrics[0].scope_metrics[0].metrics[0]."
                          "histogram.data_points[0]: ") +
                  c.message);
  }
  // Bounds without buckets, and no buckets at all, are fine.
  for (const std::vector<double>& bounds :
       {std::vector<double>{}, std::vector<double>{1, 2}}) {
    WireWriter point, h, m;
    point.Fixed64(4, 0).PackedDouble(7, bounds);
    h.Message(1, point);
    m.Message(9, h);
    EXPECT_TRUE(DecodeMetrics(Encoding::kProtobuf, BareMetrics({m})).ok());
  }
  // count disagrees with the buckets; a sum that is no number; a packed
  // field that is no whole number of values.
  WireWriter point, h, m;
  point.Fixed64(4, 5).PackedFixed64(6, std::vector<uint64_t>{1, 1});
  point.PackedDouble(7, std::vector<double>{1});
  h.Message(1, point).Varint(2, 1);
  m.Bytes(1, "m").Message(9, h);
  absl::StatusOr<MetricsRequest> r =
      DecodeMetrics(Encoding::kProtobuf, BareMetrics({m}));
  EXPECT_THAT(r.status().message(),
              HasSubstr("bucket_counts add up to 2, count is 5"));
  WireWriter nan_sum, h2, m2;
  nan_sum.Double(5, std::nan(""));
  h2.Message(1, nan_sum);
  m2.Message(9, h2);
  r = DecodeMetrics(Encoding::kProtobuf, BareMetrics({m2}));
  EXPECT_THAT(r.status().message(), HasSubstr("sum must be finite"));
  WireWriter odd, h3, m3;
  odd.Bytes(6, "1234567");
  h3.Message(1, odd);
  m3.Message(9, h3);
  r = DecodeMetrics(Encoding::kProtobuf, BareMetrics({m3}));
  EXPECT_EQ(r.status().message(),
            "resource_metrics[0].scope_metrics[0].metrics[0].histogram."
            "data_points[0]: bucket_counts: packed length is not a multiple "
            "of 8");
  // The same checks in JSON.
  for (const char* point_json :
       {R"({"bucketCounts":[1,2],"explicitBounds":[1,2]})",
        R"({"bucketCounts":[1,2,3],"explicitBounds":[2,1],"count":6})",
        R"({"bucketCounts":[1,2],"explicitBounds":["Infinity"],"count":3})",
        R"({"bucketCounts":[1,2],"explicitBounds":[1],"count":4})"}) {
    r = DecodeMetrics(
        Encoding::kJson,
        absl::StrCat(R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[)",
                     R"({"histogram":{"dataPoints":[)", point_json,
                     "]}}]}]}]}"));
    EXPECT_THAT(r.status().message(),
                StartsWith("resource_metrics[0].scope_metrics[0].metrics[0]."
                           "histogram.data_points[0]: "))
        << point_json;
  }
}

// Every prefix of a valid body is either a clean error or (where it
// happens to end on a field boundary) a valid, smaller request.
template <typename Decode>
int CountTruncationErrors(const std::string& body, Decode decode) {
  int errors = 0;
  for (size_t n = 0; n < body.size(); ++n) {
    const std::string prefix = body.substr(0, n);  // owned: ASan sees past it
    absl::Status status = decode(prefix);
    if (!status.ok()) {
      ++errors;
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << n;
      EXPECT_LT(status.message().size(), 300u) << n;
    }
  }
  return errors;
}

TEST(OtlpDecoderTest, EveryTruncationIsAnErrorOrValid) {
  // Each body is one top-level field: every cut inside it fails, and only
  // the empty prefix is valid.
  const std::string traces = OneChatSpan();
  EXPECT_EQ(CountTruncationErrors(
                traces,
                [](std::string_view p) {
                  return DecodeTraces(Encoding::kProtobuf, p).status();
                }),
            static_cast<int>(traces.size()) - 1);
  const std::string logs = OneLogRecord();
  EXPECT_EQ(CountTruncationErrors(
                logs,
                [](std::string_view p) {
                  return DecodeLogs(Encoding::kProtobuf, p).status();
                }),
            static_cast<int>(logs.size()) - 1);
  const std::string metrics = OneHistogram();
  EXPECT_EQ(CountTruncationErrors(
                metrics,
                [](std::string_view p) {
                  return DecodeMetrics(Encoding::kProtobuf, p).status();
                }),
            static_cast<int>(metrics.size()) - 1);
  // Two top-level fields: the prefix that ends between them is valid too.
  const std::string two = traces + traces;
  EXPECT_EQ(CountTruncationErrors(
                two,
                [](std::string_view p) {
                  return DecodeTraces(Encoding::kProtobuf, p).status();
                }),
            static_cast<int>(two.size()) - 2);
  // JSON: no proper prefix of a document is one.
  const std::string json =
      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"x",)"
      R"("attributes":[{"key":"k","value":{"intValue":"12"}}]}]}]}]})";
  EXPECT_EQ(
      CountTruncationErrors(json,
                            [](std::string_view p) {
                              return DecodeTraces(Encoding::kJson, p).status();
                            }),
      static_cast<int>(json.size()));
}

TEST(OtlpDecoderTest, WrongWireTypesForKnownFields) {
  struct Case {
    std::string body;
    const char* message;
  };
  const auto span_with = [](const WireWriter& span) {
    return BareTraces({span});
  };
  WireWriter name_varint, start_varint, attr_fixed64, event_varint,
      status_fixed64, trace_id_varint;
  name_varint.Varint(5, 1);
  start_varint.Varint(7, 5);
  attr_fixed64.Fixed64(9, 1);
  event_varint.Varint(11, 1);
  status_fixed64.Fixed64(15, 1);
  trace_id_varint.Varint(1, 1);
  WireWriter key_varint, value_varint, string_varint, bool_fixed64, int_fixed64,
      double_varint, array_varint, bytes_varint;
  key_varint.Varint(1, 1);
  value_varint.Bytes(1, "k").Varint(2, 1);
  string_varint.Varint(1, 1);
  bool_fixed64.Fixed64(2, 1);
  int_fixed64.Fixed64(3, 1);
  double_varint.Varint(4, 1);
  array_varint.Varint(5, 1);
  bytes_varint.Varint(7, 1);
  WireWriter status_code_bytes, status;
  status_code_bytes.Bytes(3, "2");
  status.Message(15, status_code_bytes);
  const std::vector<Case> cases = {
      {span_with(name_varint),
       "resource_spans[0].scope_spans[0].spans[0]: name: wire type varint, "
       "expected length-delimited"},
      {span_with(start_varint),
       "resource_spans[0].scope_spans[0].spans[0]: start_time_unix_nano: "
       "wire type varint, expected fixed64"},
      {span_with(attr_fixed64),
       "resource_spans[0].scope_spans[0].spans[0].attributes[0]: wire type "
       "fixed64, expected length-delimited"},
      {span_with(event_varint),
       "resource_spans[0].scope_spans[0].spans[0].events[0]: wire type "
       "varint, expected length-delimited"},
      {span_with(status_fixed64),
       "resource_spans[0].scope_spans[0].spans[0].status: wire type fixed64, "
       "expected length-delimited"},
      {span_with(status),
       "resource_spans[0].scope_spans[0].spans[0].status: code: wire type "
       "length-delimited, expected varint"},
      {span_with(trace_id_varint),
       "resource_spans[0].scope_spans[0].spans[0]: trace_id: wire type "
       "varint, expected length-delimited"},
      {BareTraces({WireWriter().Message(9, key_varint)}),
       "resource_spans[0].scope_spans[0].spans[0].attributes[0]: key: wire "
       "type varint, expected length-delimited"},
      {BareTraces({WireWriter().Message(9, value_varint)}),
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value: wire "
       "type varint, expected length-delimited"},
      {BareTraces({WireWriter().Message(9, b::KeyValue("k", string_varint))}),
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value: "
       "string_value: wire type varint, expected length-delimited"},
      {BareTraces({WireWriter().Message(9, b::KeyValue("k", bool_fixed64))}),
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value: "
       "bool_value: wire type fixed64, expected varint"},
      {BareTraces({WireWriter().Message(9, b::KeyValue("k", int_fixed64))}),
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value: "
       "int_value: wire type fixed64, expected varint"},
      {BareTraces({WireWriter().Message(9, b::KeyValue("k", double_varint))}),
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value: "
       "double_value: wire type varint, expected fixed64"},
      {BareTraces({WireWriter().Message(9, b::KeyValue("k", array_varint))}),
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value."
       "array_value: wire type varint, expected length-delimited"},
      {BareTraces({WireWriter().Message(9, b::KeyValue("k", bytes_varint))}),
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value: "
       "bytes_value: wire type varint, expected length-delimited"},
      {WireWriter().Varint(1, 1).data(),
       "resource_spans[0]: wire type varint, expected length-delimited"},
      {WireWriter().Message(1, WireWriter().Fixed64(2, 1)).data(),
       "resource_spans[0].scope_spans[0]: wire type fixed64, expected "
       "length-delimited"},
      {WireWriter().Message(1, WireWriter().Varint(1, 1)).data(),
       "resource_spans[0]: resource: wire type varint, expected "
       "length-delimited"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<TracesRequest> r = DecodeTraces(Encoding::kProtobuf, c.body);
    EXPECT_EQ(r.status().message(), c.message);
  }

  WireWriter time_varint, body_varint, event_name_varint, observed_bytes;
  time_varint.Varint(1, 1);
  body_varint.Varint(5, 1);
  event_name_varint.Varint(12, 1);
  observed_bytes.Bytes(11, "12345678");
  const std::pair<WireWriter, const char*> log_cases[] = {
      {time_varint, ": time_unix_nano: wire type varint, expected fixed64"},
      {body_varint, ".body: wire type varint, expected length-delimited"},
      {event_name_varint,
       ": event_name: wire type varint, expected length-delimited"},
      {observed_bytes,
       ": observed_time_unix_nano: wire type length-delimited, expected "
       "fixed64"},
  };
  for (const auto& [record, message] : log_cases) {
    absl::StatusOr<LogsRequest> r =
        DecodeLogs(Encoding::kProtobuf, BareLogs({record}));
    EXPECT_EQ(
        r.status().message(),
        absl::StrCat("resource_logs[0].scope_logs[0].log_records[0]", message));
  }

  const auto histogram_with = [](const WireWriter& point) {
    WireWriter h, m;
    h.Message(1, point);
    m.Message(9, h);
    return BareMetrics({m});
  };
  WireWriter count_varint, sum_varint, buckets_varint, start_bytes,
      temporality_fixed64, h_varint, name_varint2, gauge_points;
  count_varint.Varint(4, 1);
  sum_varint.Varint(5, 1);
  buckets_varint.Varint(6, 1);
  start_bytes.Bytes(2, "");
  temporality_fixed64.Fixed64(2, 1);
  h_varint.Varint(9, 1);
  name_varint2.Varint(1, 1);
  gauge_points.Message(5, WireWriter().Varint(1, 1));
  const std::pair<std::string, const char*> metric_cases[] = {
      {histogram_with(count_varint),
       ".histogram.data_points[0]: count: wire type varint, expected fixed64"},
      {histogram_with(sum_varint),
       ".histogram.data_points[0]: sum: wire type varint, expected fixed64"},
      {histogram_with(buckets_varint),
       ".histogram.data_points[0]: bucket_counts: wire type varint, expected "
       "length-delimited"},
      {histogram_with(start_bytes),
       ".histogram.data_points[0]: start_time_unix_nano: wire type "
       "length-delimited, expected fixed64"},
      {BareMetrics({WireWriter().Message(9, temporality_fixed64)}),
       ".histogram: aggregation_temporality: wire type fixed64, expected "
       "varint"},
      {BareMetrics({h_varint}),
       ".histogram: wire type varint, expected length-delimited"},
      {BareMetrics({name_varint2}),
       ": name: wire type varint, expected length-delimited"},
      {BareMetrics({gauge_points}),
       ".gauge.data_points[0]: wire type varint, expected length-delimited"},
  };
  for (const auto& [body, message] : metric_cases) {
    absl::StatusOr<MetricsRequest> r = DecodeMetrics(Encoding::kProtobuf, body);
    EXPECT_EQ(r.status().message(),
              absl::StrCat("resource_metrics[0].scope_metrics[0].metrics[0]",
                           message));
  }
}

TEST(OtlpDecoderTest, MalformedProtobufNamesThePlace) {
  // A length far past the end: no allocation, an error.
  absl::StatusOr<TracesRequest> r = DecodeTraces(
      Encoding::kProtobuf, std::string("\x0a\xff\xff\xff\xff\x0f"));
  EXPECT_EQ(r.status().message(),
            "request: length-delimited field longer than the rest of its "
            "message");
  // The same, deep inside: an attribute key claims 2^35 bytes.
  WireWriter span;
  span.Bytes(9, std::string("\x0a\x80\x80\x80\x80\x80\x01zz", 9));
  r = DecodeTraces(Encoding::kProtobuf, BareTraces({span}));
  EXPECT_EQ(r.status().message(),
            "resource_spans[0].scope_spans[0].spans[0].attributes[0]: "
            "length-delimited field longer than the rest of its message");
  // Groups (wire types 3 and 4), field number 0, an 11-byte varint, a
  // truncated fixed64 deep inside.
  EXPECT_EQ(DecodeTraces(Encoding::kProtobuf, std::string("\x0b", 1))
                .status()
                .message(),
            "request: unsupported wire type (groups are not allowed)");
  std::string grouped = BareTraces(
      {WireWriter().Bytes(5, "x").Bytes(99, std::string("\x0c", 1))});
  EXPECT_TRUE(DecodeTraces(Encoding::kProtobuf, grouped).ok());  // unread
  WireWriter span_with_group;
  span_with_group.Varint(6, 1);
  std::string raw_group = span_with_group.data() + std::string("\x13\x14", 2);
  WireWriter scope, rs, req;
  scope.Bytes(2, raw_group);
  rs.Message(2, scope);
  req.Message(1, rs);
  EXPECT_EQ(DecodeTraces(Encoding::kProtobuf, req.data()).status().message(),
            "resource_spans[0].scope_spans[0].spans[0]: unsupported wire type "
            "(groups are not allowed)");
  EXPECT_EQ(DecodeTraces(Encoding::kProtobuf, std::string("\x00\x00", 2))
                .status()
                .message(),
            "request: invalid field number");
  EXPECT_EQ(DecodeTraces(Encoding::kProtobuf,
                         std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff"
                                     "\xff\xff\x01"))
                .status()
                .message(),
            "request: malformed or truncated varint");
  WireWriter short_fixed;
  short_fixed.Bytes(2, std::string("\x39\x01\x02", 3));  // field 7, 2 bytes
  WireWriter rs2, req2;
  rs2.Message(2, short_fixed);
  req2.Message(1, rs2);
  EXPECT_EQ(DecodeTraces(Encoding::kProtobuf, req2.data()).status().message(),
            "resource_spans[0].scope_spans[0].spans[0]: truncated fixed-width "
            "field");

  // Unknown fields of every wire type are skipped, at every level.
  WireWriter unknown;
  unknown.Varint(99, 1).Bytes(100, "zz").Fixed64(101, 3);
  std::string with_fixed32 =
      unknown.data() + std::string("\x9d\x06\x01\x02\x03\x04", 6);  // 99/5
  WireWriter span2;
  span2.Bytes(5, "n").Bytes(1000, with_fixed32).Varint(6, 2);
  span2.Varint(10, 3).Varint(12, 4).Varint(14, 5).Fixed32(16, 1);
  WireWriter scope2, rs3, req3;
  scope2.Bytes(77, "?").Message(2, span2).Varint(3, 0);
  rs3.Message(2, scope2).Fixed64(40, 1);
  req3.Message(1, rs3);
  const std::string body = with_fixed32 + req3.data() + with_fixed32;
  r = DecodeTraces(Encoding::kProtobuf, body);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->resource_spans[0].spans[0].name, "n");
}

TEST(OtlpDecoderTest, InvalidUtf8IsRefused) {
  const std::string bad = "ok\xc3(";  // a lead byte without its follower
  WireWriter event, status, span;
  event.Bytes(2, bad);
  status.Bytes(2, bad);
  const std::pair<std::string, const char*> cases[] = {
      {b::TracesBody(bad, {}),
       "resource_spans[0].resource.attributes[0].value: string_value: not "
       "valid UTF-8"},
      {BareTraces({b::Span(bad, 1, 2, {})}),
       "resource_spans[0].scope_spans[0].spans[0]: name: not valid UTF-8"},
      {BareTraces({b::Span("s", 1, 2, {b::KeyValue(bad, b::Int(1))})}),
       "resource_spans[0].scope_spans[0].spans[0].attributes[0]: key: not "
       "valid UTF-8"},
      {BareTraces({WireWriter().Message(11, event)}),
       "resource_spans[0].scope_spans[0].spans[0].events[0]: name: not valid "
       "UTF-8"},
      {BareTraces({WireWriter().Message(15, status)}),
       "resource_spans[0].scope_spans[0].spans[0].status: message: not "
       "valid UTF-8"},
      {BareTraces({WireWriter().Message(
           9, b::KeyValue("k", ArrayOf({b::Str("fine"), b::Str(bad)})))}),
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value."
       "array_value.values[1]: string_value: not valid UTF-8"},
      // Overlong encodings and surrogates are invalid too.
      {BareTraces({b::Span("\xc0\xaf", 1, 2, {})}),
       "resource_spans[0].scope_spans[0].spans[0]: name: not valid UTF-8"},
      {BareTraces({b::Span("\xed\xa0\x80", 1, 2, {})}),
       "resource_spans[0].scope_spans[0].spans[0]: name: not valid UTF-8"},
  };
  for (const auto& [body, message] : cases) {
    EXPECT_EQ(DecodeTraces(Encoding::kProtobuf, body).status().message(),
              message);
  }
  EXPECT_EQ(
      DecodeLogs(Encoding::kProtobuf, BareLogs({WireWriter().Bytes(12, bad)}))
          .status()
          .message(),
      "resource_logs[0].scope_logs[0].log_records[0]: event_name: not "
      "valid UTF-8");
  EXPECT_EQ(DecodeMetrics(Encoding::kProtobuf,
                          BareMetrics({WireWriter().Bytes(3, bad)}))
                .status()
                .message(),
            "resource_metrics[0].scope_metrics[0].metrics[0]: unit: not "
            "valid UTF-8");
  // Bytes need not be UTF-8; valid multi-byte text is fine.
  WireWriter bytes_value;
  bytes_value.Bytes(7, bad);
  EXPECT_TRUE(
      DecodeTraces(Encoding::kProtobuf,
                   BareTraces({b::Span("h\xc3\xa9 \xf0\x9f\x98\x80", 1, 2,
                                       {b::KeyValue("b", bytes_value)})}))
          .ok());
  // JSON: simdjson validates the whole document.
  EXPECT_THAT(DecodeTraces(
                  Encoding::kJson,
                  absl::StrCat(
                      R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":")",
                      bad, R"("}]}]}]})"))
                  .status()
                  .message(),
              StartsWith("not JSON: "));
}

TEST(OtlpDecoderTest, DeepNestingIsRefused) {
  // kMaxNesting levels of AnyValue are fine; one more is not.
  const auto nested = [](int levels) {
    WireWriter v = b::Str("leaf");
    for (int i = 1; i < levels; ++i) v = ArrayOf({v});
    return BareTraces({b::Span("x", 1, 2, {b::KeyValue("deep", v)})});
  };
  EXPECT_TRUE(DecodeTraces(Encoding::kProtobuf, nested(kMaxNesting)).ok());
  absl::StatusOr<TracesRequest> r =
      DecodeTraces(Encoding::kProtobuf, nested(kMaxNesting + 1));
  EXPECT_THAT(r.status().message(), HasSubstr("nesting too deep"));
  EXPECT_LT(r.status().message().size(), 300u);
  // The path keeps where it started and where it ended.
  EXPECT_THAT(r.status().message(),
              StartsWith("resource_spans[0].scope_spans[0] ..."));
  EXPECT_THAT(r.status().message(),
              HasSubstr("array_value.values[0]: nesting too deep"));

  // Far deeper (the recursion stops at the limit, not at the end).
  r = DecodeTraces(Encoding::kProtobuf, nested(2000));
  EXPECT_THAT(r.status().message(), HasSubstr("nesting too deep"));

  // Key-value lists nest too, with longer paths.
  WireWriter v = b::Int(1);
  for (int i = 0; i < kMaxNesting + 5; ++i) {
    WireWriter list, any;
    list.Message(1, b::KeyValue("key", v));
    any.Message(6, list);
    v = any;
  }
  absl::Status logs =
      DecodeLogs(Encoding::kProtobuf, BareLogs({WireWriter().Message(5, v)}))
          .status();
  EXPECT_THAT(logs.message(), HasSubstr("nesting too deep"));
  EXPECT_THAT(logs.message(), StartsWith("resource_logs[0].scope_logs[0] ..."));
  EXPECT_LT(logs.message().size(), 300u);

  const auto json_nested = [](int levels) {
    std::string json =
        R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"d","value":)";
    for (int i = 1; i < levels; ++i) json += R"({"arrayValue":{"values":[)";
    json += R"({"intValue":1})";
    for (int i = 1; i < levels; ++i) json += "]}}";
    json += "}]}]}]}]}";
    return json;
  };
  EXPECT_TRUE(DecodeTraces(Encoding::kJson, json_nested(kMaxNesting)).ok());
  r = DecodeTraces(Encoding::kJson, json_nested(kMaxNesting + 1));
  EXPECT_THAT(r.status().message(), HasSubstr("nesting too deep"));
  EXPECT_LT(r.status().message().size(), 300u);
  // Past simdjson's own depth limit, in a field nobody reads.
  std::string deep_unknown = R"({"x":)";
  for (int i = 0; i < 5000; ++i) deep_unknown += "[";
  for (int i = 0; i < 5000; ++i) deep_unknown += "]";
  deep_unknown += "}";
  EXPECT_FALSE(DecodeTraces(Encoding::kJson, deep_unknown).ok());
}

TEST(OtlpDecoderTest, MalformedJsonNamesThePlace) {
  struct Case {
    const char* body;
    const char* message;
  };
  const Case cases[] = {
      {"{", "not JSON: "},
      {R"({"a":1} {"b":2})", "not JSON: "},
      {"[]", "request: must be an object, got array"},
      {"\"x\"", "request: must be an object, got string"},
      {R"({"resourceSpans":{}})",
       "request: resource_spans: must be an array, got object"},
      {R"({"resourceSpans":[3]})",
       "resource_spans[0]: must be an object, got number"},
      {R"({"resourceSpans":[{"resource":[]}]})",
       "resource_spans[0].resource: must be an object, got array"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":-1}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0]: start_time_unix_nano: "
       "must be a non-negative integer (a number or a decimal string), got "
       "number"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"startTimeUnixNano":"12x"}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0]: start_time_unix_nano: "
       "must be a non-negative integer (a number or a decimal string), got "
       "string"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"name":7}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0]: name: must be a string, "
       "got number"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":7}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0]: trace_id: must be a "
       "string, got number"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"span_id":[]}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0]: span_id: must be a "
       "string, got array"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":5}]}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0].attributes[0]: key: must "
       "be a string, got number"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":"v"}]}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value: must "
       "be an object, got string"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"boolValue":1}}]}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value: "
       "bool_value: must be a bool, got number"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"arrayValue":{"values":[1]}}}]}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value."
       "array_value.values[0]: must be an object, got number"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"kvlistValue":{"values":[{"key":1}]}}}]}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value."
       "kvlist_value.values[0]: key: must be a string, got number"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"attributes":[{"key":"k","value":{"bytesValue":1}}]}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0].attributes[0].value: "
       "bytes_value: must be a string, got number"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"status":{"code":"NOPE"}}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0].status: code: unknown "
       "enum value name"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"status":{"code":1.5}}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0].status: code: must be an "
       "enum, got number"},
      {R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"events":[{"name":false}]}]}]}]})",
       "resource_spans[0].scope_spans[0].spans[0].events[0]: name: must be "
       "a string, got bool"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<TracesRequest> r = DecodeTraces(Encoding::kJson, c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    if (std::string_view(c.message) == "not JSON: ") {
      EXPECT_THAT(std::string(r.status().message()), StartsWith(c.message));
    } else {
      EXPECT_EQ(r.status().message(), c.message) << c.body;
    }
  }
  EXPECT_EQ(
      DecodeMetrics(Encoding::kJson,
                    R"({"resourceMetrics":[{"scopeMetrics":[{"metrics":[)"
                    R"({"histogram":{"aggregationTemporality":"X"}}]}]}]})")
          .status()
          .message(),
      "resource_metrics[0].scope_metrics[0].metrics[0].histogram: "
      "aggregation_temporality: unknown enum value name");
  EXPECT_EQ(DecodeLogs(Encoding::kJson,
                       R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)"
                       R"({"body":{"stringValue":1}}]}]}]})")
                .status()
                .message(),
            "resource_logs[0].scope_logs[0].log_records[0].body: "
            "string_value: must be a string, got number");
}

TEST(OtlpDecoderTest, ItemAndElementLimits) {
  const std::string body = b::ChatSpansBody("s", 10, kT);
  DecodeLimits few;
  few.max_items = 9;
  absl::StatusOr<TracesRequest> r =
      DecodeTraces(Encoding::kProtobuf, body, few);
  EXPECT_EQ(r.status().message(),
            "resource_spans[0].scope_spans[0].spans[9]: more spans, log "
            "records or data points than limits.max_events_per_request (9)");
  EXPECT_TRUE(DecodeTraces(Encoding::kProtobuf, body).ok());
  few.max_items = 10;
  EXPECT_TRUE(DecodeTraces(Encoding::kProtobuf, body, few).ok());
  few.max_items = 9;
  // Data points of every metric type count.
  WireWriter gauge, gauge_metric;
  for (int i = 0; i < 10; ++i) gauge.Message(1, WireWriter());
  gauge_metric.Message(5, gauge);
  EXPECT_THAT(
      DecodeMetrics(Encoding::kProtobuf, BareMetrics({gauge_metric}), few)
          .status()
          .message(),
      HasSubstr("gauge.data_points[9]: more spans"));
  // Two-byte empty attributes, as many as fit: over the element budget.
  WireWriter span;
  for (int i = 0; i < 20000; ++i) span.Bytes(9, "");
  const std::string dense = b::TracesBody("s", {span});
  r = DecodeTraces(Encoding::kProtobuf, dense);
  EXPECT_THAT(r.status().message(), HasSubstr("(one per 8 bytes)"));
  DecodeLimits loose;
  loose.bytes_per_element = 1;
  EXPECT_TRUE(DecodeTraces(Encoding::kProtobuf, dense, loose).ok());
  // JSON too.
  std::string json = R"({"resourceSpans":[{"scopeSpans":[{"spans":[)";
  for (int i = 0; i < 10; ++i) json += i ? ",{}" : "{}";
  json += "]}]}]}";
  EXPECT_THAT(DecodeTraces(Encoding::kJson, json, few).status().message(),
              HasSubstr("spans[9]: more spans"));
}

// Random damage to valid bodies: never a crash, only values or clean
// errors (the fuzzers do this at length; this runs in every test build).
TEST(OtlpDecoderTest, DamagedBodiesNeverCrash) {
  std::mt19937 rng(12);
  const std::string bodies[] = {OneChatSpan(), OneLogRecord(), OneHistogram()};
  for (int i = 0; i < 3000; ++i) {
    std::string body = bodies[i % 3];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % body.size();
      switch (rng() % 3) {
        case 0:
          body[at] = static_cast<char>(rng());
          break;
        case 1:
          body.erase(at, 1 + rng() % 3);
          break;
        default:
          body.insert(at, 1, static_cast<char>(rng()));
      }
      if (body.empty()) body = "x";
    }
    for (absl::Status s : {DecodeTraces(Encoding::kProtobuf, body).status(),
                           DecodeLogs(Encoding::kProtobuf, body).status(),
                           DecodeMetrics(Encoding::kProtobuf, body).status(),
                           DecodeTraces(Encoding::kJson, body).status()}) {
      if (!s.ok()) {
        EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
        EXPECT_LT(s.message().size(), 300u);
      }
    }
  }
}

}  // namespace
}  // namespace aiq::otlp
