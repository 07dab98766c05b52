// The report as JSON, the shape of testdata/oracle/datasets/expected.json's
// entries (documented in docs/report.md):
//
//   {"reference": "ref.csv", "current": "cur.csv", "target": "t",
//    "prediction": "p", "rows": {"reference": 800, "current": 600},
//    "features": {"age": {"type": "numeric", "missing_ratio": 0.04,
//                         "stats": {...}, "drift": {...}}, ...},
//    "dataset_drift": {...}, "quality": {...}}
//
// Example, given `const Report& report`:
//   std::string json = aiq::report::RenderJson(report);
//
// Doubles are printed in shortest round-trip form; NaN as null. Features
// keep the report's (the CSV header's) order.
#ifndef AIQ_EXPORTER_REPORT_REPORT_JSON_H_
#define AIQ_EXPORTER_REPORT_REPORT_JSON_H_

#include <string>

#include "exporter/report/report.h"

namespace aiq::report {

// indent < 0: one line; else pretty-printed with that many spaces.
std::string RenderJson(const Report& report, int indent = 2);

}  // namespace aiq::report

#endif  // AIQ_EXPORTER_REPORT_REPORT_JSON_H_
