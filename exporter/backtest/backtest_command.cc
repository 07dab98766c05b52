#include "exporter/backtest/backtest_command.h"

#include <chrono>
#include <fstream>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "exporter/backtest/event_log.h"
#include "exporter/backtest/event_stream.h"
#include "exporter/backtest/replay.h"
#include "exporter/config/config_loader.h"
#include "exporter/config/yaml_reader.h"
#include "nlohmann/json.hpp"

namespace aiq::backtest {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
// Bad lines listed on stderr; the rest are counted.
constexpr size_t kMaxListedBadLines = 20;

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

struct Flags {
  std::string config;
  std::vector<std::pair<std::string, ingest::EventKind>> inputs;
  std::vector<std::string> rules;
  absl::Duration step = absl::Minutes(1);
  std::optional<absl::Time> start, end;
  std::string out = "history.om";
  std::string work_dir;
  std::string format = "text";
  std::string job = "ai-quality-exporter";
  std::string instance = "exporter:9477";
};

// Parses the flags (each "--flag VALUE" or "--flag=VALUE"; --rules takes
// every following argument up to the next flag). Error text on failure.
std::optional<std::string> ParseFlags(const std::vector<std::string>& args,
                                      Flags& f) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& given = args[i];
    std::string flag = given;
    std::optional<std::string> value;
    if (const size_t eq = flag.find('=');
        flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    const auto next = [&]() -> std::optional<std::string> {
      if (value) return value;
      if (i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    std::optional<std::string> v;
    if (flag == "--rules") {
      if (value) f.rules.push_back(*value);
      while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) {
        f.rules.push_back(args[++i]);
      }
      if (f.rules.empty()) return "--rules needs at least one path";
      continue;
    }
    if (!(v = next())) return absl::StrCat(flag, " needs a value");
    if (flag == "--config" || flag == "-c") {
      f.config = *v;
    } else if (flag == "--predictions") {
      f.inputs.emplace_back(*v, ingest::EventKind::kPrediction);
    } else if (flag == "--labels") {
      f.inputs.emplace_back(*v, ingest::EventKind::kLabel);
    } else if (flag == "--feedback") {
      f.inputs.emplace_back(*v, ingest::EventKind::kFeedback);
    } else if (flag == "--evaluations") {
      f.inputs.emplace_back(*v, ingest::EventKind::kEvaluation);
    } else if (flag == "--step") {
      if (!config::YamlReader::ParseDuration(*v, f.step) ||
          f.step <= absl::ZeroDuration() ||
          f.step % absl::Seconds(1) != absl::ZeroDuration()) {
        return absl::StrCat("--step: \"", *v,
                            "\" is not a whole number of seconds such as "
                            "30s, 1m or 5m");
      }
    } else if (flag == "--start" || flag == "--end") {
      absl::Time t;
      std::string e;
      if (!absl::ParseTime(absl::RFC3339_full, *v, &t, &e)) {
        return absl::StrCat(flag, ": \"", *v, "\" is not RFC 3339 (", e, ")");
      }
      (flag == "--start" ? f.start : f.end) = t;
    } else if (flag == "--out") {
      f.out = *v;
    } else if (flag == "--work-dir") {
      f.work_dir = *v;
    } else if (flag == "--format") {
      if (*v != "text" && *v != "json") {
        return absl::StrCat("--format: \"", *v, "\" (expected text or json)");
      }
      f.format = *v;
    } else if (flag == "--job") {
      f.job = *v;
    } else if (flag == "--instance") {
      f.instance = *v;
    } else {
      return absl::StrCat("unknown option \"", given, "\"");
    }
  }
  if (f.inputs.empty()) {
    return "give at least one of --predictions, --labels, --feedback, "
           "--evaluations";
  }
  if (f.start && f.end && *f.end < *f.start) return "--end is before --start";
  if (f.work_dir.empty()) f.work_dir = f.out + ".tsdb";
  return std::nullopt;
}

}  // namespace

