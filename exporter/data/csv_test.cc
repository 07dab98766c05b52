#include "exporter/data/csv.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "exporter/testing/oracle_data.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace aiq::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Dataset Parse(std::string_view text, const CsvOptions& opts = {}) {
  absl::StatusOr<Dataset> ds = ParseCsv(text, "t.csv", opts);
  EXPECT_TRUE(ds.ok()) << ds.status();
  return ds.ok() ? *std::move(ds) : Dataset();
}

std::string ParseError(std::string_view text, const CsvOptions& opts = {}) {
  absl::StatusOr<Dataset> ds = ParseCsv(text, "t.csv", opts);
  EXPECT_FALSE(ds.ok());
  return ds.ok() ? "" : std::string(ds.status().message());
}

std::vector<std::string> Values(const Column& c) {
  std::vector<std::string> out;
  for (size_t i = 0; i < c.size(); ++i) out.push_back(c.ValueAsString(i));
  return out;
}

TEST(CsvTest, InfersNumericAndCategorical) {
  Dataset ds = Parse("a,b,c\n1,x,2.5\n-3e2,y,\n+4,x,7\n");
  ASSERT_EQ(ds.num_rows(), 3u);
  ASSERT_EQ(ds.columns().size(), 3u);
  const Column& a = ds.columns()[0];
  EXPECT_EQ(a.type, stats::FeatureKind::kNumeric);
  EXPECT_THAT(a.numbers, ElementsAre(1, -300, 4));
  const Column& b = ds.columns()[1];
  EXPECT_EQ(b.type, stats::FeatureKind::kCategorical);
  EXPECT_THAT(b.categories, ElementsAre("x", "y"));
  EXPECT_THAT(b.codes, ElementsAre(0, 1, 0));
  const Column& c = ds.columns()[2];
  EXPECT_EQ(c.type, stats::FeatureKind::kNumeric);
  EXPECT_EQ(c.missing, 1u);
  EXPECT_TRUE(std::isnan(c.numbers[1]));
}

TEST(CsvTest, ColumnTurningCategoricalLateKeepsEveryValue) {
  Dataset ds = Parse("v,w\n1,1\n2.0,2\nabc,3\n,4\n2.0,5\n");
  const Column& v = ds.columns()[0];
  EXPECT_EQ(v.type, stats::FeatureKind::kCategorical);
  EXPECT_THAT(Values(v), ElementsAre("1", "2.0", "abc", "", "2.0"));
  EXPECT_EQ(v.missing, 1u);
  EXPECT_EQ(ds.columns()[1].type, stats::FeatureKind::kNumeric);
}

TEST(CsvTest, ManyRowsAndALateCategoricalValue) {
  std::string text = "id,v\r\n";
  for (int i = 0; i < 5000; ++i) {
    text += std::to_string(i) + "," +
            (i == 4321 ? "x" : std::to_string(i % 7)) + "\r\n";
  }
  Dataset ds = Parse(text);
  ASSERT_EQ(ds.num_rows(), 5000u);
  EXPECT_EQ(ds.columns()[0].type, stats::FeatureKind::kNumeric);
  EXPECT_EQ(ds.columns()[0].numbers[4999], 4999);
  const Column& v = ds.columns()[1];
  EXPECT_EQ(v.type, stats::FeatureKind::kCategorical);
  EXPECT_EQ(v.categories.size(), 8u);
  EXPECT_EQ(v.ValueAsString(4321), "x");
  EXPECT_EQ(v.ValueAsString(4999), std::to_string(4999 % 7));
}

TEST(CsvTest, NonFiniteMakesCategorical) {
  EXPECT_EQ(Parse("v\n1\nnan\n").columns()[0].type,
            stats::FeatureKind::kCategorical);
  EXPECT_EQ(Parse("v\n1\ninf\n").columns()[0].type,
            stats::FeatureKind::kCategorical);
  EXPECT_EQ(Parse("v\n1\n1e999\n").columns()[0].type,
            stats::FeatureKind::kCategorical);
  EXPECT_EQ(Parse("v\n1\n0x10\n").columns()[0].type,
            stats::FeatureKind::kCategorical);
  EXPECT_EQ(Parse("v\n 1 \n\t2\n").columns()[0].type,
            stats::FeatureKind::kNumeric);
}

