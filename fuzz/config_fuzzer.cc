// The config loader on arbitrary YAML: a config, or errors that each name
// a line and a key; never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "exporter/config/config_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  std::vector<aiq::config::ConfigError> errors;
  std::optional<aiq::config::Config> c =
      aiq::config::ParseConfig(yaml, "fuzz", errors);
  if (!c && errors.empty()) std::abort();  // refused without saying why
  return 0;
}
