#include "exporter/app/exporter_app.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "exporter/config/config_loader.h"
#include "exporter/testing/oracle_data.h"

namespace aiq::app {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

class ExporterAppTest : public ::testing::Test {
 protected:
  void Start(std::string_view yaml) {
    std::vector<config::ConfigError> errors;
    std::optional<config::Config> c = config::ParseConfig(yaml, "t", errors);
    ASSERT_TRUE(c.has_value()) << errors[0].ToString();
    app_ = std::make_unique<ExporterApp>(*std::move(c), &clock_);
  }

  http::HttpResponse Request(std::string method, std::string path,
                             std::string body = "",
                             std::map<std::string, std::string> headers = {}) {
    http::HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.body = std::move(body);
    r.header = [headers](const char* name) -> std::string_view {
      auto it = headers.find(name);
      return it == headers.end() ? std::string_view() : it->second;
    };
    // The lambda's copy of `headers` lives in r.header.
    return app_->Handle(r);
  }

  std::string Scrape() { return Request("GET", "/metrics").body; }

  util::FakeClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  std::unique_ptr<ExporterApp> app_;
};

constexpr char kConfig[] = R"(
models:
  - name: m
    versions: [v1]
    classes: [a, b]
)";

TEST_F(ExporterAppTest, IngestResponseShapeAndStatus) {
  Start(kConfig);
  http::HttpResponse r = Request(
      "POST", "/api/v1/predictions",
      R"([{"model":"m","prediction":"a"},{"model":"x"},{"model":"m","score":1}])");
  EXPECT_EQ(r.status, 200);
  json body = json::parse(r.body);
  EXPECT_EQ(body["accepted"], 1);
  EXPECT_EQ(body["rejected"], 2);
  ASSERT_EQ(body["errors"].size(), 2u);
  EXPECT_EQ(body["errors"][0]["index"], 1);
  EXPECT_EQ(body["errors"][0]["reason"], "unknown_model");
  EXPECT_EQ(body["errors"][1]["index"], 2);
  EXPECT_THAT(body["errors"][1]["error"].get<std::string>(),
              HasSubstr("score: unknown field"));

  // Nothing valid: 400, and nothing moved.
  r = Request("POST", "/api/v1/predictions",
              R"({"model":"m","latency_ms":-3})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body)["errors"][0]["error"],
            "latency_ms: must be >= 0");
  r = Request("POST", "/api/v1/labels", "{oops");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(json::parse(r.body)["error"].get<std::string>(),
              HasSubstr("body is not valid JSON"));
  EXPECT_EQ(Request("POST", "/api/v1/labels", "").status, 400);

  const std::string text = Scrape();
  EXPECT_THAT(
      text, HasSubstr("aiq_predictions_total{model=\"m\",version=\"v1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aiq_exporter_events_rejected_total{kind="
                              "\"prediction\",reason=\"out_of_range\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aiq_exporter_events_rejected_total{kind="
                              "\"label\",reason=\"invalid_json\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("aiq_exporter_events_received_total{kind=\"prediction\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("aiq_exporter_http_requests_total{code=\"400\","
                              "handler=\"/api/v1/predictions\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("process_resident_memory_bytes "));
  EXPECT_THAT(text, HasSubstr("aiq_exporter_build_info{"));
}

TEST_F(ExporterAppTest, StatusCodes) {
  Start(kConfig);
  EXPECT_EQ(Request("GET", "/nope").status, 404);
  http::HttpResponse r = Request("GET", "/api/v1/predictions");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers[0],
            (std::pair<std::string, std::string>{"Allow", "POST"}));
  EXPECT_EQ(
      Request("POST", "/api/v1/labels", "{}", {{"Content-Type", "text/csv"}})
          .status,
      415);
  http::HttpRequest big;
  big.method = "POST";
  big.path = "/api/v1/predictions";
  big.body_too_large = true;
  big.header = [](const char*) { return std::string_view(); };
  EXPECT_EQ(app_->Handle(big).status, 413);
  EXPECT_EQ(Request("GET", "/-/healthy").status, 200);
  r = Request("GET", "/");
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("<li>m (classification)</li>"));
}

TEST_F(ExporterAppTest, ReadyOnceStartUpHasFinished) {
  Start(kConfig);
  // Constructed, not started: every start-up condition is listed.
  http::HttpResponse r = Request("GET", "/-/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.body,
            "Not ready\n"
            "references: the models' reference data is not loaded yet\n"
            "review_log: the review log is not open yet\n"
            "http_server: the HTTP server is not listening yet\n");
  EXPECT_EQ(Request("HEAD", "/-/ready").status, 503);
  // Liveness does not depend on readiness.
  EXPECT_EQ(Request("GET", "/-/healthy").status, 200);

  ASSERT_TRUE(app_->Init().ok());
  r = Request("GET", "/-/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body,
            "Not ready\n"
            "http_server: the HTTP server is not listening yet\n");

  app_->readiness().SetMet(ExporterApp::kServerCondition);
  r = Request("GET", "/-/ready");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "Ready\n");

  // A condition added later (e.g. state restore) makes it unready again.
  app_->readiness().Add("state", "restoring state");
  r = Request("GET", "/-/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "Not ready\nstate: restoring state\n");
  app_->readiness().SetMet("state");
  EXPECT_EQ(Request("GET", "/-/ready").status, 200);

  const std::string text = Scrape();
  EXPECT_THAT(text, HasSubstr("aiq_exporter_http_requests_total{code=\"503\","
                              "handler=\"/-/ready\"} 4\n"));
  EXPECT_THAT(text, HasSubstr("aiq_exporter_http_requests_total{code=\"200\","
                              "handler=\"/-/ready\"} 2\n"));
}

TEST_F(ExporterAppTest, NotReadyWhileAReferenceFailsToLoad) {
  Start(R"(
models:
  - name: m
    features: [{name: x}]
    reference: /nonexistent/aiq_reference.csv
)");
  EXPECT_FALSE(app_->Init().ok());
  http::HttpResponse r = Request("GET", "/-/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("references: the models' reference data is not "
                                "loaded yet\n"));
}

TEST_F(ExporterAppTest, LandingPageEscapesNames) {
  // Config allows these characters in names (not '"', '\\', '/').
  Start(R"(
models:
  - name: "<script>alert('x')&co"
)");
  http::HttpResponse r = Request("GET", "/");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.body, HasSubstr("<li>&lt;script&gt;alert(&#39;x&#39;)&amp;co "
                                "(classification)</li>"));
  EXPECT_THAT(r.body, Not(HasSubstr("<script>")));
}

