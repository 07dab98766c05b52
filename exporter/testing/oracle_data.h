// Test-only access to the project's generated test data (testdata/oracle,
// or wherever the AIQ_ORACLE_DIR compile definition points): paths, and
// loading that turns a missing or unreadable file into a test failure that
// names the file and says how to regenerate it, never a crash.
//
// Example (in a test body):
//   nlohmann::json stats;
//   ASSERT_TRUE(aiq::testdata::LoadOracleJson("stats.json", &stats));
//   ASSERT_TRUE(aiq::testdata::OracleFilesExist(
//       {"datasets/small_drift_reference.csv"}));
//   const std::string csv =
//       aiq::testdata::OraclePath("datasets/small_drift_reference.csv");
//
// Header only; every test target gets AIQ_ORACLE_DIR from aiq_cc_test
// (cmake/aiq.cmake). What the data is: docs/testdata.md.
#ifndef AIQ_EXPORTER_TESTING_ORACLE_DATA_H_
#define AIQ_EXPORTER_TESTING_ORACLE_DATA_H_

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>

#include "nlohmann/json.hpp"

#ifndef AIQ_ORACLE_DIR
#error "AIQ_ORACLE_DIR must be defined (aiq_cc_test does it)"
#endif

namespace aiq::testdata {

// The directory holding stats.json and datasets/.
inline std::string OracleDir() { return AIQ_ORACLE_DIR; }

// Absolute path of a file of the test data, e.g. "datasets/expected.json".
// Does not check that it exists (see OracleFilesExist).
inline std::string OraclePath(std::string_view relative) {
  return OracleDir() + "/" + std::string(relative);
}

namespace detail {

inline std::string Unreadable(std::string_view relative, std::string_view why) {
  std::ostringstream msg;
  msg << "test data file " << OraclePath(relative) << " " << why
      << ". The test data is generated: run tools/oracle/generate.py "
         "(/usr/bin/python3, see docs/testdata.md) to rewrite "
         "testdata/oracle, or configure with -DAIQ_ORACLE_DIR=<dir> to use "
         "a copy elsewhere.";
  return msg.str();
}

}  // namespace detail

// Success when every listed file of the test data can be opened.
inline ::testing::AssertionResult OracleFilesExist(
    std::initializer_list<std::string_view> relatives) {
  for (std::string_view rel : relatives) {
    std::ifstream in(OraclePath(rel), std::ios::binary);
    if (!in) {
      return ::testing::AssertionFailure()
             << detail::Unreadable(rel, std::string("cannot be opened (") +
                                            std::strerror(errno) + ")");
    }
  }
  return ::testing::AssertionSuccess();
}

// The whole file as text.
inline ::testing::AssertionResult ReadOracleFile(std::string_view relative,
                                                 std::string* text) {
  std::ifstream in(OraclePath(relative), std::ios::binary);
  if (!in) {
    return ::testing::AssertionFailure()
           << detail::Unreadable(relative, std::string("cannot be opened (") +
                                               std::strerror(errno) + ")");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  *text = buf.str();
  return ::testing::AssertionSuccess();
}

// Parses a JSON file of the test data (nlohmann::json or ordered_json).
template <typename Json>
::testing::AssertionResult LoadOracleJson(std::string_view relative,
                                          Json* doc) {
  std::string text;
  ::testing::AssertionResult read = ReadOracleFile(relative, &text);
  if (!read) return read;
  *doc = Json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc->is_discarded()) {
    return ::testing::AssertionFailure()
           << detail::Unreadable(relative, "is not valid JSON");
  }
  return ::testing::AssertionSuccess();
}

// stats.json, parsed once. When it cannot be loaded, records a failure in
// the calling test (every call, so every test using it fails) and returns
// {"cases": []}.
inline const nlohmann::json& StatsOracle() {
  static const nlohmann::json* loaded = nullptr;
  if (loaded != nullptr) return *loaded;
  nlohmann::json doc;
  ::testing::AssertionResult ok = LoadOracleJson("stats.json", &doc);
  if (!ok) {
    ADD_FAILURE() << ok.message();
    static const nlohmann::json* empty =
        new nlohmann::json({{"cases", nlohmann::json::array()}});
    return *empty;
  }
  loaded = new nlohmann::json(std::move(doc));
  return *loaded;
}

}  // namespace aiq::testdata

#endif  // AIQ_EXPORTER_TESTING_ORACLE_DATA_H_
