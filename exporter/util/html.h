// Escaping for text inserted into HTML (element content and quoted
// attribute values): & < > " ' become character references, so a name such
// as `<script>` shows as text instead of becoming markup.
//
//   absl::StrAppend(&page, "<li>", aiq::util::EscapeHtml(model.name), "</li>");
#ifndef AIQ_EXPORTER_UTIL_HTML_H_
#define AIQ_EXPORTER_UTIL_HTML_H_

#include <string>
#include <string_view>

namespace aiq::util {

std::string EscapeHtml(std::string_view text);

}  // namespace aiq::util

#endif  // AIQ_EXPORTER_UTIL_HTML_H_