TEST_F(ExporterAppTest, RoutingEdgeCases) {
  Start(kConfig);
  // A model route needs a non-empty name; a name may contain '/'.
  http::HttpResponse r = Request("GET", "/api/v1/models//drift");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body,
            "{\"error\":\"no such endpoint: /api/v1/models//drift (see / "
            "for the list)\"}");
  r = Request("GET", "/api/v1/models/a/b/drift");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"unknown model \"a/b\""})");
  r = Request("GET", "/api/v1/models/m/");
  EXPECT_EQ(r.status, 404);
  r = Request("PUT", "/api/v1/models/m/drift");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(
      r.body,
      R"({"error":"PUT not allowed on /api/v1/models/m/drift; use GET"})");
  EXPECT_EQ(r.headers[0],
            (std::pair<std::string, std::string>{"Allow", "GET"}));
  // HEAD wherever GET, nowhere else.
  EXPECT_EQ(Request("HEAD", "/api/v1/models").status, 200);
  EXPECT_EQ(Request("HEAD", "/api/v1/labels").status, 405);
  // The unknown-model check runs after the method check.
  EXPECT_EQ(Request("POST", "/api/v1/models/zzz/reference").status, 405);
  EXPECT_EQ(Request("PUT", "/api/v1/models/zzz/reference").status, 404);

  const std::string text = Scrape();
  EXPECT_THAT(text, HasSubstr("aiq_exporter_http_requests_total{code=\"404\","
                              "handler=\"other\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("aiq_exporter_http_requests_total{code=\"404\","
                              "handler=\"/api/v1/models/{model}/drift\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("aiq_exporter_http_requests_total{code=\"404\","
                        "handler=\"/api/v1/models/{model}/reference\"} 1\n"));
}

TEST_F(ExporterAppTest, BearerTokensAndBasicAuth) {
  Start(R"(
server:
  ingest_tokens: [s3cret]
  metrics_auth: {username: prom, password: pw}
models: [{name: m}]
)");
  const std::string ev = R"({"model":"m"})";
  EXPECT_EQ(Request("POST", "/api/v1/predictions", ev).status, 401);
  EXPECT_EQ(Request("POST", "/api/v1/predictions", ev,
                    {{"Authorization", "Bearer wrong"}})
                .status,
            401);
  EXPECT_EQ(Request("POST", "/api/v1/predictions", ev,
                    {{"Authorization", "Bearer s3cret"}})
                .status,
            200);
  // Auth schemes are case-insensitive (RFC 9110): curl and libraries differ.
  EXPECT_EQ(Request("POST", "/api/v1/predictions", ev,
                    {{"Authorization", "bearer s3cret"}})
                .status,
            200);
  EXPECT_EQ(
      Request("GET", "/metrics", "", {{"Authorization", "BASIC cHJvbTpwdw=="}})
          .status,
      200);
  EXPECT_EQ(Request("GET", "/api/v1/models").status, 401);
  EXPECT_EQ(Request("GET", "/metrics").status, 401);
  // base64("prom:pw") = cHJvbTpwdw==
  http::HttpResponse r =
      Request("GET", "/metrics", "", {{"Authorization", "Basic cHJvbTpwdw=="}});
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(
      r.body,
      HasSubstr("aiq_predictions_total{model=\"m\",version=\"default\"} 2\n"));
  EXPECT_EQ(Request("GET", "/-/healthy").status, 200);  // always open

  // Backpressure: the server did not read the body; after authentication,
  // 429 with Retry-After.
  {
    http::HttpRequest busy;
    busy.method = "POST";
    busy.path = "/api/v1/predictions";
    busy.overloaded = true;
    busy.header = [](const char* name) {
      return std::string_view(name) == std::string_view("Authorization")
                 ? std::string_view("Bearer s3cret")
                 : std::string_view();
    };
    r = app_->Handle(busy);
    EXPECT_EQ(r.status, 429);
    EXPECT_THAT(r.body,
                HasSubstr("limits.max_inflight_bytes (67108864 bytes)"));
    EXPECT_THAT(r.headers,
                ::testing::Contains(
                    std::pair<std::string, std::string>("Retry-After", "1")));
    busy.header = [](const char*) { return std::string_view(); };
    EXPECT_EQ(app_->Handle(busy).status, 401);
  }

  // Authentication is checked before the body size, on every route with
  // authentication (an unauthenticated client learns nothing else).
  for (const char* path : {"/api/v1/predictions", "/metrics"}) {
    http::HttpRequest big;
    big.method = path[1] == 'a' ? "POST" : "GET";
    big.path = path;
    big.body_too_large = true;
    big.header = [](const char*) { return std::string_view(); };
    r = app_->Handle(big);
    EXPECT_EQ(r.status, 401) << path;
    ASSERT_EQ(r.headers.size(), 1u) << path;
    EXPECT_EQ(r.headers[0].first, "WWW-Authenticate");
    EXPECT_EQ(r.headers[0].second,
              path[1] == 'a' ? "Bearer" : "Basic realm=\"aiq\"");
  }
  EXPECT_EQ(Request("GET", "/metrics", "", {{"Authorization", "Basic x"}}).body,
            R"({"error":"metrics require basic authentication"})");
}

TEST_F(ExporterAppTest, GzipWhenAsked) {
  Start(kConfig);
  http::HttpResponse r =
      Request("GET", "/metrics", "", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(r.status, 200);
  ASSERT_FALSE(r.body.empty());
  EXPECT_EQ(static_cast<unsigned char>(r.body[0]), 0x1f);
  EXPECT_EQ(r.headers[0],
            (std::pair<std::string, std::string>{"Content-Encoding", "gzip"}));
}

TEST_F(ExporterAppTest, ModelsApi) {
  Start(R"(
models:
  - name: m
    classes: [a, b]
    features: [{name: x}, {name: c, type: categorical}]
)");
  Request(
      "POST", "/api/v1/predictions",
      "{\"model\":\"m\",\"id\":\"1\",\"prediction\":\"a\",\"error\":\"e\"}\n"
      "{\"model\":\"m\",\"id\":\"2\",\"prediction\":\"b\"}",
      {{"Content-Type", "application/x-ndjson"}});
  Request("POST", "/api/v1/labels", R"({"model":"m","id":"1","label":"b"})");
  Request("POST", "/api/v1/feedback", R"({"model":"m","id":"2","score":5})");
  json m = json::parse(Request("GET", "/api/v1/models").body)["models"][0];
  EXPECT_EQ(m["name"], "m");
  EXPECT_EQ(m["task"], "classification");
  EXPECT_EQ(m["versions"], json::array({"default"}));
  EXPECT_EQ(m["classes"], json::array({"a", "b"}));
  EXPECT_EQ(m["features"][1], (json{{"name", "c"}, {"type", "categorical"}}));
  EXPECT_EQ(m["predictions"], 2);
  EXPECT_EQ(m["errors"], 1);
  EXPECT_EQ(m["labels"], 1);
  EXPECT_EQ(m["feedback"], 1);
  EXPECT_EQ(m["join_pending"], 1);  // "1" has its label
}

TEST_F(ExporterAppTest, FeatureTypeErrorsAreCounted) {
  Start(R"(
models: [{name: m, features: [{name: x}]}]
)");
  EXPECT_EQ(Request("POST", "/api/v1/predictions",
                    R"({"model":"m","features":{"x":"high"}})")
                .status,
            200);
  EXPECT_THAT(Scrape(),
              HasSubstr("aiq_feature_type_errors_total{model=\"m\","
                        "feature=\"x\",reason=\"expected_number\"} 1\n"));
  EXPECT_THAT(Scrape(), Not(HasSubstr("expected_string")));
}

}  // namespace
}  // namespace aiq::app

