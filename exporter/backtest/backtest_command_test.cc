#include "exporter/backtest/backtest_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace aiq::backtest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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

// A file out of time order: streamed until found out, then replayed again
// from memory; the history is the same as of the sorted file.
TEST(BacktestCommandTest, AFileOutOfTimeOrderIsSortedInMemory) {
  const std::string config = WriteTemp("bt_order.yaml", R"(
models:
  - {name: m, classes: [a, b]}
)");
  std::string sorted, unsorted;
  for (int i = 0; i < 5; ++i) {
    absl::StrAppend(&sorted, R"({"model":"m","id":"p)", i, R"(","timestamp":)",
                    1700000000 + 50 * i, R"(,"prediction":"a"})", "\n");
  }
  // Lines 1-3 in order, then the fifth event before the fourth.
  std::vector<std::string> lines = absl::StrSplit(sorted, '\n');
  unsorted = absl::StrCat(lines[0], "\n", lines[1], "\n", lines[2], "\n",
                          lines[4], "\n", lines[3], "\n");
  const std::string s = WriteTemp("bt_order_s.ndjson", sorted);
  const std::string u = WriteTemp("bt_order_u.ndjson", unsorted);
  const std::string out_s = ::testing::TempDir() + "/bt_order_s.om";
  const std::string out_u = ::testing::TempDir() + "/bt_order_u.om";
  std::ostringstream o, err_s, err_u;
  ASSERT_EQ(
      BacktestCommand({"--config", config, "--predictions", s, "--out", out_s},
                      o, err_s),
      0)
      << err_s.str();
  ASSERT_EQ(
      BacktestCommand({"--config", config, "--predictions", u, "--out", out_u},
                      o, err_u),
      0)
      << err_u.str();
  EXPECT_THAT(err_s.str(), Not(HasSubstr("into memory")));
  EXPECT_THAT(err_u.str(),
              HasSubstr(u + ":5: timestamp is earlier than line 4's: the "
                            "file is not in time order; reading every event "
                            "into memory to sort them"));
  EXPECT_THAT(err_u.str(), HasSubstr("replayed 5 events (0 bad lines"));
  const std::string history = ReadAll(out_s);
  EXPECT_THAT(history,
              HasSubstr(R"(,model="m",version="default"} 5 1700000220)"));
  EXPECT_TRUE(ReadAll(out_u) == history);
}

}  // namespace
}  // namespace aiq::backtest
