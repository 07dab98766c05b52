// Test-only helpers for the statistics tests: the cases of the scipy/sklearn
// reference vectors (stats.json, loaded by exporter/testing/oracle_data.h)
// and comparing within the project's tolerance (1e-9 relative or 1e-12
// absolute).
//
// Example, given `double actual` and `double expected`:
//   for (const auto& c : aiq::stats::testing::Cases("numeric")) {
//     /* compare this code's result with c's expected values */
//   }
//   EXPECT_PRED_FORMAT2(aiq::stats::testing::Near, actual, expected);
//
// Not part of aiq_stats (header only, included by *_test.cc).
#ifndef AIQ_EXPORTER_STATS_ORACLE_TEST_UTIL_H_
#define AIQ_EXPORTER_STATS_ORACLE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/testing/oracle_data.h"
#include "nlohmann/json.hpp"

namespace aiq::stats::testing {

inline constexpr double kRelTol = 1e-9;
inline constexpr double kAbsTol = 1e-12;

// The stats.json cases of one kind; none (and a test failure naming the
// missing file) when stats.json cannot be loaded.
inline std::vector<nlohmann::json> Cases(const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& c : aiq::testdata::StatsOracle()["cases"]) {
    if (c["kind"] == kind) out.push_back(c);
  }
  return out;
}

// gtest predicate formatter: |a - e| <= max(1e-12, 1e-9 |e|).
inline ::testing::AssertionResult Near(const char* a_expr, const char* e_expr,
                                       double a, double e) {
  const double tol = std::max(kAbsTol, kRelTol * std::abs(e));
  if (std::abs(a - e) <= tol) return ::testing::AssertionSuccess();
  std::ostringstream msg;
  msg.precision(17);
  msg << a_expr << " = " << a << " differs from " << e_expr << " = " << e
      << " by " << std::abs(a - e) << " (rel " << std::abs(a - e) / std::abs(e)
      << ")";
  return ::testing::AssertionFailure() << msg.str();
}

// Minimal CSV reader for the oracle datasets (no quoting in those files):
// column name -> cells as text ("" = missing). `relative` is the file's path
// in the test data, e.g. "datasets/small_drift_current.csv"; a missing file
// is a test failure (naming it) and gives no columns.
inline std::map<std::string, std::vector<std::string>> ReadSimpleCsv(
    std::string_view relative) {
  std::map<std::string, std::vector<std::string>> cols;
  std::string text;
  ::testing::AssertionResult read =
      aiq::testdata::ReadOracleFile(relative, &text);
  if (!read) {
    ADD_FAILURE() << read.message();
    return cols;
  }
  std::istringstream in(text);
  std::vector<std::string> header;
  std::string line;
  auto split = [](const std::string& s) {
    std::vector<std::string> f;
    std::string cur;
    for (char ch : s) {
      if (ch == ',') {
        f.push_back(cur);
        cur.clear();
      } else if (ch != '\r') {
        cur += ch;
      }
    }
    f.push_back(cur);
    return f;
  };
  if (std::getline(in, line)) header = split(line);
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f = split(line);
    for (size_t i = 0; i < header.size(); ++i) {
      cols[header[i]].push_back(i < f.size() ? f[i] : "");
    }
  }
  return cols;
}

}  // namespace aiq::stats::testing

#endif  // AIQ_EXPORTER_STATS_ORACLE_TEST_UTIL_H_