TEST(CsvTest, QuotingPerRfc4180) {
  Dataset ds = Parse(
      "name,\"note, with comma\"\r\n"
      "\"a,b\",\"say \"\"hi\"\"\"\r\n"
      "\"multi\nline\",\"\"\r\n"
      "plain,\"12\"\r\n");
  ASSERT_EQ(ds.num_rows(), 3u);
  EXPECT_EQ(ds.columns()[1].name, "note, with comma");
  EXPECT_THAT(Values(ds.columns()[0]),
              ElementsAre("a,b", "multi\nline", "plain"));
  EXPECT_THAT(Values(ds.columns()[1]), ElementsAre("say \"hi\"", "", "12"));
}

TEST(CsvTest, ManyEscapedFieldsInOneRecordKeepTheirValues) {
  // Each escaped field is unescaped into its own scratch string; when the
  // record has more of them than ever before, the earlier ones must not
  // move (found by fuzz/csv_fuzzer: the views pointed into freed memory,
  // which AddressSanitizer reports; fuzz/corpus/csv keeps that input).
  std::string header, row;
  for (int i = 0; i < 40; ++i) {
    absl::StrAppend(&header, i ? "," : "", "c", i);
    absl::StrAppend(&row, i ? "," : "", "\"v\"\"", i, "\"");
  }
  Dataset ds = Parse(header + "\n" + row + "\n");
  ASSERT_EQ(ds.columns().size(), 40u);
  for (int i = 0; i < 40; ++i) {
    EXPECT_THAT(Values(ds.columns()[static_cast<size_t>(i)]),
                ElementsAre(absl::StrCat("v\"", i)));
  }
}

TEST(CsvTest, QuotedNumbersAreNumbers) {
  Dataset ds = Parse("x,y\n\"1.5\",a\n\"\",b\n");
  EXPECT_EQ(ds.columns()[0].type, stats::FeatureKind::kNumeric);
  EXPECT_EQ(ds.columns()[0].numbers[0], 1.5);
  EXPECT_EQ(ds.columns()[0].missing, 1u);
}

TEST(CsvTest, BomBlankLinesAndNoTrailingNewline) {
  Dataset ds = Parse(
      "\xEF\xBB\xBF"
      "a,b\n\n1,2\r\n\r\n3,4");
  EXPECT_EQ(ds.columns()[0].name, "a");
  EXPECT_EQ(ds.num_rows(), 2u);
  EXPECT_THAT(ds.columns()[1].numbers, ElementsAre(2, 4));
}

TEST(CsvTest, TrailingEmptyFieldIsMissing) {
  Dataset ds = Parse("a,b\n1,\n2,3\n");
  EXPECT_EQ(ds.columns()[1].missing, 1u);
}

TEST(CsvTest, EmptyHeaderNamesGetNames) {
  Dataset ds = Parse(",a\n0,1\n");
  EXPECT_EQ(ds.columns()[0].name, "unnamed_1");
}

TEST(CsvTest, FixedTypes) {
  CsvOptions opts;
  opts.column_types = {{"a", stats::FeatureKind::kCategorical}};
  Dataset ds = Parse("a,b\n1,2\n1.0,3\n", opts);
  EXPECT_EQ(ds.columns()[0].type, stats::FeatureKind::kCategorical);
  EXPECT_THAT(ds.columns()[0].categories, ElementsAre("1", "1.0"));
  EXPECT_EQ(ds.columns()[1].type, stats::FeatureKind::kNumeric);
}

