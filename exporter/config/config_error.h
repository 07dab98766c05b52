// One problem found in a YAML file (the exporter config or the report
// config), with where it is, so that every problem can be listed at once.
//
// Example:
//   #include <iostream>
//   aiq::config::ConfigError e{"aiq.yaml", 12, "models[0].task",
//                              "must be one of classification, ..."};
//   std::cerr << e.ToString();  // "aiq.yaml:12: models[0].task: must be ..."
#ifndef AIQ_EXPORTER_CONFIG_CONFIG_ERROR_H_
#define AIQ_EXPORTER_CONFIG_CONFIG_ERROR_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace aiq::config {

struct ConfigError {
  std::string source;  // file name, or "<embedded>"
  int line = 0;        // 1-based; 0 when unknown
  std::string path;    // e.g. "models[0].features[2].type"
  std::string message;

  // "aiq.yaml:12: models[0].task: must be one of classification, ..."
  std::string ToString() const;
};

// InvalidArgument with one ToString() line per error (OK when empty).
absl::Status JoinErrors(const std::vector<ConfigError>& errors);

}  // namespace aiq::config

#endif  // AIQ_EXPORTER_CONFIG_CONFIG_ERROR_H_
