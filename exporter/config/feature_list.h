// The `features:` list of a model config, read by the exporter config and by
// the report config's list form, so both accept the same keys and values.
//
// Example, given `YamlReader& reader` and `const YAML::Node& node`:
//   // - age                                   (a numeric feature)
//   // - {name: plan, type: categorical, drift_test: psi, drift_threshold: 0.2}
//   // - {name: age, drift_threshold: auto}   (calibrated from the reference)
//   std::vector<aiq::config::FeatureConfig> features;
//   aiq::config::ReadFeatureList(reader, node, "models[0].features",
//                                features);
#ifndef AIQ_EXPORTER_CONFIG_FEATURE_LIST_H_
#define AIQ_EXPORTER_CONFIG_FEATURE_LIST_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/config/config.h"
#include "exporter/config/yaml_reader.h"

namespace aiq::config {

// `drift_threshold: auto` (and `threshold: auto` in the report config).
inline constexpr char kAutoThreshold[] = "auto";

// Reads `key` as a threshold: a number in [0, 1e9] into `value`, or `auto`
// (sets `is_auto`); anything else is an error at the key's path.
void ReadDriftThreshold(YamlSection& s, std::string_view key,
                        std::optional<double>& value, bool& is_auto);

// Appends one FeatureConfig per item; bad items are reported (names must be
// label-safe and distinct) and still appended, so later checks can run.
void ReadFeatureList(YamlReader& r, const YAML::Node& list,
                     const std::string& path, std::vector<FeatureConfig>& out);

// Names end up in label values and URLs: 1-128 printable characters without
// '"', '\\' or '/'.
bool IsLabelSafe(std::string_view s);

}  // namespace aiq::config

#endif  // AIQ_EXPORTER_CONFIG_FEATURE_LIST_H_
