#include "exporter/report/report_command.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "exporter/data/csv.h"
#include "exporter/report/report.h"
#include "exporter/report/report_config.h"
#include "exporter/report/report_html.h"
#include "exporter/report/report_json.h"

namespace aiq::report {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitDrift = 1;
constexpr int kExitBadInput = 2;

struct Flags {
  std::string reference;
  std::string current;
  std::optional<std::string> target;
  std::optional<std::string> prediction;
  std::vector<std::string> categorical;
  std::string config;
  std::string format = "json";
  std::string output;
  std::optional<QualityTask> task;
  bool fail_on_drift = false;
  bool help = false;
};

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags f;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "-h" || arg == "--help") {
      f.help = true;
      continue;
    }
    if (arg == "--fail-on-drift") {
      f.fail_on_drift = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument \"", args[i], "\""));
    }
    // --name=value or --name value.
    std::string name, value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
    } else {
      name = std::string(arg);
      if (name == "--reference" || name == "--current" || name == "--target" ||
          name == "--prediction" || name == "--categorical" ||
          name == "--config" || name == "--format" || name == "--output" ||
          name == "--task") {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat(name, " needs a value"));
        }
        value = args[++i];
      }
    }
    if (name == "--reference") {
      f.reference = value;
    } else if (name == "--current") {
      f.current = value;
    } else if (name == "--target") {
      f.target = value;
    } else if (name == "--prediction") {
      f.prediction = value;
    } else if (name == "--categorical") {
      for (absl::string_view c :
           absl::StrSplit(value, ',', absl::SkipEmpty())) {
        f.categorical.emplace_back(c);
      }
    } else if (name == "--config") {
      f.config = value;
    } else if (name == "--format") {
      if (value != "json" && value != "html") {
        return absl::InvalidArgumentError(
            absl::StrCat("--format must be json or html, not \"", value, "\""));
      }
      f.format = value;
    } else if (name == "--output") {
      f.output = value;
    } else if (name == "--task") {
      f.task = kQualityTaskNames.Parse(value);
      if (!f.task) {
        return absl::InvalidArgumentError(
            absl::StrCat("--task must be one of ", kQualityTaskNames.List(),
                         ", not \"", value, "\""));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag ", name));
    }
  }
  if (f.help) return f;
  if (f.reference.empty()) {
    return absl::InvalidArgumentError("--reference REF.csv is required");
  }
  if (f.current.empty()) {
    return absl::InvalidArgumentError("--current CUR.csv is required");
  }
  return f;
}

absl::Status WriteFile(const std::string& path, const std::string& body) {
  // Write to a temporary name and rename, so a failed run never leaves a
  // truncated report where a previous one was.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--output ", path, ": cannot write: ", std::strerror(errno)));
    }
    out << body;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return absl::InvalidArgumentError(
          absl::StrCat("--output ", path, ": write failed"));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    return absl::InvalidArgumentError(
        absl::StrCat("--output ", path, ": ", std::strerror(e)));
  }
  return absl::OkStatus();
}

// Everything but the exit-code decision. Returns the rendered report.
absl::StatusOr<Report> Run(const Flags& flags, std::string& rendered) {
  ReportOptions options;
  ReportConfig config;
  if (!flags.config.empty()) {
    absl::StatusOr<ReportConfig> c = LoadReportConfig(flags.config);
    if (!c.ok()) return c.status();
    config = *std::move(c);
  }
  options.features = config.features;
  if (config.dataset_drift_share) {
    options.dataset_drift_share = *config.dataset_drift_share;
  }
  if (config.task) options.task = *config.task;
  if (flags.task) options.task = *flags.task;
  options.target = flags.target.value_or(config.target.value_or(""));
  options.prediction =
      flags.prediction.value_or(config.prediction.value_or(""));

  data::CsvOptions ref_opts;
  ref_opts.types_from = flags.config.empty() ? "--categorical" : flags.config;
  for (const auto& [name, o] : config.features) {
    if (o.type) ref_opts.column_types[name] = *o.type;
  }
  for (const std::string& c : flags.categorical) {
    ref_opts.column_types[c] = stats::FeatureKind::kCategorical;
  }
  absl::StatusOr<data::Dataset> ref =
      data::ReadCsvFile(flags.reference, ref_opts);
  if (!ref.ok()) return ref.status();
  for (const std::string& c : flags.categorical) {
    if (ref->Find(c) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--categorical: no column \"", c, "\" in ", flags.reference));
    }
  }

  data::CsvOptions cur_opts;
  for (const data::Column& c : ref->columns()) {
    // A column with no reference values has no type to impose.
    if (c.missing < c.size()) cur_opts.column_types[c.name] = c.type;
  }
  cur_opts.types_from = flags.reference;
  absl::StatusOr<data::Dataset> cur =
      data::ReadCsvFile(flags.current, cur_opts);
  if (!cur.ok()) return cur.status();

  absl::StatusOr<Report> report = BuildReport(*ref, *cur, options);
  if (!report.ok()) return report.status();
  rendered = flags.format == "html" ? RenderHtml(*report) : RenderJson(*report);
  return report;
}

}  // namespace

int RunReportCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err) {
  absl::StatusOr<Flags> flags = ParseFlags(args);
  if (!flags.ok()) {
    err << "report: " << flags.status().message() << "\n"
        << "usage: ai_quality_exporter report --reference REF.csv --current "
           "CUR.csv [flags]; --help for more\n";
    return kExitBadInput;
  }
  if (flags->help) {
    out << ReportUsage();
    return kExitOk;
  }
  std::string rendered;
  absl::StatusOr<Report> report = Run(*flags, rendered);
  if (!report.ok()) {
    err << "report: " << report.status().message() << "\n";
    return kExitBadInput;
  }
  if (flags->output.empty() || flags->output == "-") {
    out << rendered;
    out.flush();
  } else if (absl::Status s = WriteFile(flags->output, rendered); !s.ok()) {
    err << "report: " << s.message() << "\n";
    return kExitBadInput;
  }
  const stats::DatasetDrift& d = report->dataset_drift;
  if (flags->fail_on_drift && d.detected) {
    err << "report: dataset drift detected: " << d.drifted_features << " of "
        << d.total_features << " features drifted\n";
    return kExitDrift;
  }
  return kExitOk;
}

const char* ReportUsage() {
  return R"(usage: ai_quality_exporter report --reference REF.csv --current CUR.csv [flags]

Compares a current dataset with a reference one (CSV with a header row) and
writes a drift and quality report: per-feature statistics (KS, PSI,
Jensen-Shannon, Wasserstein, chi-square), a drift decision per feature, the
dataset drift verdict, and classification/regression quality of the current
data when --target and --prediction are given.

  --reference PATH      reference CSV (decides column types and tests)
  --current PATH        current CSV (same columns; extra ones are ignored)
  --target COL          ground-truth column (not a feature)
  --prediction COL      prediction column (not a feature)
  --categorical A,B     read these columns as categories even if numeric
  --config FILE         YAML with per-feature test/threshold/type overrides
  --task T              quality task: classification, regression, auto
  --format json|html    output format (default json)
  --output PATH         write the report there instead of stdout ("-")
  --fail-on-drift       exit 1 when dataset drift is detected

Exit codes: 0 report written, 1 dataset drift detected with --fail-on-drift,
2 bad arguments or bad input (the message names file, line and column).
See docs/report.md.
)";
}

}  // namespace aiq::report
