// The aiq_state_* families: the durable state's log, fsyncs, checkpoints,
// disk and start-up recovery (docs/state.md). Exported only when state.dir
// is set.
//
// Example, given `std::vector<prometheus::MetricFamily>& families`:
//   aiq::metrics::StateCounts counts;
//   counts.log_bytes = 4096;
//   counts.checkpoint_age_seconds = 12.5;
//   aiq::metrics::AppendStateFamilies(counts, families);
#ifndef AIQ_EXPORTER_METRICS_STATE_METRICS_H_
#define AIQ_EXPORTER_METRICS_STATE_METRICS_H_

#include <prometheus/metric_family.h>

#include <cstdint>
#include <vector>

namespace aiq::metrics {

struct StateCounts {
  uint64_t log_bytes = 0;    // appended since start
  uint64_t log_records = 0;  // appended since start
  uint64_t fsyncs = 0;
  uint64_t write_errors = 0;  // failed appends and fsyncs
  int64_t store_bytes = 0;
  int64_t join_memory_bytes = 0;  // memtables + block cache
  int64_t join_disk_bytes = 0;    // live files
  int64_t disk_free_bytes = 0;
  uint64_t checkpoints = 0;
  uint64_t checkpoint_failures = 0;
  double checkpoint_duration_seconds = 0;
  double checkpoint_age_seconds = 0;
  int64_t checkpoint_bytes = 0;
  int64_t recovered_records = 0;
  int64_t corrupt_records = 0;
  double restore_duration_seconds = 0;
  uint64_t idempotent_replays = 0;
};

void AppendStateFamilies(const StateCounts& counts,
                         std::vector<prometheus::MetricFamily>& families);

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_STATE_METRICS_H_
