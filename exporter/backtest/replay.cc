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

absl::StatusOr<ReplaySummary> Replay::Run(EventLog& log,
                                          const ReplayOptions& options,
                                          std::ostream& history) {
  const absl::Duration step = options.step;
  if (step <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the step must be positive");
  }
  const size_t n = log.size();
  if (n == 0 && !(options.start && options.end)) {
    return absl::InvalidArgumentError(
        "no events to replay (and no --start and --end)");
  }
  ReplaySummary summary;
  summary.start =
      options.start ? *options.start : FloorTo(log.time_at(0), step);
  summary.end = options.end ? *options.end : CeilTo(log.time_at(n - 1), step);
  if (summary.end < summary.start) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the end (", absl::FormatTime(summary.end), ") is before the start (",
        absl::FormatTime(summary.start), ")"));
  }
  const int64_t steps = (summary.end - summary.start) / step + 1;
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
  size_t i = 0;
  ingest::DecodeResult batch;
  batch.events.reserve(std::min(kMaxBatch, n));
  for (int64_t k = 0; k < steps; ++k) {
    const absl::Time at = summary.start + k * step;
    while (i < n && log.time_at(i) <= at) {
      const absl::Time first = log.time_at(i);
      size_t j = i;
      std::array<int64_t, ingest::kNumEventKinds> received{};
      // Reused: its capacity stays, so batches do not allocate.
      batch.events.clear();
      batch.errors.clear();
      while (j < n && j - i < kMaxBatch) {
        const absl::Time t = log.time_at(j);
        if (t > at || t - first > batch_span) break;
        ingest::DecodedEvent& e = log.at(j);
        ++received[static_cast<size_t>(ingest::KindOf(e.event))];
        batch.events.push_back(std::move(e));
        ++j;
      }
      batch.total = static_cast<int64_t>(batch.events.size());
      clock_.Set(log.time_at(j - 1));
      for (size_t kind = 0; kind < received.size(); ++kind) {
        if (received[kind] > 0) {
          self_.CountReceived(static_cast<ingest::EventKind>(kind),
                              received[kind]);
        }
      }
      const model::ApplyResult applied = registry_.Apply(batch);
      summary.applied += applied.accepted;
      for (const ingest::EventError& e : applied.errors) {
        self_.CountRejected(log.Reject(e), e.reason);
        ++summary.rejected;
      }
      i = j;
    }
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
      options.progress(summary.steps, steps);
      last_progress = now;
    }
  }
  summary.after_end = static_cast<int64_t>(n - i);
  out += metrics::OpenMetricsHistory::kEof;
  if (absl::Status st = flush(); !st.ok()) return st;
  if (options.progress) options.progress(summary.steps, steps);
  return summary;
}

}  // namespace aiq::backtest
