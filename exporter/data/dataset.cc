#include "exporter/data/dataset.h"

#include <charconv>
#include <cmath>
#include <utility>

namespace aiq::data {

bool Column::IsMissing(size_t row) const {
  return type == stats::FeatureKind::kNumeric ? std::isnan(numbers[row])
                                              : codes[row] == kMissingCode;
}

std::string Column::ValueAsString(size_t row) const {
  if (IsMissing(row)) return "";
  if (type == stats::FeatureKind::kCategorical) return categories[codes[row]];
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), numbers[row]);
  return std::string(buf, end);
}

const Column* Dataset::Find(std::string_view name) const {
  for (const Column& c : columns_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

absl::flat_hash_map<std::string, stats::FeatureKind> Dataset::Types() const {
  absl::flat_hash_map<std::string, stats::FeatureKind> types;
  for (const Column& c : columns_) types[c.name] = c.type;
  return types;
}

void Dataset::AddNumeric(std::string name, std::vector<double> values) {
  Column c;
  c.name = std::move(name);
  c.type = stats::FeatureKind::kNumeric;
  for (double v : values) c.missing += std::isnan(v) ? 1 : 0;
  c.numbers = std::move(values);
  AddColumn(std::move(c));
}

void Dataset::AddCategorical(std::string name,
                             const std::vector<std::string>& values) {
  Column c;
  c.name = std::move(name);
  c.type = stats::FeatureKind::kCategorical;
  absl::flat_hash_map<std::string_view, int32_t> ids;
  c.codes.reserve(values.size());
  for (const std::string& v : values) {
    if (v.empty()) {
      c.codes.push_back(kMissingCode);
      ++c.missing;
      continue;
    }
    auto [it, inserted] =
        ids.try_emplace(v, static_cast<int32_t>(c.categories.size()));
    if (inserted) c.categories.push_back(v);
    c.codes.push_back(it->second);
  }
  AddColumn(std::move(c));
}

void Dataset::AddColumn(Column column) {
  if (columns_.empty()) num_rows_ = column.size();
  columns_.push_back(std::move(column));
}

}  // namespace aiq::data
