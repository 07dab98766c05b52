// Standard process_* metrics (CPU seconds, memory, file descriptors, start
// time) read from /proc, as the official Prometheus clients export them.
//
// Example:
//   std::vector<prometheus::MetricFamily> f = aiq::metrics::ProcessFamilies();
#ifndef AIQ_EXPORTER_METRICS_PROCESS_METRICS_H_
#define AIQ_EXPORTER_METRICS_PROCESS_METRICS_H_

#include <prometheus/metric_family.h>

#include <optional>
#include <string_view>
#include <vector>

namespace aiq::metrics {

struct ProcessStats {
  double cpu_seconds = 0;
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;
  bool has_start_time = true;  // false: /proc/stat had no boot time
  double open_fds = 0;
  double max_fds = 0;
};

namespace detail {
// Parses /proc/<pid>/stat; `boot_time` is /proc/stat's btime.
std::optional<ProcessStats> ParseProcStat(std::string_view stat,
                                          double boot_time, long ticks_per_s,
                                          long page_size);
// The "btime" line of /proc/stat.
std::optional<double> ParseBootTime(std::string_view proc_stat);
// The soft "Max open files" limit from /proc/<pid>/limits.
std::optional<double> ParseMaxOpenFiles(std::string_view limits);
}  // namespace detail

// This process's /proc/self/stat (nullopt when /proc is unreadable); also
// what tests and benchmarks measure RSS with.
std::optional<ProcessStats> ReadSelfStats();

// Reads /proc/self; families are omitted when /proc is unreadable.
std::vector<prometheus::MetricFamily> ProcessFamilies();

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_PROCESS_METRICS_H_
