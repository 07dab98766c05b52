#include "exporter/metrics/openmetrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "exporter/util/absl_compat.h"

namespace aiq::metrics {
namespace {

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Shortest round-trip form, with OpenMetrics' spellings of the specials.
void AppendValue(double v, std::string& out) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
    out.append(buf, r.ptr);
  }
}

// " 1700000000" or " 1700000000.123": seconds, as OpenMetrics writes them.
void AppendTimestamp(absl::Time at, std::string& out) {
  const int64_t ms = absl::ToUnixMillis(at);
  const int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const int64_t frac = ms - secs * 1000;
  if (frac == 0) {
    absl::StrAppend(&out, " ", secs);
  } else {
    absl::StrAppendFormat(&out, " %d.%03d", secs, frac);
  }
}

// The label names of a label set `a="x",b="y"` (without braces), or
// nothing if it does not parse (the sample is then copied as it is).
std::vector<std::string_view> LabelNames(std::string_view labels) {
  std::vector<std::string_view> names;
  size_t i = 0;
  while (i < labels.size()) {
    const size_t eq = labels.find('=', i);
    if (eq == std::string_view::npos || eq + 1 >= labels.size() ||
        labels[eq + 1] != '"') {
      break;
    }
    names.push_back(labels.substr(i, eq - i));
    size_t j = eq + 2;
    while (j < labels.size() && labels[j] != '"')
      j += labels[j] == '\\' ? 2 : 1;
    i = j + 1;
    if (i < labels.size() && labels[i] == ',') ++i;
  }
  return names;
}

// The end of a label set that starts after '{' at `from`: the index of its
// closing '}', skipping quoted values; npos if there is none.
size_t LabelSetEnd(std::string_view line, size_t from) {
  bool quoted = false;
  for (size_t i = from; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '}') {
      return i;
    }
  }
  return std::string_view::npos;
}

void AppendType(std::string_view rest, std::string& out) {
  // rest: "name type"
  const size_t space = rest.find(' ');
  if (space == std::string_view::npos) return;
  const std::string_view name = rest.substr(0, space);
  const std::string_view type = rest.substr(space + 1);
  constexpr std::string_view kTotal = "_total";
  if (type == "counter") {
    if (name.size() > kTotal.size() &&
        name.substr(name.size() - kTotal.size()) == kTotal) {
      absl::StrAppend(&out, "# TYPE ",
                      util::ToAbsl(name.substr(0, name.size() - kTotal.size())),
                      " counter\n");
    } else {
      absl::StrAppend(&out, "# TYPE ", util::ToAbsl(name), " unknown\n");
    }
  } else if (type == "gauge" || type == "histogram" || type == "summary") {
    absl::StrAppend(&out, "# TYPE ", util::ToAbsl(name), " ",
                    util::ToAbsl(type), "\n");
  } else {
    absl::StrAppend(&out, "# TYPE ", util::ToAbsl(name), " unknown\n");
  }
}

}  // namespace

OpenMetricsHistory::OpenMetricsHistory(
    std::vector<std::pair<std::string, std::string>> target_labels) {
  for (const auto& [name, value] : target_labels) {
    std::string rendered =
        absl::StrCat(name, "=\"", EscapeLabelValue(value), "\"");
    if (!target_.empty()) target_ += ',';
    target_ += rendered;
    targets_.emplace_back(name, std::move(rendered));
  }
}

void OpenMetricsHistory::AppendScrape(std::string_view text_body, absl::Time at,
                                      std::string& out) const {
  size_t start = 0;
  while (start < text_body.size()) {
    size_t end = text_body.find('\n', start);
    if (end == std::string_view::npos) end = text_body.size();
    const std::string_view line = text_body.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    if (line[0] == '#') {
      constexpr std::string_view kType = "# TYPE ";
      if (line.substr(0, kType.size()) == kType) {
        AppendType(line.substr(kType.size()), out);
      }
      continue;  // HELP and other comments
    }
    const size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, name_end);
    std::string_view labels;
    size_t value_start = name_end;
    if (line[name_end] == '{') {
      const size_t close = LabelSetEnd(line, name_end + 1);
      if (close == std::string_view::npos) continue;
      labels = line.substr(name_end + 1, close - name_end - 1);
      value_start = close + 1;
    }
    while (value_start < line.size() && line[value_start] == ' ') ++value_start;
    std::string_view value = line.substr(value_start);
    value = value.substr(0, value.find(' '));  // a timestamp, if any, goes
    absl::StrAppend(&out, util::ToAbsl(name), "{");
    bool first = true;
    if (!target_.empty()) {
      const std::vector<std::string_view> own = LabelNames(labels);
      const bool clash =
          std::any_of(targets_.begin(), targets_.end(), [&](const auto& t) {
            return std::find(own.begin(), own.end(), t.first) != own.end();
          });
      if (!clash) {
        out += target_;
        first = false;
      } else {
        // Rare (no exporter series has job or instance): add the target
        // labels the sample lacks, one by one.
        for (const auto& [t, rendered] : targets_) {
          if (std::find(own.begin(), own.end(), t) != own.end()) continue;
          if (!first) out += ',';
          out += rendered;
          first = false;
        }
      }
    }
    if (!labels.empty()) {
      if (!first) out += ',';
      absl::StrAppend(&out, util::ToAbsl(labels));
    }
    absl::StrAppend(&out, "} ", util::ToAbsl(value));
    AppendTimestamp(at, out);
    out += '\n';
  }
}

void OpenMetricsHistory::AppendSample(std::string_view name, double value,
                                      absl::Time at, std::string& out) const {
  absl::StrAppend(&out, util::ToAbsl(name), "{", target_, "} ");
  AppendValue(value, out);
  AppendTimestamp(at, out);
  out += '\n';
}

}  // namespace aiq::metrics
