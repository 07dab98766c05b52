#include "exporter/metrics/state_metrics.h"

#include <utility>

#include "exporter/metrics/family_builder.h"

namespace aiq::metrics {

void AppendStateFamilies(const StateCounts& c,
                         std::vector<prometheus::MetricFamily>& families) {
  auto counter = [&](const MetricDef& def, double v) {
    FamilyBuilder f(def);
    f.Counter({}, v);
    families.push_back(std::move(f).Build());
  };
  auto gauge = [&](const MetricDef& def, double v) {
    FamilyBuilder f(def);
    f.Gauge({}, v);
    families.push_back(std::move(f).Build());
  };
  counter(kStateLogBytesTotal, static_cast<double>(c.log_bytes));
  counter(kStateLogRecordsTotal, static_cast<double>(c.log_records));
  counter(kStateFsyncsTotal, static_cast<double>(c.fsyncs));
  counter(kStateWriteErrorsTotal, static_cast<double>(c.write_errors));
  gauge(kStateStoreBytes, static_cast<double>(c.store_bytes));
  gauge(kStateJoinMemoryBytes, static_cast<double>(c.join_memory_bytes));
  gauge(kStateJoinDiskBytes, static_cast<double>(c.join_disk_bytes));
  gauge(kStateDiskFreeBytes, static_cast<double>(c.disk_free_bytes));
  counter(kStateCheckpointsTotal, static_cast<double>(c.checkpoints));
  counter(kStateCheckpointFailuresTotal,
          static_cast<double>(c.checkpoint_failures));
  gauge(kStateCheckpointDurationSeconds, c.checkpoint_duration_seconds);
  gauge(kStateCheckpointAgeSeconds, c.checkpoint_age_seconds);
  gauge(kStateCheckpointBytes, static_cast<double>(c.checkpoint_bytes));
  gauge(kStateRecoveredRecords, static_cast<double>(c.recovered_records));
  gauge(kStateCorruptRecords, static_cast<double>(c.corrupt_records));
  gauge(kStateRestoreDurationSeconds, c.restore_duration_seconds);
  counter(kStateIdempotentReplaysTotal,
          static_cast<double>(c.idempotent_replays));
}

}  // namespace aiq::metrics
