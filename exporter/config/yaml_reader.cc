#include "exporter/config/yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "exporter/util/absl_compat.h"

namespace aiq::config {

std::string ConfigError::ToString() const {
  std::string out = source;
  if (line > 0) absl::StrAppend(&out, ":", line);
  absl::StrAppend(&out, ": ");
  if (!path.empty()) absl::StrAppend(&out, path, ": ");
  absl::StrAppend(&out, message);
  return out;
}

absl::Status JoinErrors(const std::vector<ConfigError>& errors) {
  if (errors.empty()) return absl::OkStatus();
  std::vector<std::string> lines;
  lines.reserve(errors.size());
  for (const ConfigError& e : errors) lines.push_back(e.ToString());
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

YamlReader::YamlReader(std::string_view source,
                       std::vector<ConfigError>& errors)
    : source_(source), errors_(errors), errors_before_(errors.size()) {}

std::optional<YAML::Node> YamlReader::Load(std::string_view text) {
  // yaml-cpp reports through exceptions; they stop here.
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    errors_.push_back({source_, e.mark.line + 1, "", e.msg});
    return std::nullopt;
  }
}

void YamlReader::Error(const YAML::Node& node, std::string_view path,
                       std::string message) {
  const int line = node.IsDefined() ? node.Mark().line + 1 : 0;
  errors_.push_back({source_, line, std::string(path), std::move(message)});
}

bool YamlReader::ExpectMap(const YAML::Node& node, std::string_view path) {
  if (node.IsMap()) return true;
  Error(node, path, "must be a mapping");
  return false;
}

void YamlReader::SortErrorsByLine() {
  std::stable_sort(errors_.begin() + static_cast<ptrdiff_t>(errors_before_),
                   errors_.end(),
                   [](const ConfigError& a, const ConfigError& b) {
                     return a.line < b.line;
                   });
}

std::string YamlReader::Join(std::string_view path, std::string_view key) {
  return path.empty()
             ? std::string(key)
             : absl::StrCat(util::ToAbsl(path), ".", util::ToAbsl(key));
}

std::string YamlReader::Index(std::string_view path, size_t i) {
  return absl::StrCat(util::ToAbsl(path), "[", i, "]");
}

bool YamlReader::ParseDuration(const std::string& s, absl::Duration& d) {
  if (!s.empty() && s.back() == 'd') {
    double days = 0;
    if (!absl::SimpleAtod(s.substr(0, s.size() - 1), &days) || days <= 0) {
      return false;
    }
    d = absl::Hours(24) * days;
    return true;
  }
  return absl::ParseDuration(s, &d);
}

YamlSection::YamlSection(YamlReader& reader, YAML::Node map, std::string path)
    : reader_(reader), map_(std::move(map)), path_(std::move(path)) {}

YamlSection::~YamlSection() {
  if (!map_.IsMap()) return;
  for (const auto& kv : map_) {
    const std::string key = kv.first.as<std::string>("");
    if (std::find(declared_.begin(), declared_.end(), key) != declared_.end()) {
      continue;
    }
    reader_.Error(kv.first, PathOf(key),
                  absl::StrCat("unknown key (expected one of: ",
                               absl::StrJoin(declared_, ", "), ")"));
  }
}

std::string YamlSection::PathOf(std::string_view key) const {
  return YamlReader::Join(path_, key);
}

YAML::Node YamlSection::Get(std::string_view key) {
  std::string k(key);
  if (std::find(declared_.begin(), declared_.end(), k) == declared_.end()) {
    declared_.push_back(k);
  }
  // A const node: lookup must not insert the key into the document.
  const YAML::Node& map = map_;
  return map[k];
}

std::optional<YAML::Node> YamlSection::Present(std::string_view key) {
  YAML::Node n = Get(key);
  if (!n.IsDefined() || n.IsNull()) return std::nullopt;
  return n;
}

void YamlSection::Error(std::string_view key, std::string message) {
  const YAML::Node& map = map_;
  YAML::Node n = map[std::string(key)];
  reader_.Error(n.IsDefined() ? n : map_, PathOf(key), std::move(message));
}

void YamlSection::String(std::string_view key, std::string& out) {
  std::optional<YAML::Node> n = Present(key);
  if (!n) return;
  if (!n->IsScalar()) {
    reader_.Error(*n, PathOf(key), "must be a string");
    return;
  }
  out = n->Scalar();
}

void YamlSection::Double(std::string_view key, double& out, double min,
                         double max) {
  std::optional<YAML::Node> n = Present(key);
  if (!n) return;
  double v = 0;
  if (!n->IsScalar() || !absl::SimpleAtod(n->Scalar(), &v) ||
      !std::isfinite(v)) {
    reader_.Error(*n, PathOf(key), "must be a finite number");
    return;
  }
  if (v < min || v > max) {
    reader_.Error(*n, PathOf(key),
                  absl::StrCat("must be between ", min, " and ", max));
    return;
  }
  out = v;
}

void YamlSection::OptionalDouble(std::string_view key,
                                 std::optional<double>& out, double min,
                                 double max) {
  if (!Present(key)) return;
  double v = 0;
  const size_t before = reader_.error_count();
  Double(key, v, min, max);
  if (reader_.error_count() == before) out = v;
}

void YamlSection::Integer(std::string_view key, int64_t& out, int64_t min,
                          int64_t max) {
  std::optional<YAML::Node> n = Present(key);
  if (!n) return;
  int64_t v = 0;
  if (!n->IsScalar() || !absl::SimpleAtoi(n->Scalar(), &v)) {
    reader_.Error(*n, PathOf(key), "must be an integer");
    return;
  }
  if (v < min || v > max) {
    reader_.Error(*n, PathOf(key),
                  absl::StrCat("must be between ", min, " and ", max));
    return;
  }
  out = v;
}

void YamlSection::Integer(std::string_view key, int& out, int64_t min,
                          int64_t max) {
  int64_t v = out;
  Integer(key, v, min, max);
  out = static_cast<int>(v);
}

void YamlSection::Duration(std::string_view key, absl::Duration& out) {
  std::optional<YAML::Node> n = Present(key);
  if (!n) return;
  absl::Duration d;
  if (!n->IsScalar() || !YamlReader::ParseDuration(n->Scalar(), d) ||
      d <= absl::ZeroDuration()) {
    reader_.Error(*n, PathOf(key),
                  "must be a positive duration such as 90s, 15m, 1h or 7d");
    return;
  }
  out = d;
}

void YamlSection::StringList(std::string_view key,
                             std::vector<std::string>& out) {
  std::optional<YAML::Node> n = Present(key);
  if (!n) return;
  const std::string p = PathOf(key);
  if (!n->IsSequence()) {
    reader_.Error(*n, p, "must be a list of strings");
    return;
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < n->size(); ++i) {
    const YAML::Node item = (*n)[i];
    if (!item.IsScalar() || item.Scalar().empty()) {
      reader_.Error(item, YamlReader::Index(p, i),
                    "must be a non-empty string");
      continue;
    }
    if (!seen.insert(item.Scalar()).second) {
      reader_.Error(item, YamlReader::Index(p, i),
                    absl::StrCat("duplicate \"", item.Scalar(), "\""));
      continue;
    }
    out.push_back(item.Scalar());
  }
}

}  // namespace aiq::config
