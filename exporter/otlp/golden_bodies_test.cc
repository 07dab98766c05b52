// The request bodies the real OpenTelemetry JS SDK sent (testdata/otlp,
// captured by tests/otlp_client/capture.mjs) decode and map to exactly the
// workload tests/otlp_client/send_genai.mjs describes in
// testdata/otlp/expected.json, and the protobuf and JSON encodings of the
// same export map to the same events.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "exporter/config/config_loader.h"
#include "exporter/ingest/decoder.h"
#include "exporter/ingest/event_json.h"
#include "exporter/otlp/genai_mapping.h"
#include "exporter/otlp/otlp_decoder.h"
#include "exporter/testing/otlp_bodies.h"

namespace aiq::otlp {
namespace {

using ingest::EvaluationEvent;
using ingest::LatencyPointEvent;
using ingest::PredictionEvent;
namespace b = aiq::testing::otlp_bodies;

std::string ReadTestdata(const std::string& name) {
  std::ifstream in(std::string(AIQ_SOURCE_DIR) + "/testdata/otlp/" + name,
                   std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

const nlohmann::json& Expected() {
  static const nlohmann::json* expected =
      new nlohmann::json(nlohmann::json::parse(ReadTestdata("expected.json")));
  return *expected;
}

Encoding EncodingOf(const std::string& file) {
  return file.ends_with(".pb") ? Encoding::kProtobuf : Encoding::kJson;
}

class GoldenBodiesTest : public ::testing::Test {
 protected:
  GoldenBodiesTest() {
    std::vector<config::ConfigError> errors;
    config_ = *config::ParseConfig(R"(
models:
  - name: chatbot
    task: generation
)",
                                   "t", errors);
  }

  // The body's items decoded and mapped, at a receive time just after the
  // latest item time (the capture's items are minutes to hours old).
  MappedRequest Map(const std::string& file) {
    bodies_.push_back(ReadTestdata(file));
    const std::string& body = bodies_.back();
    EXPECT_FALSE(body.empty()) << file;
    const Encoding enc = EncodingOf(file);
    GenAiMapper mapper(config_);
    if (file.starts_with("traces")) {
      absl::StatusOr<TracesRequest> r = DecodeTraces(enc, body, {});
      EXPECT_TRUE(r.ok()) << file << ": " << r.status();
      uint64_t latest = 0;
      for (const ResourceSpans& rs : r->resource_spans) {
        for (const Span& s : rs.spans) {
          latest = std::max(latest, s.end_time_unix_nano);
        }
      }
      return mapper.MapTraces(*r, Receive(latest));
    }
    if (file.starts_with("logs")) {
      absl::StatusOr<LogsRequest> r = DecodeLogs(enc, body, {});
      EXPECT_TRUE(r.ok()) << file << ": " << r.status();
      uint64_t latest = 0;
      for (const ResourceLogs& rl : r->resource_logs) {
        for (const LogRecord& l : rl.log_records) {
          latest = std::max(latest, l.time_unix_nano);
        }
      }
      return mapper.MapLogs(*r, Receive(latest));
    }
    absl::StatusOr<MetricsRequest> r = DecodeMetrics(enc, body, {});
    EXPECT_TRUE(r.ok()) << file << ": " << r.status();
    uint64_t latest = 0;
    for (const ResourceMetrics& rm : r->resource_metrics) {
      for (const Metric& m : rm.metrics) {
        for (const HistogramPoint& p : m.points) {
          latest = std::max(latest, p.time_unix_nano);
        }
      }
    }
    return mapper.MapMetrics(*r, Receive(latest));
  }

  static absl::Time Receive(uint64_t latest_unix_nano) {
    return absl::FromUnixNanos(static_cast<int64_t>(latest_unix_nano)) +
           absl::Seconds(1);
  }

  // Each event as the review log would write it, without its timestamp:
  // the SDK's times are relative to each capture (testdata/otlp/README.md).
  std::vector<nlohmann::json> Lines(const MappedRequest& m) const {
    std::vector<nlohmann::json> lines;
    for (const ingest::DecodedEvent& e : m.decoded.events) {
      nlohmann::json line =
          nlohmann::json::parse(ingest::EventToJson(e.event, config_));
      EXPECT_TRUE(line.contains("timestamp")) << line;
      line.erase("timestamp");
      lines.push_back(std::move(line));
    }
    return lines;
  }

  // The three encodings of the same calls map to the same events.
  void ExpectSameCalls(const std::string& pb, const std::string& js,
                       const std::string& nd);

  config::Config config_;
  std::vector<std::string> bodies_;  // the decoded requests view into these
};

TEST_F(GoldenBodiesTest, TracesMapToTheWorkload) {
  const nlohmann::json& want = Expected()["traces"]["expected"];
  const MappedRequest pb = Map("traces.pb");
  const MappedRequest js = Map("traces.json");
  EXPECT_EQ(Lines(pb), Lines(js));

  // Items: the GenAI spans and their evaluation span events.
  EXPECT_EQ(pb.decoded.total, want["genai_spans"].get<int>() +
                                  static_cast<int>(want["evaluations"].size()));
  EXPECT_EQ(pb.ignored, want["ignored_spans"].get<int>());
  EXPECT_EQ(want["genai_spans"].get<int>() + pb.ignored,
            want["spans_total"].get<int>());
  EXPECT_TRUE(pb.decoded.errors.empty()) << pb.Describe(pb.decoded.errors[0]);

  std::map<std::string, int> calls, errors;
  std::map<std::string, int64_t> input, output;
  std::map<std::string, double> seconds;
  int evaluations = 0;
  for (const ingest::DecodedEvent& e : pb.decoded.events) {
    if (const auto* p = std::get_if<PredictionEvent>(&e.event)) {
      ++calls[p->version];
      input[p->version] += p->prompt_tokens.value_or(0);
      output[p->version] += p->completion_tokens.value_or(0);
      seconds[p->version] += p->latency_seconds.value_or(0);
      if (p->error) ++errors[*p->error];
    } else if (const auto* v = std::get_if<EvaluationEvent>(&e.event)) {
      const nlohmann::json& w = want["evaluations"][evaluations++];
      EXPECT_EQ(v->evaluator, w["name"].get<std::string>());
      EXPECT_DOUBLE_EQ(*v->score, w["score"].get<double>());
      EXPECT_EQ(*v->label, w["label"].get<std::string>());
      EXPECT_EQ(v->id, w["response_id"].get<std::string>());
      EXPECT_EQ(v->version, w["model"].get<std::string>());
    }
  }
  EXPECT_EQ(evaluations, static_cast<int>(want["evaluations"].size()));
  EXPECT_EQ(calls, (want["calls_by_model"].get<std::map<std::string, int>>()));
  EXPECT_EQ(input,
            (want["input_tokens"].get<std::map<std::string, int64_t>>()));
  EXPECT_EQ(output,
            (want["output_tokens"].get<std::map<std::string, int64_t>>()));
  EXPECT_EQ(errors, (want["error_reasons"].get<std::map<std::string, int>>()));
  for (const auto& [version, w] : want["duration_seconds"].items()) {
    EXPECT_NEAR(seconds[version], w["sum"].get<double>(), 1e-9) << version;
  }
}

TEST_F(GoldenBodiesTest, LogsMapToTheWorkload) {
  const nlohmann::json& want = Expected()["logs"]["expected"];
  const MappedRequest pb = Map("logs.pb");
  const MappedRequest js = Map("logs.json");
  EXPECT_EQ(Lines(pb), Lines(js));

  EXPECT_EQ(pb.decoded.total + pb.ignored, want["records_total"].get<int>());
  EXPECT_EQ(pb.ignored, want["ignored_records"].get<int>());
  EXPECT_TRUE(pb.decoded.errors.empty()) << pb.Describe(pb.decoded.errors[0]);
  ASSERT_EQ(pb.decoded.events.size(), want["evaluations"].size());
  for (size_t i = 0; i < pb.decoded.events.size(); ++i) {
    const auto& v = std::get<EvaluationEvent>(pb.decoded.events[i].event);
    const nlohmann::json& w = want["evaluations"][i];
    EXPECT_EQ(v.evaluator, w["name"].get<std::string>()) << i;
    if (w["score"].is_null()) {
      EXPECT_FALSE(v.score.has_value()) << i;
    } else {
      EXPECT_DOUBLE_EQ(v.score.value_or(-1), w["score"].get<double>()) << i;
    }
    if (w["label"].is_null()) {
      EXPECT_FALSE(v.label.has_value()) << i;
    } else {
      EXPECT_EQ(v.label.value_or(""), w["label"].get<std::string>()) << i;
    }
    EXPECT_EQ(v.id, w["response_id"].is_null()
                        ? ""
                        : w["response_id"].get<std::string>())
        << i;
  }
}

// Both temporalities: each histogram is one point whose buckets and sum are
// the workload's, on the SDK's (the conventions') boundaries.
TEST_F(GoldenBodiesTest, MetricsMapToTheWorkload) {
  for (const char* temporality : {"delta", "cumulative"}) {
    SCOPED_TRACE(temporality);
    const std::string stem =
        std::string(temporality) == "delta" ? "metrics" : "metrics_cumulative";
    const nlohmann::json& want =
        Expected()[std::string("metrics_") + temporality]["expected"];
    const MappedRequest pb = Map(stem + ".pb");
    const MappedRequest js = Map(stem + ".json");
    EXPECT_EQ(Lines(pb), Lines(js));
    EXPECT_TRUE(pb.decoded.errors.empty()) << pb.Describe(pb.decoded.errors[0]);
    ASSERT_EQ(pb.decoded.events.size(), 2u);
    for (const ingest::DecodedEvent& e : pb.decoded.events) {
      const auto& p = std::get<LatencyPointEvent>(e.event);
      const std::string name =
          p.metric == LatencyPointEvent::Metric::kTimeToFirstToken
              ? std::string(semconv::kTimeToFirstToken)
              : std::string(semconv::kTimePerOutputToken);
      const nlohmann::json& w = want["histograms"][name];
      EXPECT_EQ(p.version, "gpt-4o") << name;
      EXPECT_EQ(p.cumulative, std::string(temporality) == "cumulative");
      EXPECT_EQ(p.bounds, w["explicit_bounds"].get<std::vector<double>>())
          << name;
      EXPECT_EQ(p.bucket_counts,
                w["bucket_counts"].get<std::vector<uint64_t>>())
          << name;
      EXPECT_NEAR(p.sum, w["sum"].get<double>(), 1e-12) << name;
    }
  }
}

// The benchmark's three bodies (bench/otlp_benchmark.cc) carry the same
// calls: the OTLP protobuf and JSON spans map to exactly the events the
// JSON API decodes from the NDJSON, so their figures compare equal work.
TEST_F(GoldenBodiesTest, BenchmarkBodiesAreTheSameCalls) {
  constexpr uint64_t kStart = 1'800'000'000'000'000'000 - 3'600'000'000'000;
  for (bool response_ids : {true, false}) {
    SCOPED_TRACE(response_ids);
    const std::vector<b::ChatCall> calls =
        b::ChatCalls(50, kStart, response_ids);
    ExpectSameCalls(b::ChatSpansBody("chatbot", calls),
                    b::ChatSpansJsonBody("chatbot", calls),
                    b::ChatCallsNdjson("chatbot", calls));
  }
}

void GoldenBodiesTest::ExpectSameCalls(const std::string& pb,
                                       const std::string& js,
                                       const std::string& nd) {
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);

  GenAiMapper mapper(config_);
  absl::StatusOr<TracesRequest> pb_request =
      DecodeTraces(Encoding::kProtobuf, pb, {});
  absl::StatusOr<TracesRequest> js_request =
      DecodeTraces(Encoding::kJson, js, {});
  ASSERT_TRUE(pb_request.ok()) << pb_request.status();
  ASSERT_TRUE(js_request.ok()) << js_request.status();
  const MappedRequest from_pb = mapper.MapTraces(*pb_request, now);
  const MappedRequest from_js = mapper.MapTraces(*js_request, now);
  absl::StatusOr<ingest::DecodeResult> from_nd =
      ingest::Decoder(config_).Decode(ingest::EventKind::kPrediction,
                                      ingest::BodyFormat::kNdjson, nd, now);
  ASSERT_TRUE(from_nd.ok()) << from_nd.status();

  auto lines = [&](const std::vector<ingest::DecodedEvent>& events) {
    std::vector<std::string> out;
    for (const ingest::DecodedEvent& e : events) {
      out.push_back(ingest::EventToJson(e.event, config_));
    }
    return out;
  };
  ASSERT_EQ(from_nd->errors.size(), 0u) << from_nd->errors[0].message;
  ASSERT_EQ(from_pb.decoded.errors.size(), 0u);
  ASSERT_EQ(from_nd->events.size(), 50u);
  EXPECT_EQ(lines(from_pb.decoded.events), lines(from_nd->events));
  EXPECT_EQ(lines(from_js.decoded.events), lines(from_nd->events));
}

}  // namespace
}  // namespace aiq::otlp
