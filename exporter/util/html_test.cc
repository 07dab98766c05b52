#include "exporter/util/html.h"

#include <gtest/gtest.h>

namespace aiq::util {
namespace {

TEST(EscapeHtmlTest, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(EscapeHtml("<script>&\"'"), "&lt;script&gt;&amp;&quot;&#39;");
  EXPECT_EQ(EscapeHtml("a < b && c > \"d\" 'e'"),
            "a &lt; b &amp;&amp; c &gt; &quot;d&quot; &#39;e&#39;");
}

TEST(EscapeHtmlTest, LeavesOtherTextAlone) {
  EXPECT_EQ(EscapeHtml(""), "");
  EXPECT_EQ(EscapeHtml("churn-classifier v1.2 (été)"),
            "churn-classifier v1.2 (été)");
  // Already-escaped text is escaped again: the function does not guess.
  EXPECT_EQ(EscapeHtml("&amp;"), "&amp;amp;");
}

}  // namespace
}  // namespace aiq::util