namespace aiq::app {
namespace {

// The live window, fed the current rows of an oracle dataset as events,
// reports the same drift as the batch oracle (expected.json), through
TEST_F(ExporterAppTest, ReferenceUploadsAreCheckedAgainstTheModel) {
  Start(R"(
limits: {max_string_bytes: 16}
models:
  - name: m
    classes: [a, b]
    features: [{name: x}, {name: c, type: categorical}]
    reference: {csv: unused.csv, target: target, prediction: prediction}
    window: {min_samples: 5}
)");
  auto put = [&](int rows, const std::string& bad_row) {
    std::string csv = "x,c,target,prediction\n";
    for (int i = 0; i < rows; ++i) absl::StrAppend(&csv, i, ",k,a,b\n");
    return Request("PUT", "/api/v1/models/m/reference", csv + bad_row);
  };
  http::HttpResponse r = put(3, "");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("3 rows; a reference needs at least "
                                "window.min_samples (5) rows"));
  r = put(5, "9,k,a,z\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("column \\\"prediction\\\" row 6: class "
                                "\\\"z\\\" is not declared for this model"));
  r = put(5, "9,a-longer-category,a,b\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("column \\\"c\\\": a value of 17 bytes, "
                                "longer than limits.max_string_bytes (16)"));
  r = put(5, "");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["rows"], 5);
}

