#include "exporter/metrics/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <string>

#include "exporter/metrics/family_builder.h"

namespace aiq::metrics {
namespace detail {

std::optional<ProcessStats> ParseProcStat(std::string_view stat,
                                          double boot_time, long ticks_per_s,
                                          long page_size) {
  // The command name (field 2) may contain spaces and parentheses; fields
  // after the last ')' are space-separated. Field 3 is the first after it.
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::istringstream in(std::string(stat.substr(close + 1)));
  std::vector<std::string> f;
  for (std::string tok; in >> tok;) f.push_back(tok);
  // Fields 14 utime, 15 stime, 22 starttime, 23 vsize, 24 rss (1-based);
  // f[0] is field 3.
  auto field = [&](int n) -> std::optional<double> {
    const size_t i = static_cast<size_t>(n - 3);
    if (i >= f.size()) return std::nullopt;
    double v = 0;
    auto [p, ec] = std::from_chars(f[i].data(), f[i].data() + f[i].size(), v);
    if (ec != std::errc()) return std::nullopt;
    return v;
  };
  auto utime = field(14), stime = field(15), start = field(22),
       vsize = field(23), rss = field(24);
  if (!utime || !stime || !start || !vsize || !rss) return std::nullopt;
  ProcessStats s;
  const double ticks = static_cast<double>(ticks_per_s);
  s.cpu_seconds = (*utime + *stime) / ticks;
  s.start_time_seconds = boot_time + *start / ticks;
  s.virtual_bytes = *vsize;
  s.resident_bytes = *rss * static_cast<double>(page_size);
  return s;
}

std::optional<double> ParseBootTime(std::string_view proc_stat) {
  const size_t pos = proc_stat.find("\nbtime ");
  if (pos == std::string_view::npos) return std::nullopt;
  double v = 0;
  const char* b = proc_stat.data() + pos + 7;
  auto [p, ec] = std::from_chars(b, proc_stat.data() + proc_stat.size(), v);
  if (ec != std::errc()) return std::nullopt;
  return v;
}

std::optional<double> ParseMaxOpenFiles(std::string_view limits) {
  const size_t pos = limits.find("Max open files");
  if (pos == std::string_view::npos) return std::nullopt;
  std::istringstream in(std::string(limits.substr(pos + 14)));
  std::string soft;
  in >> soft;
  if (soft == "unlimited") return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(soft.data(), soft.data() + soft.size(), v);
  if (ec != std::errc()) return std::nullopt;
  return v;
}

}  // namespace detail

namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

double CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double n = 0;
  while (dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // the descriptor opendir itself holds
}

}  // namespace

std::optional<ProcessStats> ReadSelfStats() {
  const std::optional<double> boot =
      detail::ParseBootTime(ReadFile("/proc/stat"));
  std::optional<ProcessStats> s =
      detail::ParseProcStat(ReadFile("/proc/self/stat"), boot.value_or(0),
                            sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE));
  if (s) s->has_start_time = boot.has_value();
  return s;
}

std::vector<prometheus::MetricFamily> ProcessFamilies() {
  std::vector<prometheus::MetricFamily> out;
  const std::optional<ProcessStats> s = ReadSelfStats();
  if (!s) return out;
  auto add = [&](const MetricDef& def, double v) {
    FamilyBuilder f(def);
    if (def.type == prometheus::MetricType::Counter) {
      f.Counter({}, v);
    } else {
      f.Gauge({}, v);
    }
    out.push_back(std::move(f).Build());
  };
  add(kProcessCpuSecondsTotal, s->cpu_seconds);
  add(kProcessResidentMemoryBytes, s->resident_bytes);
  add(kProcessVirtualMemoryBytes, s->virtual_bytes);
  if (s->has_start_time) add(kProcessStartTimeSeconds, s->start_time_seconds);
  add(kProcessOpenFds, CountOpenFds());
  if (auto max = detail::ParseMaxOpenFiles(ReadFile("/proc/self/limits"))) {
    add(kProcessMaxFds, *max);
  }
  return out;
}

}  // namespace aiq::metrics
