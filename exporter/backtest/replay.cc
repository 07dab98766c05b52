#include "exporter/backtest/replay.h"

#include <algorithm>
#include <array>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "exporter/metrics/exposition.h"
#include "exporter/metrics/openmetrics.h"
#include "exporter/metrics/scrape.h"

namespace aiq::backtest {
namespace {

// Events applied per call: one lock per model per batch, as a request.
constexpr size_t kMaxBatch = 4096;
// History is written in pieces of about this size.
constexpr size_t kFlushBytes = 8 << 20;

absl::Time FloorTo(absl::Time t, absl::Duration step) {
  const absl::Duration since = t - absl::UnixEpoch();
  absl::Duration rem;
  const int64_t q = absl::IDivDuration(since, step, &rem);
  return absl::UnixEpoch() + (rem < absl::ZeroDuration() ? q - 1 : q) * step;
}

absl::Time CeilTo(absl::Time t, absl::Duration step) {
  const absl::Time f = FloorTo(t, step);
  return f == t ? f : f + step;
}

}  // namespace

Replay::Replay(const config::Config& config)
    : config_(config),
      clock_(absl::UnixEpoch()),
      registry_(config, &clock_),
      self_(static_cast<int>(config.models.size())) {}

absl::Status Replay::LoadReferences() { return registry_.LoadReferences(); }

absl::StatusOr<ReplaySummary> Replay::Run(EventSource& events,
                                          const ReplayOptions& options,
                                          std::ostream& history) {
  const absl::Duration step = options.step;
  if (step <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the step must be positive");
  }
  const std::optional<absl::Time> first = events.NextTime();
  if (!events.status().ok()) return events.status();
  if (!first && !(options.start && options.end)) {
    return absl::InvalidArgumentError(
        "no events to replay (and no --start and --end)");
  }
  if (options.start && options.end && *options.end < *options.start) {
    return absl::InvalidArgumentError("the end is before the start");
  }
  ReplaySummary summary;
  summary.start = options.start ? *options.start : FloorTo(*first, step);
  // Without --end: the step at or after the last event, known for certain
  // once the source is exhausted.
  std::optional<absl::Time> end = options.end;
  const std::optional<absl::Time> end_hint =
      end ? end
          : (events.LastTimeHint()
                 ? std::optional(CeilTo(*events.LastTimeHint(), step))
                 : std::nullopt);
  const int64_t steps_hint = end_hint && *end_hint >= summary.start
                                 ? (*end_hint - summary.start) / step + 1
                                 : -1;
  // Within a batch the clock is at its last event: spans no longer than
  // the smallest max_lateness make no replayed event late.
  absl::Duration batch_span = absl::InfiniteDuration();
  for (const config::ModelConfig& m : config_.models) {
    batch_span = std::min(batch_span, m.window.max_lateness);
  }

  const metrics::OpenMetricsHistory om(options.target_labels);
  std::string out;
  const auto flush = [&]() -> absl::Status {
    history.write(out.data(), static_cast<std::streamsize>(out.size()));
    summary.history_bytes += static_cast<int64_t>(out.size());
    out.clear();
    if (!history) return absl::DataLossError("cannot write the history");
    return absl::OkStatus();
  };
  const double process_start =
      absl::ToDoubleSeconds(summary.start - absl::UnixEpoch());
  auto last_progress = std::chrono::steady_clock::now();
  absl::Time last_event = first.value_or(summary.start);
  std::optional<absl::Time> next = first;
  // Reused: its capacity stays, so batches do not allocate.
  std::vector<ingest::DecodedEvent*> batch;
  batch.reserve(kMaxBatch);
  for (int64_t k = 0;; ++k) {
    const absl::Time at = summary.start + k * step;
    if (!end && !next) end = CeilTo(last_event, step);
    if (end && at > *end) break;
    while (next && *next <= at) {
      const absl::Time batch_first = *next;
      std::array<int64_t, ingest::kNumEventKinds> received{};
      batch.clear();
      while (next && *next <= at && *next - batch_first <= batch_span &&
             batch.size() < kMaxBatch) {
        last_event = *next;
        batch.push_back(&events.TakeNext());
        ++received[static_cast<size_t>(ingest::KindOf(batch.back()->event))];
        next = events.NextTime();
      }
      if (!events.status().ok()) return events.status();
      clock_.Set(last_event);
      for (size_t kind = 0; kind < received.size(); ++kind) {
        if (received[kind] > 0) {
          self_.CountReceived(static_cast<ingest::EventKind>(kind),
                              received[kind]);
        }
      }
      const model::ApplyResult applied = registry_.Apply(batch);
      summary.applied += applied.accepted;
      for (const ingest::EventError& e : applied.errors) {
        self_.CountRejected(events.Reject(e), e.reason);
        ++summary.rejected;
      }
      events.Release();
    }
    if (!end && !next) end = CeilTo(last_event, step);
    if (end && at > *end) break;
    clock_.Set(at);
    const std::vector<model::ModelSnapshot> snapshots = registry_.Snapshot();
    const std::string text =
        metrics::RenderText(metrics::Scrape({.self = self_,
                                             .config = config_,
                                             .models = snapshots,
                                             .process = false}));
    om.AppendSample("up", 1, at, out);
    om.AppendSample("process_start_time_seconds", process_start, at, out);
    om.AppendScrape(text, at, out);
    // aiq_exporter_scrape_duration_seconds stays 0: how long the live
    // exporter took to answer is not in the log, and a history that does
    // not depend on this machine can be compared between runs.
    const auto now = std::chrono::steady_clock::now();
    ++summary.steps;
    if (out.size() >= kFlushBytes) {
      if (absl::Status st = flush(); !st.ok()) return st;
    }
    if (options.progress && now - last_progress >= std::chrono::seconds(2)) {
      options.progress(summary.steps, steps_hint);
      last_progress = now;
    }
  }
  // Events after --end are counted, not replayed.
  for (; next; next = events.NextTime()) {
    events.TakeNext();
    events.Release();
    ++summary.after_end;
  }
  if (!events.status().ok()) return events.status();
  summary.end = *end;
  if (summary.end < summary.start) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the end (", absl::FormatTime(summary.end), ") is before the start (",
        absl::FormatTime(summary.start), ")"));
  }
  out += metrics::OpenMetricsHistory::kEof;
  if (absl::Status st = flush(); !st.ok()) return st;
  if (options.progress) options.progress(summary.steps, summary.steps);
  return summary;
}

}  // namespace aiq::backtest
