#include "exporter/metrics/catalogue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace aiq::metrics {
namespace {

struct DocumentedMetric {
  std::string type;              // first word of the type column
  std::set<std::string> labels;  // label names of the labels column
  int line = 0;
};

// Splits a Markdown table row into trimmed cells; a '|' inside `code` does
// not separate cells.
std::vector<std::string> Cells(const std::string& row) {
  std::vector<std::string> cells;
  std::string cell;
  bool code = false;
  for (size_t i = 1; i < row.size(); ++i) {  // row[0] is the leading '|'
    const char c = row[i];
    if (c == '`') code = !code;
    if (c == '|' && !code) {
      const size_t b = cell.find_first_not_of(' ');
      const size_t e = cell.find_last_not_of(' ');
      cells.push_back(b == std::string::npos ? "" : cell.substr(b, e - b + 1));
      cell.clear();
    } else {
      cell += c;
    }
  }
  return cells;
}

// The label names in a labels cell such as "model, version, kind=`a|b`",
// "model, version (buckets ...)", "model, version, test: numeric ..." or
// "(none)": parenthesised text and anything after ':' are commentary.
std::set<std::string> LabelNames(std::string cell) {
  const std::regex parens(R"(\([^()]*\))");
  for (std::string prev; prev != cell;) {
    prev = cell;
    cell = std::regex_replace(cell, parens, "");
  }
  cell = cell.substr(0, cell.find(':'));
  std::set<std::string> out;
  const std::regex name(R"(^\s*([a-z_]+))");
  std::stringstream parts(cell);
  for (std::string part; std::getline(parts, part, ',');) {
    std::smatch m;
    if (std::regex_search(part, m, name)) out.insert(m[1]);
  }
  return out;
}

// Every `aiq_*` / `process_*` metric in the tables of docs/metrics.md.
std::map<std::string, DocumentedMetric> ReadDocs(std::string& error) {
  const std::string path = std::string(AIQ_SOURCE_DIR) + "/docs/metrics.md";
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path;
    return {};
  }
  std::map<std::string, DocumentedMetric> out;
  const std::regex metric_name("`((?:aiq|process)_[a-z0-9_]+)`");
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty() || line[0] != '|') continue;
    const std::vector<std::string> cells = Cells(line);
    if (cells.size() < 3) continue;
    std::vector<std::string> names;
    for (std::sregex_iterator it(cells[0].begin(), cells[0].end(), metric_name);
         it != std::sregex_iterator(); ++it) {
      names.push_back((*it)[1]);
    }
    const std::string type = cells[1].substr(0, cells[1].find(' '));
    for (const std::string& n : names) {
      if (out.count(n) != 0) {
        error += "docs/metrics.md:" + std::to_string(line_no) + ": " + n +
                 " documented twice\n";
      }
      out[n] = {type, LabelNames(cells[2]), line_no};
    }
  }
  return out;
}

TEST(CatalogueTest, MatchesDocsMetricsMd) {
  std::string error;
  const std::map<std::string, DocumentedMetric> docs = ReadDocs(error);
  ASSERT_EQ(error, "");
  for (const MetricDef* d : kCatalogue) {
    const std::string name(d->name);
    auto it = docs.find(name);
    if (it == docs.end()) {
      ADD_FAILURE() << name << " is not documented in docs/metrics.md";
      continue;
    }
    EXPECT_EQ(it->second.type, TypeName(d->type))
        << name << " (docs/metrics.md:" << it->second.line << ")";
    std::set<std::string> labels;
    for (std::string_view l : d->LabelNames()) labels.emplace(l);
    EXPECT_EQ(it->second.labels, labels)
        << name << " (docs/metrics.md:" << it->second.line << ")";
  }
  for (const auto& [name, doc] : docs) {
    EXPECT_NE(FindMetric(name), nullptr)
        << name << " (docs/metrics.md:" << doc.line
        << ") is not in the catalogue (exporter/metrics/catalogue.h)";
  }
}

TEST(CatalogueTest, EntriesAreWellFormed) {
  const std::regex name_re("[a-z_][a-z0-9_]*");
  std::set<std::string_view> names;
  for (const MetricDef* d : kCatalogue) {
    const std::string name(d->name);
    EXPECT_TRUE(names.insert(d->name).second) << name << " listed twice";
    EXPECT_TRUE(std::regex_match(name, name_re)) << name;
    EXPECT_TRUE(name.rfind("aiq_", 0) == 0 || name.rfind("process_", 0) == 0)
        << name;
    const bool total =
        name.size() > 6 && name.substr(name.size() - 6) == "_total";
    EXPECT_EQ(total, d->type == prometheus::MetricType::Counter) << name;
    EXPECT_FALSE(d->help.empty()) << name;
    EXPECT_EQ(d->help.back(), '.') << name;
    std::set<std::string_view> labels;
    for (std::string_view l : d->LabelNames()) {
      EXPECT_TRUE(std::regex_match(std::string(l), name_re)) << name;
      EXPECT_NE(l, "le") << name;
      EXPECT_TRUE(labels.insert(l).second) << name << ": label " << l;
    }
  }
  EXPECT_EQ(names.size(), std::size(kCatalogue));
  EXPECT_EQ(FindMetric("aiq_predictions_total"), &kPredictionsTotal);
  EXPECT_EQ(FindMetric("aiq_nonexistent"), nullptr);
}

TEST(CatalogueTest, LabelNamesSplitOnSpaces) {
  EXPECT_THAT(kDriftScore.LabelNames(),
              ::testing::ElementsAre("model", "version", "feature", "test"));
  EXPECT_TRUE(kExporterModels.LabelNames().empty());
  EXPECT_EQ(TypeName(prometheus::MetricType::Histogram), "histogram");
}

}  // namespace
}  // namespace aiq::metrics
