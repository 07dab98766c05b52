// Turns scrapes into an OpenMetrics history: the samples of a Prometheus
// text-format body (RenderText's), with the target labels a Prometheus
// scrape adds and the scrape's timestamp, as `promtool tsdb
// create-blocks-from openmetrics` backfills them. Used by `backtest` to
// write the metric history it replays (docs/backtest.md).
//
// Series names and label values are exactly the scrape's, so recording
// rules, alerts and dashboards see what a live Prometheus would store.
// HELP lines are dropped (metadata only); a counter family whose name does
// not end in _total, and an untyped one, is declared `unknown`, since
// OpenMetrics names counter samples <family>_total.
//
// Example, given `std::string_view text_body` (a /metrics body):
//   aiq::metrics::OpenMetricsHistory history(
//       {{"job", "ai-quality-exporter"}, {"instance", "exporter:9477"}});
//   std::string out;
//   history.AppendScrape(text_body, absl::FromUnixSeconds(1700000000), out);
//   out += aiq::metrics::OpenMetricsHistory::kEof;
#ifndef AIQ_EXPORTER_METRICS_OPENMETRICS_H_
#define AIQ_EXPORTER_METRICS_OPENMETRICS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace aiq::metrics {

class OpenMetricsHistory {
 public:
  // The file's last line.
  static constexpr std::string_view kEof = "# EOF\n";

  // `target_labels` go first on every sample (a scrape's job and instance).
  explicit OpenMetricsHistory(
      std::vector<std::pair<std::string, std::string>> target_labels);

  // Appends the samples of `text_body` stamped `at` (millisecond precision,
  // as Prometheus stores them). A sample that already has a target label
  // keeps its own value, as with honor_labels.
  void AppendScrape(std::string_view text_body, absl::Time at,
                    std::string& out) const;

  // One sample with only the target labels, e.g. `up`.
  void AppendSample(std::string_view name, double value, absl::Time at,
                    std::string& out) const;

 private:
  // Each target label's name and its `name="value"`, and all of them
  // joined with commas: rendered once.
  std::vector<std::pair<std::string, std::string>> targets_;
  std::string target_;
};

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_OPENMETRICS_H_