const char* BacktestUsage() {
  return R"(Usage: ai_quality_exporter backtest [--config FILE]
         --predictions FILE [--labels FILE] [--feedback FILE]
         [--evaluations FILE]
         [--rules PATH...] [--step 1m] [--start RFC3339] [--end RFC3339]
         [--out history.om] [--work-dir DIR] [--format text|json]
         [--job NAME] [--instance HOST:PORT]

Replays NDJSON event files (.gz allowed; the HTTP API's schema, every event
with its timestamp) in event-time order through the exporter's models,
writes the metrics a scrape would have seen at every step to --out
(OpenMetrics with timestamps), and, with --rules (rule files or
directories), evaluates them over that history with Prometheus and prints
when each alert fired. --predictions, --labels, --feedback and
--evaluations (POST /api/v1/evaluations' schema) may repeat.
The TSDB (history and recorded series) is kept in --work-dir (default
<out>.tsdb). See docs/backtest.md.
)";
}

std::string AlertsJson(const std::vector<AlertInterval>& alerts) {
  nlohmann::json list = nlohmann::json::array();
  for (const AlertInterval& a : alerts) {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& [k, v] : a.labels) labels[k] = v;
    list.push_back({{"alertname", a.alertname},
                    {"labels", std::move(labels)},
                    {"start", Rfc3339(a.start)},
                    {"end", a.end ? nlohmann::json(Rfc3339(*a.end))
                                  : nlohmann::json(nullptr)}});
  }
  nlohmann::json doc = nlohmann::json::object();
  doc["alerts"] = std::move(list);
  return doc.dump() + "\n";
}

std::string AlertsText(const std::vector<AlertInterval>& alerts) {
  size_t width = 5;
  for (const AlertInterval& a : alerts) {
    width = std::max(width, a.alertname.size());
  }
  std::string out =
      absl::StrFormat("%-*s  %-20s  %-20s  %s\n", static_cast<int>(width),
                      "ALERT", "START", "END", "LABELS");
  int firing = 0;
  for (const AlertInterval& a : alerts) {
    std::string labels;
    for (const auto& [k, v] : a.labels) {
      if (k == "alertname") continue;
      absl::StrAppend(&labels, labels.empty() ? "" : ", ", k, "=\"", v, "\"");
    }
    firing += a.end ? 0 : 1;
    absl::StrAppendFormat(&out, "%-*s  %-20s  %-20s  {%s}\n",
                          static_cast<int>(width), a.alertname,
                          Rfc3339(a.start),
                          a.end ? Rfc3339(*a.end) : "(firing)", labels);
  }
  absl::StrAppend(&out, alerts.size(),
                  alerts.size() == 1 ? " alert" : " alerts", " (", firing,
                  " still firing at the end)\n");
  return out;
}

