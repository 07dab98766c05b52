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
#ifndef AIQ_EXPORTER_CONFIG_CONFIG_LOADER_H_
#define AIQ_EXPORTER_CONFIG_CONFIG_LOADER_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/config/config.h"

namespace aiq::config {

struct ConfigError {
  std::string source;  // file name, or "<embedded>"
  int line = 0;        // 1-based; 0 when unknown
  std::string path;    // e.g. "models[0].features[2].type"
  std::string message;

  // "aiq.yaml:12: models[0].task: must be one of classification, ..."
  std::string ToString() const;
};

// Parses and validates `yaml`. Returns the config when there are no errors;
// otherwise std::nullopt with `errors` filled.
std::optional<Config> ParseConfig(std::string_view yaml,
                                  std::string_view source,
                                  std::vector<ConfigError>& errors);

// Reads `path` and parses it; all errors joined into one InvalidArgument.
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
