// Columnar, typed tables: what a CSV file becomes before statistics run on
// it. Numeric columns hold doubles (NaN = missing); categorical columns hold
// small integer codes into a per-column dictionary (-1 = missing), so that
// counting categories never touches strings.
//
// Example:
//   aiq::data::Dataset ds;
//   ds.AddNumeric("age", {31, 45, std::nan("")});
//   ds.AddCategorical("plan", {"basic", "pro", ""});  // "" = missing
//   const aiq::data::Column* age = ds.Find("age");
//   double first = age->numbers[0];
//
// Datasets are normally built by aiq::data::ParseCsv / ReadCsvFile (csv.h).
#ifndef AIQ_EXPORTER_DATA_DATASET_H_
#define AIQ_EXPORTER_DATA_DATASET_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "exporter/stats/feature_kind.h"

namespace aiq::data {

inline constexpr int32_t kMissingCode = -1;

struct Column {
  std::string name;
  // kNumeric or kCategorical (a column read as boolean is categorical).
  stats::FeatureKind type = stats::FeatureKind::kNumeric;
  // kNumeric: one value per row, NaN = missing.
  std::vector<double> numbers;
  // kCategorical: one code per row indexing `categories`, kMissingCode =
  // missing. Categories appear in order of first occurrence.
  std::vector<int32_t> codes;
  std::vector<std::string> categories;
  // Rows whose value is missing.
  size_t missing = 0;

  size_t size() const {
    return type == stats::FeatureKind::kNumeric ? numbers.size() : codes.size();
  }
  bool IsMissing(size_t row) const;
  // The row's value as text: the category, or the number in shortest
  // round-trip form; "" when missing.
  std::string ValueAsString(size_t row) const;
};

class Dataset {
 public:
  Dataset() = default;
  explicit Dataset(std::string source) : source_(std::move(source)) {}

  // Where the data came from (a file name), for messages.
  const std::string& source() const { return source_; }
  size_t num_rows() const { return num_rows_; }
  const std::vector<Column>& columns() const { return columns_; }

  // nullptr when there is no such column.
  const Column* Find(std::string_view name) const;
  // Column types by name, to read another file with the same schema.
  absl::flat_hash_map<std::string, stats::FeatureKind> Types() const;

  // Appends a column; every column must have the same number of rows.
  // NaN values are missing.
  void AddNumeric(std::string name, std::vector<double> values);
  // Empty strings are missing.
  void AddCategorical(std::string name, const std::vector<std::string>& values);
  // Takes a fully built column (codes/categories or numbers) as is.
  void AddColumn(Column column);

 private:
  std::string source_;
  size_t num_rows_ = 0;
  std::vector<Column> columns_;
};

}  // namespace aiq::data

#endif  // AIQ_EXPORTER_DATA_DATASET_H_
