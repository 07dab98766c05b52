#include "exporter/backtest/backtest_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>

namespace aiq::backtest {
namespace {

using ::testing::HasSubstr;

TEST(BacktestCommandTest, JsonIsExactlyTheDocumentedShape) {
  std::vector<AlertInterval> alerts = {
      {.alertname = "AIQFeatureDrift",
       .labels = {{"alertname", "AIQFeatureDrift"},
                  {"feature", "age"},
                  {"severity", "warning"}},
       .start = absl::FromUnixSeconds(1'700'000'040),
       .end = absl::FromUnixSeconds(1'700'003'640)},
      {.alertname = "AIQHighErrorRate",
       .labels = {{"alertname", "AIQHighErrorRate"}},
       .start = absl::FromUnixSeconds(1'700'000'100),
       .end = std::nullopt},
  };
  EXPECT_EQ(
      AlertsJson(alerts),
      R"({"alerts":[{"alertname":"AIQFeatureDrift","end":"2023-11-14T23:14:00Z","labels":{"alertname":"AIQFeatureDrift","feature":"age","severity":"warning"},"start":"2023-11-14T22:14:00Z"},{"alertname":"AIQHighErrorRate","end":null,"labels":{"alertname":"AIQHighErrorRate"},"start":"2023-11-14T22:15:00Z"}]})"
      "\n");
  EXPECT_EQ(AlertsJson({}), "{\"alerts\":[]}\n");
  EXPECT_EQ(AlertsText(alerts),
            "ALERT             START                 END                   "
            "LABELS\n"
            "AIQFeatureDrift   2023-11-14T22:14:00Z  2023-11-14T23:14:00Z  "
            "{feature=\"age\", severity=\"warning\"}\n"
            "AIQHighErrorRate  2023-11-14T22:15:00Z  (firing)              "
            "{}\n"
            "2 alerts (1 still firing at the end)\n");
}

TEST(BacktestCommandTest, UsageErrorsExitWithTwoAndSayWhy) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "give at least one of --predictions"},
      {{"--predictions", "p", "--step", "90ms"}, "--step: \"90ms\""},
      {{"--predictions", "p", "--format", "yaml"}, "--format: \"yaml\""},
      {{"--predictions", "p", "--start", "yesterday"},
       "--start: \"yesterday\""},
      {{"--predictions", "p", "--bogus", "1"}, "unknown option \"--bogus\""},
      {{"--predictions", "p", "--rules"}, "--rules needs at least one path"},
      {{"--predictions", "/nonexistent/p.ndjson"}, "/nonexistent/p.ndjson"},
  };
  for (const auto& [args, message] : cases) {
    std::ostringstream out, err;
    EXPECT_EQ(BacktestCommand(args, out, err), 2) << message;
    EXPECT_THAT(err.str(), HasSubstr(message));
    EXPECT_EQ(out.str(), "");
  }
}

std::string WriteTemp(const std::string& name, std::string_view data) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << data;
  return path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Without --rules: the history only, every input kind read.
TEST(BacktestCommandTest, WritesTheHistoryOfEveryInputKind) {
  const std::string config = WriteTemp("bt_cmd.yaml", R"(
models:
  - {name: llm, task: generation, evaluators: [{name: judge, buckets: [0.5, 1]}]}
)");
  const std::string p = WriteTemp(
      "bt_cmd_p.ndjson",
      R"({"model":"llm","id":"a","timestamp":1700000030,"latency_ms":10})"
      "\n");
  const std::string f =
      WriteTemp("bt_cmd_f.ndjson",
                R"({"model":"llm","id":"a","timestamp":1700000050,"score":4})"
                "\n");
  const std::string e = WriteTemp(
      "bt_cmd_e.ndjson",
      R"({"model":"llm","evaluator":"judge","id":"a","timestamp":1700000070,"score":0.9})"
      "\n");
  const std::string out = ::testing::TempDir() + "/bt_cmd.om";
  std::ostringstream o, err;
  ASSERT_EQ(BacktestCommand({"--config", config, "--predictions", p,
                             "--feedback", f, "--evaluations", e, "--out", out,
                             "--format", "json", "--instance", "h:1"},
                            o, err),
            0)
      << err.str();
  EXPECT_EQ(o.str(), "{\"alerts\":[]}\n");
  EXPECT_THAT(err.str(), HasSubstr("replayed 3 events (0 bad lines skipped)"));
  EXPECT_THAT(err.str(), HasSubstr("3 steps from 2023-11-14T22:13:00Z to "
                                   "2023-11-14T22:15:00Z"));
  const std::string history = ReadAll(out);
  const std::string target = R"(job="ai-quality-exporter",instance="h:1")";
  EXPECT_THAT(history,
              HasSubstr("aiq_predictions_total{" + target +
                        R"(,model="llm",version="default"} 1 1700000040)"));
  EXPECT_THAT(history,
              HasSubstr("aiq_feedback_score_count{" + target +
                        R"(,model="llm",version="default"} 1 1700000100)"));
  EXPECT_THAT(
      history,
      HasSubstr("aiq_evaluations_total{" + target +
                R"(,model="llm",evaluator="judge",label=""} 1 1700000100)"));
}

}  // namespace
}  // namespace aiq::backtest
