// `ai_quality_exporter backtest`: replays NDJSON event logs through the
// model code (replay.h), writes the metric history as OpenMetrics, and
// evaluates rule files over it with a real Prometheus
// (rule_evaluation.h), printing the alert timeline. docs/backtest.md.
//
// Example:
//   #include <iostream>
//   int code = aiq::backtest::BacktestCommand(
//       {"--config", "aiq.yaml", "--predictions", "p.ndjson.gz",
//        "--labels", "l.ndjson", "--rules", "prometheus/rules", "alerts",
//        "--step", "1m", "--out", "history.om", "--format", "json"},
//       std::cout, std::cerr);
#ifndef AIQ_EXPORTER_BACKTEST_BACKTEST_COMMAND_H_
#define AIQ_EXPORTER_BACKTEST_BACKTEST_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

#include "exporter/backtest/rule_evaluation.h"

namespace aiq::backtest {

// Exit codes as the other commands: 0 done, 1 runtime failure (a file
// cannot be written, Prometheus fails), 2 usage or configuration error.
int BacktestCommand(const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err);

const char* BacktestUsage();

// The --format json document: exactly
// {"alerts": [{"alertname", "labels", "start", "end"}]}, times in RFC 3339
// (UTC), end null while still firing.
std::string AlertsJson(const std::vector<AlertInterval>& alerts);
// The --format text table.
std::string AlertsText(const std::vector<AlertInterval>& alerts);

}  // namespace aiq::backtest

#endif  // AIQ_EXPORTER_BACKTEST_BACKTEST_COMMAND_H_
