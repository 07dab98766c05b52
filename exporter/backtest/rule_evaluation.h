// Evaluates Prometheus rule files over a backtest's metric history (an
// OpenMetrics file with timestamps) with the real Prometheus engine, and
// returns when each alert fired. Nothing here evaluates PromQL: promtool
// imports the history and backfills the recording rules, a Prometheus on
// 127.0.0.1 answers range queries for the alerts' expressions, and only
// Prometheus's alerting state machine (`for`, `keep_firing_for`) is
// replayed here over those answers. Needs Debian's `prometheus` and
// `promtool` (2.42).
//
// Example:
//   RuleEvaluationOptions options;
//   options.history_path = "/tmp/bt/history.om";
//   options.rule_paths = {"/etc/ai-quality-exporter/rules"};
//   options.start = absl::FromUnixSeconds(1700000040);
//   options.end = options.start + absl::Hours(2);
//   options.work_dir = "/tmp/bt/work";
//   absl::StatusOr<std::vector<AlertInterval>> alerts =
//       EvaluateRules(options);
//   // for (const AlertInterval& a : *alerts) a.alertname, a.start, a.end
#ifndef AIQ_EXPORTER_BACKTEST_RULE_EVALUATION_H_
#define AIQ_EXPORTER_BACKTEST_RULE_EVALUATION_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace aiq::backtest {

// One alert's firing interval.
struct AlertInterval {
  std::string alertname;
  // The alert's full label set as Prometheus would send it to Alertmanager:
  // the expr result's labels (without __name__) plus the rule's labels
  // (which win), plus alertname.
  std::map<std::string, std::string> labels;
  // First evaluation at which it was firing.
  absl::Time start;
  // First evaluation at which it no longer fired; nullopt = still firing at
  // the last evaluation.
  std::optional<absl::Time> end;

  friend bool operator==(const AlertInterval&, const AlertInterval&) = default;
};

struct RuleEvaluationOptions {
  // The metric history: OpenMetrics text with a timestamp on every sample
  // (families may repeat, one block per step), ending with `# EOF`.
  std::string history_path;
  // Rule files, or directories (their *.yml and *.yaml files, not
  // recursive).
  std::vector<std::string> rule_paths;
  // Inclusive range of evaluation times: start, start + step, ... <= end.
  // Whole seconds (promtool backfills at second resolution).
  absl::Time start, end;
  // Evaluation interval, whole seconds. A group's own `interval:` is
  // ignored: the history has samples only at each step, so a longer
  // interval would just skip steps and a shorter one would re-read the
  // same samples.
  absl::Duration step = absl::Minutes(1);
  // Scratch directory, created if missing. Its data/ (replaced on each
  // run) holds the imported history and the recorded series as TSDB
  // blocks and is kept, so that a Prometheus (and a Grafana on it) can be
  // pointed at it; prometheus.log and promtool-*.log hold the tools'
  // output, recording-rules-level-N.yml what promtool backfilled.
  std::string work_dir;
  // Binaries: a path, or a name looked up in PATH.
  std::string prometheus = "prometheus", promtool = "promtool";
  // Prometheus marks a series stale as soon as a scrape or a rule no
  // longer returns it, but blocks made by promtool carry no staleness
  // markers, so a series that stops would stay visible for the 5 minute
  // lookback (and an alert on it would resolve up to 5 minutes late).
  // With this on, Prometheus runs with --query.lookback-delta just under
  // `step`: a query at t sees only samples from (t - step, t], which
  // matches a history with a sample of every live series at every step.
  // Turn it off for a history sampled less often than `step`.
  bool emulate_staleness = true;
  // Optional one-line progress messages (the caller prints them).
  std::function<void(std::string_view)> progress;
};

// The firing intervals of every alerting rule, sorted by (start,
// alertname, labels). Alerts start inactive at `start`: a condition that
// already held before it counts towards `for` only from `start` on.
//
// Errors: InvalidArgument for bad options, a rule file that `promtool
// check rules` rejects (its output included) or that cannot be read,
// recording rules that depend on each other in a cycle, a history that
// promtool cannot import, or a query Prometheus rejects (each names the
// file and the rule); Unimplemented for a rule label with a template
// (`{{`) or an expression over ALERTS / ALERTS_FOR_STATE (the backtest
// records neither); NotFound when a binary is missing; Unavailable or
// DeadlineExceeded when Prometheus does not start or answer (its log's
// tail included). Each child process is stopped before this returns.
absl::StatusOr<std::vector<AlertInterval>> EvaluateRules(
    const RuleEvaluationOptions& options);

}  // namespace aiq::backtest

#endif  // AIQ_EXPORTER_BACKTEST_RULE_EVALUATION_H_
