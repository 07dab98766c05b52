// Escaping for text inserted into HTML (element content and quoted
// attribute values): & < > " ' become character references, so a name such
// as `<script>` shows as text instead of becoming markup.
//
// Example, given `std::string& page` and `std::string_view model_name`:
//   #include "absl/strings/str_cat.h"
//   absl::StrAppend(&page, "<li>", aiq::util::EscapeHtml(model_name), "</li>");
#ifndef AIQ_EXPORTER_UTIL_HTML_H_
#define AIQ_EXPORTER_UTIL_HTML_H_

#include <string>
#include <string_view>

namespace aiq::util {

std::string EscapeHtml(std::string_view text);

}  // namespace aiq::util

#endif  // AIQ_EXPORTER_UTIL_HTML_H_