TEST(CsvTest, FixedNumericRejectsText) {
  CsvOptions opts;
  opts.column_types = {{"b", stats::FeatureKind::kNumeric}};
  opts.types_from = "the reference";
  EXPECT_EQ(ParseError("a,b\nx,1\ny,\nz,oops\n", opts),
            "t.csv:4: column \"b\": \"oops\" is not a finite number (the "
            "column is numeric in the reference)");
}

TEST(CsvTest, FieldCountErrorsNameLineAndColumn) {
  EXPECT_EQ(ParseError("a,b,c\n1,2,3\n4,5\n"),
            "t.csv:3: column \"c\": row has 2 fields, header has 3");
  EXPECT_EQ(ParseError("a,b\n1,2\n3,4,5\n"),
            "t.csv:3: row has 3 fields, header has 2");
  // Line numbers count the lines inside quoted fields.
  EXPECT_EQ(ParseError("a,b\n\"x\ny\",1\n2\n"),
            "t.csv:4: column \"b\": row has 1 field, header has 2");
}

TEST(CsvTest, QuoteErrors) {
  EXPECT_EQ(ParseError("a,b\n1,\"open\n2,3\n"),
            "t.csv:2: column \"b\": quoted field is never closed");
  EXPECT_THAT(ParseError("a,b\n\"x\"y,1\n"),
              HasSubstr("t.csv:2: column \"a\": unexpected character after a "
                        "closing quote"));
}

TEST(CsvTest, HeaderErrors) {
  EXPECT_EQ(ParseError(""), "t.csv: empty, expected a header row");
  EXPECT_EQ(ParseError("\n\n"), "t.csv: empty, expected a header row");
  EXPECT_EQ(ParseError("a,b,a\n1,2,3\n"),
            "t.csv:1: column \"a\" appears twice in the header");
}

TEST(CsvTest, HeaderOnlyGivesZeroRows) {
  Dataset ds = Parse("a,b\n");
  EXPECT_EQ(ds.num_rows(), 0u);
  EXPECT_EQ(ds.columns().size(), 2u);
}

TEST(CsvTest, ReadsFiles) {
  char path[] = "/tmp/aiq_csv_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << "a,b\n1,x\n2,y\n";
  absl::StatusOr<Dataset> ds = ReadCsvFile(path, {});
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->num_rows(), 2u);
  EXPECT_EQ(ds->source(), path);
  std::remove(path);

  absl::StatusOr<Dataset> missing = ReadCsvFile("/nonexistent/x.csv", {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/x.csv"));
  EXPECT_FALSE(ReadCsvFile("/tmp", {}).ok());
}

TEST(CsvTest, ReadsOracleDatasets) {
  ASSERT_TRUE(testdata::OracleFilesExist({"datasets/small_drift_current.csv"}));
  absl::StatusOr<Dataset> ds =
      ReadCsvFile(testdata::OraclePath("datasets/small_drift_current.csv"), {});
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->num_rows(), 600u);
  std::vector<std::string> names;
  for (const Column& c : ds->columns()) names.push_back(c.name);
  EXPECT_THAT(names, ElementsAre("income", "age", "score", "rooms", "plan",
                                 "channel", "target", "prediction"));
  EXPECT_EQ(ds->Find("age")->type, stats::FeatureKind::kNumeric);
  EXPECT_GT(ds->Find("age")->missing, 0u);
  EXPECT_EQ(ds->Find("plan")->type, stats::FeatureKind::kCategorical);
}

TEST(DatasetTest, BuildsInMemory) {
  Dataset ds;
  ds.AddNumeric("x", {1, std::nan(""), 3});
  ds.AddCategorical("c", {"a", "", "a"});
  EXPECT_EQ(ds.num_rows(), 3u);
  EXPECT_EQ(ds.Find("x")->missing, 1u);
  EXPECT_EQ(ds.Find("c")->missing, 1u);
  EXPECT_EQ(ds.Find("c")->categories.size(), 1u);
  EXPECT_EQ(ds.Find("nope"), nullptr);
  EXPECT_EQ(ds.Find("x")->ValueAsString(2), "3");
}

}  // namespace
}  // namespace aiq::data
