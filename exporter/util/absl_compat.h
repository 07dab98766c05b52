// Debian's abseil (20220623) is built with its own absl::string_view, which
// std::string_view does not convert to. Every absl call that takes a
// string_view (StrCat, flat_hash_map lookups, ParseTime, ...) goes through
// this one conversion.
//
// Example, given `const absl::flat_hash_map<std::string, int>& map` and
// `std::string_view key`:
//   #include "absl/container/flat_hash_map.h"
//   auto it = map.find(aiq::util::ToAbsl(key));
#ifndef AIQ_EXPORTER_UTIL_ABSL_COMPAT_H_
#define AIQ_EXPORTER_UTIL_ABSL_COMPAT_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace aiq::util {

inline absl::string_view ToAbsl(std::string_view s) {
  return {s.data(), s.size()};
}

}  // namespace aiq::util

#endif  // AIQ_EXPORTER_UTIL_ABSL_COMPAT_H_
