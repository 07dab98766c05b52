// The one YAML reader behind every config file (the exporter config and the
// report config): it converts and range-checks scalars, and collects every
// problem with its file, line and YAML path instead of stopping at the first.
// A mapping is read through a YamlSection, whose reads are the only
// declaration of its keys: any other key in the mapping is reported as
// unknown when the section ends, so a key cannot be read without being
// accepted, or accepted without being read.
//
// Example, given `std::string_view text`, `std::string& listen` and
// `int& threads`:
//   #include <iostream>
//   std::vector<aiq::config::ConfigError> errors;
//   aiq::config::YamlReader r("aiq.yaml", errors);
//   std::optional<YAML::Node> root = r.Load(text);
//   if (root && r.ExpectMap((*root)["server"], "server")) {
//     aiq::config::YamlSection s(r, (*root)["server"], "server");
//     s.String("listen", listen);
//     s.Integer("threads", threads, 1, 256);
//   }  // an unknown key under server is reported here
//   for (const auto& e : errors) std::cerr << e.ToString() << "\n";
#ifndef AIQ_EXPORTER_CONFIG_YAML_READER_H_
#define AIQ_EXPORTER_CONFIG_YAML_READER_H_

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "exporter/config/config_error.h"
#include "exporter/util/enum_names.h"

namespace aiq::config {

class YamlReader {
 public:
  // Errors are appended to `errors`, which must outlive the reader.
  YamlReader(std::string_view source, std::vector<ConfigError>& errors);

  const std::string& source() const { return source_; }
  // Errors reported through this reader so far.
  size_t error_count() const { return errors_.size() - errors_before_; }

  // Parses a document; a syntax error is reported (with its line) and gives
  // std::nullopt. An empty document is a null node.
  std::optional<YAML::Node> Load(std::string_view text);

  // `node` names the line (0 when it is undefined).
  void Error(const YAML::Node& node, std::string_view path,
             std::string message);
  bool ExpectMap(const YAML::Node& node, std::string_view path);

  // Sorts this reader's errors by line, keeping the order within a line,
  // so they read in file order whatever order the checks ran in.
  void SortErrorsByLine();

  static std::string Join(std::string_view path, std::string_view key);
  static std::string Index(std::string_view path, size_t i);

  // "90s", "15m", "1h", "1h30m" (absl syntax) or "7d".
  static bool ParseDuration(const std::string& s, absl::Duration& d);

 private:
  std::string source_;
  std::vector<ConfigError>& errors_;
  size_t errors_before_;
};

// One mapping. Each typed read declares its key; absent or null keys leave
// `out` unchanged; a bad value is an error and leaves `out` unchanged. The
// destructor reports every key that no read declared.
class YamlSection {
 public:
  // `map` must be a mapping (check with YamlReader::ExpectMap).
  YamlSection(YamlReader& reader, YAML::Node map, std::string path);
  ~YamlSection();
  YamlSection(const YamlSection&) = delete;
  YamlSection& operator=(const YamlSection&) = delete;

  YamlReader& reader() { return reader_; }
  const std::string& path() const { return path_; }
  // "path.key"
  std::string PathOf(std::string_view key) const;

  // Declares `key` and returns its node (undefined when absent).
  YAML::Node Get(std::string_view key);
  // Declares `key` and returns its node when present and not null.
  std::optional<YAML::Node> Present(std::string_view key);
  // An error at `key` (at the mapping itself when the key is absent).
  void Error(std::string_view key, std::string message);

  void String(std::string_view key, std::string& out);
  void Double(std::string_view key, double& out, double min, double max);
  void OptionalDouble(std::string_view key, std::optional<double>& out,
                      double min, double max);
  void Integer(std::string_view key, int64_t& out, int64_t min, int64_t max);
  void Integer(std::string_view key, int& out, int64_t min, int64_t max);
  void Duration(std::string_view key, absl::Duration& out);
  // Non-empty, distinct strings.
  void StringList(std::string_view key, std::vector<std::string>& out);

  // One of the table's names; an error lists them all.
  template <typename E, size_t N>
  void Enum(std::string_view key, const util::EnumNames<E, N>& names, E& out) {
    std::optional<E> v;
    OptionalEnum(key, names, v);
    if (v) out = *v;
  }
  template <typename E, size_t N>
  void OptionalEnum(std::string_view key, const util::EnumNames<E, N>& names,
                    std::optional<E>& out) {
    std::optional<YAML::Node> n = Present(key);
    if (!n) return;
    std::optional<E> v;
    if (n->IsScalar()) v = names.Parse(n->Scalar());
    if (!v) {
      reader_.Error(*n, PathOf(key),
                    absl::StrCat("must be one of ", names.List()));
      return;
    }
    out = *v;
  }

 private:
  YamlReader& reader_;
  YAML::Node map_;
  std::string path_;
  std::vector<std::string> declared_;
};

}  // namespace aiq::config

#endif  // AIQ_EXPORTER_CONFIG_YAML_READER_H_