int BacktestCommand(const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  for (const std::string& a : args) {
    if (a == "--help" || a == "-h") {
      out << BacktestUsage();
      return kExitOk;
    }
  }
  Flags flags;
  if (std::optional<std::string> e = ParseFlags(args, flags)) {
    err << "backtest: " << *e << "\n" << BacktestUsage();
    return kExitUsage;
  }
  absl::StatusOr<config::Config> config =
      flags.config.empty() ? config::LoadDefaultConfig()
                           : config::LoadConfigFile(flags.config);
  if (!config.ok()) {
    err << config.status().message() << "\n";
    return kExitUsage;
  }
  const auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t)
        .count();
  };

  ReplayOptions options;
  options.step = flags.step;
  options.start = flags.start;
  options.end = flags.end;
  options.target_labels = {{"job", flags.job}, {"instance", flags.instance}};
  options.progress = [&err](int64_t done, int64_t all) {
    err << "backtest: replayed " << done;
    if (all >= 0) err << "/" << all;
    err << " steps\n";
  };
  // Replays `events` into a new history file.
  const auto replay_into = [&](EventSource& events)
      -> std::pair<int, absl::StatusOr<ReplaySummary>> {
    Replay replay(*config);
    if (absl::Status st = replay.LoadReferences(); !st.ok()) {
      return {kExitUsage, st};
    }
    std::ofstream history(flags.out, std::ios::binary | std::ios::trunc);
    if (!history) {
      return {kExitFailure,
              absl::FailedPreconditionError(absl::StrCat(
                  "--out ", flags.out, ": cannot open for writing"))};
    }
    absl::StatusOr<ReplaySummary> summary =
        replay.Run(events, options, history);
    history.close();
    if (summary.ok() && !history) {
      return {kExitFailure, absl::DataLossError(absl::StrCat(
                                "--out ", flags.out, ": write failed"))};
    }
    // (The code matters only when it failed.)
    const int code =
        summary.status().code() == absl::StatusCode::kInvalidArgument
            ? kExitUsage
            : kExitFailure;
    return {code, std::move(summary)};
  };

  // Logs are usually written in time order: streamed, in bounded memory.
  const auto replay_started = std::chrono::steady_clock::now();
  EventStream stream(*config);
  for (const auto& [path, kind] : flags.inputs) {
    if (absl::Status st = stream.Add(path, kind); !st.ok()) {
      err << "backtest: " << st.message() << "\n";
      return kExitUsage;
    }
  }
  EventSource* events = &stream;
  auto [exit_code, summary] = replay_into(stream);
  // A file out of time order: all events into memory, sorted, and again.
  std::optional<EventLog> log;
  if (!summary.ok() && !stream.status().ok()) {
    err << "backtest: " << stream.status().message()
        << "; reading every event into memory to sort them\n";
    log.emplace(*config);
    for (const auto& [path, kind] : flags.inputs) {
      if (absl::Status st = log->Read(path, kind); !st.ok()) {
        err << "backtest: " << st.message() << "\n";
        return kExitUsage;
      }
    }
    log->SortByTime();
    err << "backtest: read " << log->size() << " events in "
        << absl::StrFormat("%.1f", seconds_since(replay_started)) << " s\n";
    events = &*log;
    std::tie(exit_code, summary) = replay_into(*log);
  }
  if (!summary.ok()) {
    err << "backtest: " << summary.status().message() << "\n";
    return exit_code;
  }
  const double replay_seconds = seconds_since(replay_started);
  const std::vector<BadLine> bad = events->bad_lines();
  for (size_t b = 0; b < bad.size() && b < kMaxListedBadLines; ++b) {
    err << "backtest: skipped " << bad[b].ToString() << "\n";
  }
  if (bad.size() > kMaxListedBadLines) {
    err << "backtest: ... and " << bad.size() - kMaxListedBadLines
        << " more bad lines\n";
  }
  err << "backtest: replayed " << summary->applied << " events (" << bad.size()
      << " bad lines skipped";
  if (summary->after_end > 0) {
    err << ", " << summary->after_end << " after --end not replayed";
  }
  err << ") in " << absl::StrFormat("%.2f", replay_seconds) << " s; "
      << summary->steps << " steps from " << Rfc3339(summary->start) << " to "
      << Rfc3339(summary->end) << " written to " << flags.out << " ("
      << summary->history_bytes << " bytes)\n";

  std::vector<AlertInterval> alerts;
  if (flags.rules.empty()) {
    err << "backtest: no --rules given: alerts not evaluated\n";
  } else {
    RuleEvaluationOptions eval;
    eval.history_path = flags.out;
    eval.rule_paths = flags.rules;
    eval.start = summary->start;
    eval.end = summary->end;
    eval.step = flags.step;
    eval.work_dir = flags.work_dir;
    eval.progress = [&err](std::string_view m) {
      err << "backtest: " << m << "\n";
    };
    const auto eval_started = std::chrono::steady_clock::now();
    absl::StatusOr<std::vector<AlertInterval>> evaluated = EvaluateRules(eval);
    if (!evaluated.ok()) {
      err << "backtest: " << evaluated.status().message() << "\n";
      return evaluated.status().code() == absl::StatusCode::kInvalidArgument
                 ? kExitUsage
                 : kExitFailure;
    }
    alerts = *std::move(evaluated);
    err << "backtest: evaluated the rules in "
        << absl::StrFormat("%.1f", seconds_since(eval_started))
        << " s; TSDB kept in " << flags.work_dir << "/data\n";
  }
  out << (flags.format == "json" ? AlertsJson(alerts) : AlertsText(alerts));
  return kExitOk;
}

}  // namespace aiq::backtest
