// Loads and validates the YAML configuration. Validation reports every
// problem at once, each with its YAML path and line, so `validate-config`
// can list them all:
//
// Example, given `std::string_view yaml`:
//   #include <iostream>
//   std::vector<aiq::config::ConfigError> errors;
//   std::optional<Config> c =
//       aiq::config::ParseConfig(yaml, "aiq.yaml", errors);
//   for (const auto& e : errors) std::cerr << e.ToString() << "\n";
//
// Unknown keys are errors: a typo must not silently fall back to a default.
// A relative reference CSV path resolves against the config file's
// directory; `serve` and `validate-config` both read files through
// ParseConfigFile / LoadConfigFile, so they resolve paths the same way.
#ifndef AIQ_EXPORTER_CONFIG_CONFIG_LOADER_H_
#define AIQ_EXPORTER_CONFIG_CONFIG_LOADER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/config/config.h"
#include "exporter/config/config_error.h"

namespace aiq::config {

// Parses and validates `yaml`. Returns the config when there are no errors;
// otherwise std::nullopt with `errors` filled (in file order). Relative
// reference paths are kept as written.
std::optional<Config> ParseConfig(std::string_view yaml,
                                  std::string_view source,
                                  std::vector<ConfigError>& errors);

// As ParseConfig for text read from `config_path`: relative reference paths
// resolve against that file's directory.
std::optional<Config> ParseConfigText(std::string_view yaml,
                                      const std::string& config_path,
                                      std::vector<ConfigError>& errors);

// Reads `path` and parses it with ParseConfigText; an unreadable file is one
// error ("PATH: cannot read file").
std::optional<Config> ParseConfigFile(const std::string& path,
                                      std::vector<ConfigError>& errors);

// ParseConfigFile as a Status: NotFound ("cannot read config PATH") for an
// unreadable file, else all errors joined into one InvalidArgument.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// The embedded demo configuration served when no --config is given.
std::string_view DefaultConfigYaml();
absl::StatusOr<Config> LoadDefaultConfig();

// References compiled into the binary, named "builtin:NAME" in a model's
// reference.csv. Only "builtin:churn-demo" (the demo model's) exists.
inline constexpr char kBuiltinPrefix[] = "builtin:";
std::optional<std::string_view> BuiltinReferenceCsv(std::string_view name);

}  // namespace aiq::config

#endif  // AIQ_EXPORTER_CONFIG_CONFIG_LOADER_H_
