// Replays an event log through the same model code as `serve` (registry,
// windows, statistics, exposition) on a clock that follows the events, and
// writes what Prometheus would have scraped at every step as an
// OpenMetrics history (metrics/openmetrics.h). docs/backtest.md.
//
// Example, given `const config::Config& config`, an
// `aiq::backtest::EventSource& events` (event_source.h) and
// `std::ostream& history`:
//   aiq::backtest::Replay replay(config);
//   if (absl::Status st = replay.LoadReferences(); !st.ok()) return;
//   absl::StatusOr<aiq::backtest::ReplaySummary> s =
//       replay.Run(events, {.step = absl::Minutes(1)}, history);
//   // s->steps scrapes from s->start to s->end, s->applied events
#ifndef AIQ_EXPORTER_BACKTEST_REPLAY_H_
#define AIQ_EXPORTER_BACKTEST_REPLAY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "exporter/backtest/event_source.h"
#include "exporter/config/config.h"
#include "exporter/metrics/self_metrics.h"
#include "exporter/model/model_registry.h"
#include "exporter/util/clock.h"

namespace aiq::backtest {

struct ReplayOptions {
  // Time between scrapes, which are aligned to multiples of it.
  absl::Duration step = absl::Minutes(1);
  // The first and last scrape; by default the step at or before the first
  // event and the step at or after the last.
  std::optional<absl::Time> start, end;
  // The labels Prometheus adds to every series (the scrape target's).
  std::vector<std::pair<std::string, std::string>> target_labels = {
      {"job", "ai-quality-exporter"}, {"instance", "exporter:9477"}};
  // Called now and then with (scrapes written, scrapes in all); the total
  // is -1 when neither `end` nor the source's last time is known.
  std::function<void(int64_t, int64_t)> progress;
};

struct ReplaySummary {
  absl::Time start, end;
  int64_t steps = 0;     // scrapes written
  int64_t applied = 0;   // events the models accepted
  int64_t rejected = 0;  // refused by a model (added to the log's bad lines)
  // Events after `end`, not replayed (those before `start` are replayed,
  // warming the windows, but not scraped).
  int64_t after_end = 0;
  int64_t history_bytes = 0;
};

class Replay {
 public:
  explicit Replay(const config::Config& config);

  // Loads every model's configured reference, as `serve` does.
  absl::Status LoadReferences();

  // Replays the events (taken from `events`, in its time order) and
  // writes the history. InvalidArgument when the range is empty or
  // inverted; the source's status when it fails (then the history is
  // incomplete); DataLoss when `history` fails. Once per Replay.
  absl::StatusOr<ReplaySummary> Run(EventSource& events,
                                    const ReplayOptions& options,
                                    std::ostream& history);

 private:
  const config::Config& config_;
  util::FakeClock clock_;
  model::ModelRegistry registry_;
  metrics::SelfMetrics self_;
};

}  // namespace aiq::backtest

#endif  // AIQ_EXPORTER_BACKTEST_REPLAY_H_
