#include "exporter/backtest/backtest_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace aiq::backtest
