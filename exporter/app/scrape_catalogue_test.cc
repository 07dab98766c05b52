// Real scrapes against the metric catalogue (metrics/catalogue.h): every
// family exposed is catalogued with the same type and help, every sample
// carries exactly the catalogued label names, and a rich scenario exposes
// every catalogued family.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "exporter/app/exporter_app.h"
#include "exporter/config/config_loader.h"
#include "exporter/metrics/catalogue.h"

namespace aiq::app {
namespace {

// A scrape of three models (classification with a reference and segments,
// regression with a reference, generation with budgets) after traffic of
// every kind (evaluations and streaming latency too), review sampling and
// durable state on: every family the catalogue lists.
std::string RichScrape() {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("aiq_scrape_catalogue_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    std::ofstream csv(dir / "reg.csv");
    csv << "x,target,prediction\n";
    std::mt19937 g(7);
    std::normal_distribution<double> n(0, 1);
    for (int i = 0; i < 300; ++i) {
      double x = n(g);
      csv << x << "," << 2 * x + n(g) * 0.1 << "," << 2 * x << "\n";
    }
  }
  const std::string yaml = absl::StrCat(R"(
state:
  dir: )",
                                        (dir / "state").string(), R"(
  min_free_bytes: 0
review:
  path: )",
                                        (dir / "review.jsonl").string(), R"(
  sample_fraction: 0.5
models:
  - name: churn-classifier
    task: classification
    versions: ["v1", "v2"]
    classes: ["churn", "stay"]
    features:
      - {name: income, type: numeric}
      - {name: age, type: numeric}
      - {name: score, type: numeric}
      - {name: rooms, type: numeric}
      - {name: plan, type: categorical}
      - {name: channel, type: categorical}
    segments:
      - {attribute: region, values: ["eu", "us", "apac"]}
    reference:
      csv: "builtin:churn-demo"
      target: target
      prediction: prediction
      confidence: confidence
    window: {duration: 10m, buckets: 10, min_samples: 50}
  - name: reg
    task: regression
    features:
      - {name: x, type: numeric}
    reference:
      csv: )",
                                        (dir / "reg.csv").string(), R"(
      target: target
      prediction: prediction
    window: {duration: 10m, buckets: 10, min_samples: 50}
  - name: support-assistant
    task: generation
    versions: ["gpt"]
    cost_per_1k_prompt_tokens: 0.0005
    cost_per_1k_completion_tokens: 0.0015
    budget:
      cost_per_day: 50
      tokens_per_day: 20000000
    safety_categories: ["toxicity", "pii"]
)");
  std::vector<config::ConfigError> errors;
  std::optional<config::Config> c = config::ParseConfig(yaml, "t", errors);
  if (!c.has_value()) {
    ADD_FAILURE() << errors[0].ToString();
    return "";
  }
  util::FakeClock clock(absl::FromUnixSeconds(1'800'000'000));
  ExporterApp app(*std::move(c), &clock);
  if (absl::Status st = app.Init(); !st.ok()) {
    ADD_FAILURE() << st;
    return "";
  }
  app.readiness().SetMet(ExporterApp::kServerCondition);
  auto req = [&](std::string method, std::string path, std::string body,
                 std::string type = "application/x-ndjson",
                 std::string query = "") {
    http::HttpRequest r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.query = query;
    r.header = [type](const char* name) {
      return std::string_view(name) == "Content-Type" ? std::string_view(type)
                                                      : std::string_view();
    };
    return app.Handle(r);
  };
  std::mt19937 g(42);
  std::normal_distribution<double> n(0, 1);
  std::string preds, labels, feedback, reg, regl, llm, evaluations;
  const char* plans[] = {"basic", "plus", "pro"};
  const char* regions[] = {"eu", "us", "apac", "mars"};
  for (int i = 0; i < 1600; ++i) {
    const double p = 1 / (1 + std::exp(-n(g)));
    const bool churn = p >= 0.5;
    absl::StrAppend(&preds, "{\"model\":\"churn-classifier\",\"version\":\"",
                    i % 3 ? "v1" : "v2", "\",\"id\":", i,
                    ",\"features\":{\"income\":", std::exp(10.8 + 0.45 * n(g)),
                    ",\"age\":", 40 + 12 * n(g), ",\"score\":",
                    i % 17 == 0 ? "\"bad\"" : absl::StrCat(n(g) + 0.5),
                    ",\"rooms\":", 1 + i % 5, ",\"plan\":\"", plans[i % 3],
                    "\",\"channel\":\"", i % 2 ? "web" : "app",
                    "\"},\"probabilities\":{\"churn\":", p, ",\"stay\":", 1 - p,
                    "},\"prediction\":\"", churn ? "churn" : "stay",
                    "\",\"latency_ms\":", 5 + i % 50,
                    ",\"segment\":{\"region\":\"", regions[i % 4], "\"}",
                    i % 29 == 0 ? ",\"error\":\"timeout\"" : "", "}\n");
    if (i % 4 != 3) {
      absl::StrAppend(&labels, "{\"model\":\"churn-classifier\",\"id\":", i,
                      ",\"label\":\"", (i % 5 == 0) != churn ? "churn" : "stay",
                      "\"}\n");
    }
    if (i % 7 == 0) {
      absl::StrAppend(&feedback, "{\"model\":\"churn-classifier\",\"id\":", i,
                      ",\"score\":", 1 + i % 5, ",\"value\":", i % 3, "}\n");
    }
    const double x = n(g);
    absl::StrAppend(&reg, "{\"model\":\"reg\",\"id\":", i,
                    ",\"features\":{\"x\":", x + 0.3,
                    "},\"prediction\":", 2 * x, "}\n");
    absl::StrAppend(&regl, "{\"model\":\"reg\",\"id\":", i,
                    ",\"label\":", 2 * x + 0.5 * n(g), "}\n");
    if (i % 2 == 0) {
      absl::StrAppend(&llm, "{\"model\":\"support-assistant\",\"id\":\"q", i,
                      "\",\"tokens\":{\"prompt\":", 100 + i,
                      ",\"completion\":", 50 + i, "},\"latency_ms\":", 300 + i,
                      ",\"ttft_ms\":", 40 + i % 100,
                      i % 10 == 0 ? ",\"safety\":[\"pii\"]" : "",
                      i % 22 == 0 ? ",\"error\":\"rate_limited\"" : "", "}\n");
    }
  }
  for (int i = 0; i < 40; ++i) {
    absl::StrAppend(
        &evaluations, "{\"model\":\"support-assistant\",\"id\":\"q", 2 * i,
        "\",\"evaluator\":\"relevance\",\"score\":", (i % 10) / 10.0,
        ",\"label\":\"", i % 3 ? "relevant" : "irrelevant", "\"}\n");
  }
  absl::StrAppend(
      &feedback,
      "{\"model\":\"churn-classifier\",\"id\":\"nope\",\"score\":2}\n");
  absl::StrAppend(
      &labels,
      "{\"model\":\"churn-classifier\",\"id\":\"nope\",\"label\":\"stay\"}\n");
  absl::StrAppend(&llm, "{\"model\":\"support-assistant\",\"id\":\"q0\"}\n");
  absl::StrAppend(&llm, "{\"model\":\"nope\"}\n");
  EXPECT_EQ(req("POST", "/api/v1/predictions", preds).status, 200);
  clock.Advance(absl::Seconds(30));
  EXPECT_EQ(req("POST", "/api/v1/labels", labels).status, 200);
  EXPECT_EQ(req("POST", "/api/v1/feedback", feedback).status, 200);
  EXPECT_EQ(req("POST", "/api/v1/predictions", reg).status, 200);
  EXPECT_EQ(req("POST", "/api/v1/labels", regl).status, 200);
  EXPECT_EQ(req("POST", "/api/v1/predictions", llm).status, 200);
  EXPECT_EQ(req("POST", "/api/v1/evaluations", evaluations).status, 200);
  req("GET", "/nope", "");
  std::string text = req("GET", "/metrics", "").body;  // 2nd: has a duration
  text = req("GET", "/metrics", "").body;
  std::filesystem::remove_all(dir);
  return text;
}

// The label names of one exposition sample line, `le` left out.
std::set<std::string> SampleLabels(std::string_view line) {
  std::set<std::string> out;
  const size_t open = line.find('{');
  if (open == std::string_view::npos || line.find(' ') < open) return out;
  size_t i = open + 1;
  while (i < line.size() && line[i] != '}') {
    const size_t eq = line.find('=', i);
    std::string name(line.substr(i, eq - i));
    i = eq + 2;  // past ="
    while (i < line.size() && line[i] != '"') i += line[i] == '\\' ? 2 : 1;
    i += 1;  // past the closing quote
    if (i < line.size() && line[i] == ',') ++i;
    if (name != "le") out.insert(std::move(name));
  }
  return out;
}

TEST(ScrapeCatalogueTest, EveryFamilyAndLabelIsCatalogued) {
  const std::string text = RichScrape();
  ASSERT_FALSE(text.empty());
  std::set<std::string> seen;
  const metrics::MetricDef* family = nullptr;
  size_t samples = 0;
  for (size_t pos = 0; pos < text.size();) {
    const size_t nl = text.find('\n', pos);
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line.rfind("# HELP ", 0) == 0) {
      const std::string rest = line.substr(7);
      const std::string name = rest.substr(0, rest.find(' '));
      family = metrics::FindMetric(name);
      ASSERT_NE(family, nullptr) << name << " is not in the catalogue";
      EXPECT_EQ(rest.substr(name.size() + 1), family->help) << name;
      EXPECT_TRUE(seen.insert(name).second) << name << " exposed twice";
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      ASSERT_NE(family, nullptr);
      EXPECT_EQ(line, "# TYPE " + std::string(family->name) + " " +
                          std::string(metrics::TypeName(family->type)));
      continue;
    }
    ASSERT_NE(family, nullptr) << line;
    // A sample of the current family: NAME, or NAME_bucket/_sum/_count.
    EXPECT_EQ(line.rfind(std::string(family->name), 0), 0u) << line;
    std::set<std::string> want;
    for (std::string_view l : family->LabelNames()) want.emplace(l);
    EXPECT_EQ(SampleLabels(line), want) << line;
    ++samples;
  }
  EXPECT_GT(samples, 300u);
  for (const metrics::MetricDef* d : metrics::kCatalogue) {
    // process_max_fds is absent when the fd limit is unlimited.
    if (d->name == "process_max_fds") continue;
    EXPECT_EQ(seen.count(std::string(d->name)), 1u)
        << d->name << " is catalogued but not in the scrape";
  }
}

}  // namespace
}  // namespace aiq::app