// PUT /reference and GET /drift.
TEST_F(ExporterAppTest, DriftEndpointMatchesBatchOracle) {
  Start(R"(
models:
  - name: churn
    classes: [churn, stay]
    features:
      - {name: income}
      - {name: age}
      - {name: score}
      - {name: rooms}
      - {name: plan, type: categorical}
      - {name: channel, type: categorical}
    reference: {csv: unused.csv, target: target, prediction: prediction}
    window: {min_samples: 10}
)");
  std::string reference_csv, current_csv;
  json expected_all;
  ASSERT_TRUE(testdata::ReadOracleFile("datasets/small_drift_reference.csv",
                                       &reference_csv));
  ASSERT_TRUE(testdata::ReadOracleFile("datasets/small_drift_current.csv",
                                       &current_csv));
  ASSERT_TRUE(
      testdata::LoadOracleJson("datasets/expected.json", &expected_all));
  EXPECT_EQ(Request("GET", "/api/v1/models/churn/drift").status, 409);
  http::HttpResponse r =
      Request("PUT", "/api/v1/models/churn/reference", "income,age\n1,x\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("churn:2: column \\\"age\\\"")) << r.body;
  r = Request("PUT", "/api/v1/models/churn/reference", reference_csv);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["rows"], 800);

  // Current rows as NDJSON prediction events.
  std::istringstream csv(current_csv);
  std::string header, line, body, labels;
  std::getline(csv, header);
  const std::vector<std::string> names = {"income", "age",  "score",
                                          "rooms",  "plan", "channel"};
  int rows = 0;
  while (std::getline(csv, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::vector<std::string> cells;
    std::stringstream ls(line);
    for (std::string cell; std::getline(ls, cell, ',');) cells.push_back(cell);
    cells.resize(8);
    json features = json::object();
    for (size_t i = 0; i < 6; ++i) {
      if (cells[i].empty()) {
        features[names[i]] = nullptr;
      } else if (i < 4) {
        features[names[i]] = std::stod(cells[i]);
      } else {
        features[names[i]] = cells[i];
      }
    }
    body += json{{"model", "churn"},
                 {"id", std::to_string(rows)},
                 {"features", features},
                 {"prediction", cells[7]}}
                .dump() +
            "\n";
    labels += json{{"model", "churn"},
                   {"id", std::to_string(rows)},
                   {"label", cells[6]}}
                  .dump() +
              "\n";
    ++rows;
  }
  r = Request("POST", "/api/v1/predictions", body,
              {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
  EXPECT_EQ(json::parse(r.body)["accepted"], rows);

  r = Request("POST", "/api/v1/labels", labels,
              {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  EXPECT_EQ(json::parse(r.body)["accepted"], rows);

  r = Request("GET", "/api/v1/models/churn/drift");
  ASSERT_EQ(r.status, 200) << r.body;
  const json got = json::parse(r.body);
  const json& expected = expected_all["datasets"][0];
  ASSERT_EQ(expected["current"], "small_drift_current.csv");
  EXPECT_EQ(got["rows"]["current"], rows);
  EXPECT_EQ(got["dataset_drift"]["drifted_features"],
            expected["dataset_drift"]["drifted_features"]);
  EXPECT_EQ(got["dataset_drift"]["detected"],
            expected["dataset_drift"]["detected"]);
  for (const std::string& f : names) {
    SCOPED_TRACE(f);
    const json& e = expected["features"][f];
    const json& g = got["features"][f];
    EXPECT_EQ(g["type"], e["type"]);
    EXPECT_EQ(g["drift"]["test"], e["drift"]["test"]);
    EXPECT_EQ(g["drift"]["detected"], e["drift"]["detected"]);
    const double es = e["drift"]["score"], gs = g["drift"]["score"];
    EXPECT_NEAR(gs, es, std::max(1e-12, 1e-9 * std::abs(es)));
    const double em = e["missing_ratio"], gm = g["missing_ratio"];
    EXPECT_NEAR(gm, em, 1e-12);
  }

  for (const char* k :
       {"accuracy", "precision_macro", "recall_macro", "f1_macro",
        "precision_weighted", "recall_weighted", "f1_weighted"}) {
    const double e = expected["quality"][k], g = got["quality"][k];
    EXPECT_NEAR(g, e, 1e-9 * std::abs(e)) << k;
  }

  // The same numbers on /metrics (the exposition prints 16 significant
  // digits, hence 1e-15).
  const std::string text = Scrape();
  EXPECT_THAT(
      text,
      HasSubstr("aiq_dataset_drift{model=\"churn\",version=\"default\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aiq_feature_drifted{model=\"churn\",version="
                              "\"default\",feature=\"income\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aiq_feature_drifted{model=\"churn\",version="
                              "\"default\",feature=\"age\"} 0\n"));
  auto value_of = [&text](const std::string& series) -> std::optional<double> {
    const size_t at = text.find("\n" + series + " ");
    if (at == std::string::npos) return std::nullopt;
    return std::strtod(text.c_str() + at + series.size() + 2, nullptr);
  };
  const std::optional<double> income_p = value_of(
      "aiq_drift_p_value{model=\"churn\",version=\"default\",feature="
      "\"income\",test=\"ks\"}");
  ASSERT_TRUE(income_p.has_value()) << text;
  const double want_p = got["features"]["income"]["drift"]["score"];
  EXPECT_NEAR(*income_p, want_p, 1e-15 * want_p);
  EXPECT_THAT(text, HasSubstr("aiq_baseline_accuracy{model=\"churn\"} "));
  const std::optional<double> accuracy =
      value_of("aiq_accuracy{model=\"churn\",version=\"default\"}");
  ASSERT_TRUE(accuracy.has_value()) << text;
  const double want_accuracy = got["quality"]["accuracy"];
  EXPECT_NEAR(*accuracy, want_accuracy, 1e-15 * want_accuracy);
  EXPECT_THAT(text, HasSubstr("aiq_window_samples{model=\"churn\",version="
                              "\"default\",kind=\"labeled\"} 600\n"));
  EXPECT_THAT(text,
              HasSubstr("aiq_concept_drift_detections_total{model=\"churn\","
                        "version=\"default\",detector=\"adwin\"} "));
  EXPECT_THAT(
      text,
      HasSubstr(
          "aiq_reconstruction_error{model=\"churn\",version=\"default\"} "));
  EXPECT_THAT(
      text,
      HasSubstr(
          "aiq_prediction_drifted{model=\"churn\",version=\"default\"} "));

  EXPECT_EQ(Request("GET", "/api/v1/models/nope/drift").status, 404);
  EXPECT_EQ(Request("POST", "/api/v1/models/churn/drift").status, 405);
  EXPECT_EQ(Request("GET", "/api/v1/models/churn/drift?version=v9").status,
            404);
}

}  // namespace
}  // namespace aiq::app

namespace aiq::app {
namespace {

TEST_F(ExporterAppTest, ReviewSamplingWritesTheLogAndCounts) {
  const std::string dir = ::testing::TempDir() + "aiq_review_app";
  std::filesystem::remove_all(dir);
  Start("review: {path: " + dir + "/review.jsonl, sample_fraction: 0}\n" +
        R"(
models:
  - name: m
    classes: [a, b]
    low_confidence_threshold: 0.6
)");
  ASSERT_TRUE(app_->Init().ok());
  http::HttpResponse r = Request(
      "POST", "/api/v1/predictions",
      "{\"model\":\"m\",\"id\":\"1\",\"prediction\":\"a\",\"confidence\":0.9}\n"
      "{\"model\":\"m\",\"id\":\"2\",\"prediction\":\"a\",\"confidence\":0.5}\n"
      "{\"model\":\"m\",\"id\":\"3\",\"prediction\":\"b\",\"safety\":[\"pii\"]}"
      "\n"
      "{\"model\":\"m\",\"id\":\"4\",\"prediction\":\"zzz\",\"safety\":[\"x\"]}"
      "\n",
      {{"Content-Type", "application/x-ndjson"}});
  ASSERT_EQ(r.status, 200);
  Request(
      "POST", "/api/v1/feedback",
      R"([{"model":"m","id":"1","score":2},{"model":"m","id":"2","score":5}])");
  std::ifstream in(dir + "/review.jsonl");
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(json::parse(line));
  // id 2 (low confidence), id 3 (safety), feedback for id 1 (score 2);
  // id 4 was rejected (unknown class) and is not sampled.
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["event"]["id"], "2");
  EXPECT_EQ(lines[0]["reasons"], json::array({"low_confidence"}));
  EXPECT_EQ(lines[1]["event"]["id"], "3");
  EXPECT_EQ(lines[1]["reasons"], json::array({"safety"}));
  EXPECT_EQ(lines[2]["kind"], "feedback");
  EXPECT_EQ(lines[2]["event"]["score"], 2.0);
  const std::string text = Scrape();
  EXPECT_THAT(
      text,
      HasSubstr("aiq_review_samples_total{model=\"m\",reason=\"safety\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("aiq_review_samples_total{model=\"m\",reason="
                              "\"low_confidence\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "aiq_review_samples_total{model=\"m\",reason=\"low_feedback\"} 1\n"));
  EXPECT_THAT(
      text,
      HasSubstr("aiq_review_samples_total{model=\"m\",reason=\"random\"} 0\n"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace aiq::app

namespace aiq::app {
namespace {

// Reference replacement while other threads ingest and scrape: no event is
// lost or double-counted, nothing crashes, and the final reference is used.
TEST_F(ExporterAppTest, ReferenceReplacementUnderConcurrentIngest) {
  Start(R"(
models:
  - name: m
    task: regression
    features: [{name: x}, {name: c, type: categorical}]
    window: {min_samples: 10}
)");
  std::string ref_a = "x,c\n", ref_b = "x,c\n";
  for (int i = 0; i < 200; ++i) {
    ref_a += std::to_string(i % 50) + "," + (i % 2 ? "u" : "v") + "\n";
    ref_b += std::to_string(100 + i % 50) + "," + (i % 3 ? "u" : "w") + "\n";
  }
  ASSERT_EQ(Request("PUT", "/api/v1/models/m/reference", ref_a).status, 200);
  constexpr int kThreads = 3, kRequests = 200, kPerRequest = 20;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < kRequests; ++r) {
        std::string body;
        for (int e = 0; e < kPerRequest; ++e) {
          body += R"({"model":"m","prediction":1.5,"features":{"x":)" +
                  std::to_string((t * 7 + r + e) % 60) + R"(,"c":"u"}})" + "\n";
        }
        http::HttpResponse resp =
            Request("POST", "/api/v1/predictions", body,
                    {{"Content-Type", "application/x-ndjson"}});
        EXPECT_EQ(resp.status, 200);
      }
    });
  }
  std::thread swapper([&] {
    for (int i = 0; !stop.load(); ++i) {
      EXPECT_EQ(
          Request("PUT", "/api/v1/models/m/reference", i % 2 ? ref_a : ref_b)
              .status,
          200);
      EXPECT_EQ(Request("GET", "/metrics").status, 200);
      Request("GET", "/api/v1/models/m/drift");
    }
  });
  for (auto& t : threads) t.join();
  stop = true;
  swapper.join();
  ASSERT_EQ(Request("PUT", "/api/v1/models/m/reference", ref_b).status, 200);
  const std::string text = Scrape();
  EXPECT_THAT(
      text,
      HasSubstr("aiq_predictions_total{model=\"m\",version=\"default\"} " +
                std::to_string(kThreads * kRequests * kPerRequest) + "\n"));
  EXPECT_THAT(text, HasSubstr("aiq_reference_rows{model=\"m\"} 200\n"));
  // The window restarted with the last reference: empty, so no drift yet.
  EXPECT_THAT(text, Not(HasSubstr("aiq_feature_drifted{")));
}

TEST_F(ExporterAppTest, ScreenRefusesOnTheHeadersAlone) {
  Start(R"(
server:
  ingest_tokens: [s3cret]
models:
  - name: m
    classes: [a, b]
)");
  auto screen = [&](std::string path,
                    std::map<std::string, std::string> headers) {
    http::HttpRequest r;
    r.method = "POST";
    r.path = std::move(path);
    r.header = [headers](const char* name) -> std::string_view {
      auto it = headers.find(name);
      return it == headers.end() ? std::string_view() : it->second;
    };
    std::optional<http::HttpResponse> refusal = app_->Screen(r);
    return refusal ? refusal->status : 0;
  };
  EXPECT_EQ(
      screen("/api/v1/predictions", {{"Authorization", "Bearer s3cret"},
                                     {"Content-Type", "application/x-ndjson"}}),
      0);
  EXPECT_EQ(
      screen("/api/v1/predictions", {{"Content-Type", "application/x-ndjson"}}),
      401);
  EXPECT_EQ(screen("/api/v1/predictions",
                   {{"Authorization", "Bearer s3cret"},
                    {"Content-Type", "application/x-www-form-urlencoded"}}),
            415);
  EXPECT_EQ(screen("/nope", {}), 404);
  EXPECT_EQ(screen("/metrics", {}), 405);
  // Refusals are counted like any answer.
  EXPECT_THAT(
      Scrape(),
      HasSubstr(
          R"(aiq_exporter_http_requests_total{code="401",handler="/api/v1/predictions"} 1)"));
}

TEST_F(ExporterAppTest, WebConfigUsersGuardEveryEndpoint) {
  Start(R"(
server:
  ingest_tokens: [s3cret]
models:
  - name: m
    classes: [a, b]
)");
  // bcrypt of "pw" at cost 4 (crypt_rn), so the test stays fast.
  std::map<std::string, std::string> users = {
      {"prom", "$2b$04$abcdefghijklmnopqrstuuyvPXIbu7xe6/CED2DzX8z6Si09MlzlW"}};
  auto verifier = std::make_unique<http::BasicAuthUsers>(users);
  const std::string good = "Basic " + absl::Base64Escape("prom:pw");
  ASSERT_TRUE(verifier->Verify(good)) << "the hash above is not bcrypt(pw)";
  app_->SetWebUsers(std::move(verifier));
  http::HttpResponse r = Request("GET", "/-/healthy");
  EXPECT_EQ(r.status, 401);
  EXPECT_THAT(r.body, HasSubstr("basic_auth_users"));
  EXPECT_EQ(Request("GET", "/-/healthy", "", {{"Authorization", good}}).status,
            200);
  EXPECT_EQ(Request("GET", "/metrics", "", {{"Authorization", good}}).status,
            200);
  // The route's own credentials still work: ingest with its token.
  r = Request("POST", "/api/v1/predictions",
              R"({"model":"m","prediction":"a"})",
              {{"Authorization", "Bearer s3cret"},
               {"Content-Type", "application/json"}});
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Request("GET", "/metrics", "", {{"Authorization", "Bearer s3cret"}})
                .status,
            401);
}

}  // namespace
}  // namespace aiq::app
