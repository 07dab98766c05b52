// The report as one self-contained HTML page (inline CSS and SVG; no
// scripts, fonts or network): the dataset drift verdict, row counts and
// quality up top, then one card per feature, drifted first, with reference
// vs current histograms and the test, score, threshold and verdict.
//
// Example, given `const Report& report`:
//   std::string html = aiq::report::RenderHtml(report);
//
// Every string that comes from the data (file names, column names,
// categories) is HTML-escaped.
#ifndef AIQ_EXPORTER_REPORT_REPORT_HTML_H_
#define AIQ_EXPORTER_REPORT_REPORT_HTML_H_

#include <string>
#include <string_view>

#include "exporter/report/report.h"

namespace aiq::report {

std::string RenderHtml(const Report& report);

}  // namespace aiq::report

#endif  // AIQ_EXPORTER_REPORT_REPORT_HTML_H_
