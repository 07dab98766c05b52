// Reading CSV (RFC 4180, with a header row) into a typed, columnar Dataset.
//
// Example:
//   absl::StatusOr<aiq::data::Dataset> ref =
//       aiq::data::ReadCsvFile("ref.csv", {});
//   // Read the current data with the reference's column types, so that a
//   // column is numeric in both or categorical in both:
//   aiq::data::CsvOptions opts;
//   opts.column_types = ref->Types();
//   opts.types_from = "the reference";
//   absl::StatusOr<aiq::data::Dataset> cur =
//       aiq::data::ReadCsvFile("cur.csv", opts);
//
// Rules:
//  - The first record is the header; names must be unique.
//  - Fields may be quoted ("a,b", "say ""hi"""), quoted fields may span
//    lines; records end with LF or CRLF; a UTF-8 BOM is skipped; blank lines
//    are skipped (when there is more than one column).
//  - An empty (or all-blank) cell is missing.
//  - Without a fixed type, a column is numeric when every non-missing value
//    parses as a finite number (std::from_chars, optional leading '+',
//    surrounding blanks ignored); otherwise categorical.
//  - Errors name the source, the line and, where it applies, the column:
//      cur.csv:17: column "age": row has 7 fields, header has 8
//
// Parsing makes one pass over the bytes (a second one only for a column that
// turns out categorical after numeric-looking rows) and allocates per
// distinct category, not per cell; files are memory-mapped.
#ifndef AIQ_EXPORTER_DATA_CSV_H_
#define AIQ_EXPORTER_DATA_CSV_H_

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "exporter/data/dataset.h"

namespace aiq::data {

struct CsvOptions {
  // Columns whose type is fixed rather than inferred. A value that does not
  // parse in a column fixed numeric is an error; kBoolean columns are read
  // as categorical. Names absent from the file are ignored.
  absl::flat_hash_map<std::string, stats::FeatureKind> column_types;
  // Where column_types came from, for error messages ("the reference").
  std::string types_from = "the schema";
};

// Parses CSV text. `source` names it in error messages (e.g. the file name
// or "upload").
absl::StatusOr<Dataset> ParseCsv(std::string_view text, std::string source,
                                 const CsvOptions& options);

// Reads and parses a file. Errors are NotFound / PermissionDenied /
// InvalidArgument with the path in the message.
absl::StatusOr<Dataset> ReadCsvFile(const std::string& path,
                                    const CsvOptions& options);

}  // namespace aiq::data

#endif  // AIQ_EXPORTER_DATA_CSV_H_
