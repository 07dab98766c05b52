#include "exporter/data/csv.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "exporter/util/absl_compat.h"

namespace aiq::data {
namespace {

// Splits the input into records of fields. Unquoted fields and quoted fields
// without "" escapes are views into the input; only escaped fields are
// copied (into per-field scratch strings reused across records).
class Tokenizer {
 public:
  enum class Error { kNone, kUnterminatedQuote, kCharAfterQuote };

  explicit Tokenizer(std::string_view text)
      : p_(text.data()), end_(text.data() + text.size()) {
    if (text.starts_with("\xEF\xBB\xBF")) p_ += 3;
  }

  // Reads the next record into `fields` (views valid until the next call).
  // Returns false at the end of the input or on an error (see error()).
  bool Next(std::vector<std::string_view>& fields, bool skip_blank_lines) {
    fields.clear();
    if (skip_blank_lines) {
      while (p_ < end_ && (*p_ == '\n' || *p_ == '\r')) {
        if (*p_ == '\n' || (p_ + 1 < end_ && p_[1] != '\n')) ++line_;
        ++p_;
      }
    }
    if (p_ >= end_) return false;
    record_line_ = line_;
    for (;;) {
      if (p_ < end_ && *p_ == '"') {
        if (!ReadQuoted(fields)) return false;
        if (p_ == end_) return true;
        if (*p_ == ',') {
          ++p_;
          continue;
        }
        if (EndOfLine()) return true;
        error_ = Error::kCharAfterQuote;
        error_field_ = fields.size() - 1;
        error_line_ = line_;
        return false;
      }
      const char* start = p_;
      while (p_ < end_ && *p_ != ',' && *p_ != '\n' && *p_ != '\r') ++p_;
      fields.emplace_back(start, static_cast<size_t>(p_ - start));
      if (p_ == end_) return true;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      EndOfLine();
      return true;
    }
  }

  // Lines are 1-based; a record spans several lines when a quoted field
  // holds line breaks.
  int record_line() const { return record_line_; }
  Error error() const { return error_; }
  size_t error_field() const { return error_field_; }
  int error_line() const { return error_line_; }
  size_t consumed(std::string_view text) const {
    return static_cast<size_t>(p_ - text.data());
  }

 private:
  // At '\n', '\r\n' or a lone '\r': consumes it and returns true.
  bool EndOfLine() {
    if (*p_ == '\n') {
      ++p_;
    } else if (*p_ == '\r') {
      ++p_;
      if (p_ < end_ && *p_ == '\n') ++p_;
    } else {
      return false;
    }
    ++line_;
    return true;
  }

  bool ReadQuoted(std::vector<std::string_view>& fields) {
    const int start_line = line_;
    const char* start = ++p_;
    bool escaped = false;
    for (;;) {
      const void* q = std::memchr(p_, '"', static_cast<size_t>(end_ - p_));
      const char* quote = static_cast<const char*>(q);
      if (quote == nullptr) {
        error_ = Error::kUnterminatedQuote;
        error_field_ = fields.size();
        error_line_ = start_line;
        return false;
      }
      line_ += static_cast<int>(std::count(p_, quote, '\n'));
      if (quote + 1 < end_ && quote[1] == '"') {
        escaped = true;
        p_ = quote + 2;
        continue;
      }
      p_ = quote + 1;
      std::string_view raw(start, static_cast<size_t>(quote - start));
      if (!escaped) {
        fields.push_back(raw);
        return true;
      }
      if (scratch_.size() <= fields.size()) scratch_.resize(fields.size() + 1);
      std::string& s = scratch_[fields.size()];
      s.clear();
      for (size_t i = 0; i < raw.size(); ++i) {
        s.push_back(raw[i]);
        if (raw[i] == '"') ++i;  // "" -> "
      }
      fields.push_back(s);
      return true;
    }
  }

  const char* p_;
  const char* end_;
  int line_ = 1;
  int record_line_ = 1;
  Error error_ = Error::kNone;
  size_t error_field_ = 0;
  int error_line_ = 0;
  // A deque: growing it keeps the strings (and the views of them handed
  // out for this record) where they are; a vector moved them, and short
  // strings live inside the element (found by fuzz/csv_fuzzer).
  std::deque<std::string> scratch_;
};

std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// `s` trimmed and non-empty. True when it is a finite number.
bool ParseFinite(std::string_view s, double& out) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(out);
}

// For messages: the value, shortened.
std::string Quote(std::string_view v) {
  // (Debian's abseil has its own string_view, so no StrCat here.)
  if (v.size() > 40) return "\"" + std::string(v.substr(0, 37)) + "...\"";
  return "\"" + std::string(v) + "\"";
}

struct ColumnBuilder {
  Column column;
  bool fixed = false;
  // Turned categorical after numeric rows: rebuilt by a second pass.
  bool rescan = false;
  absl::flat_hash_map<std::string, int32_t> ids;

  void AddCategory(std::string_view value) {
    if (TrimBlanks(value).empty()) {
      column.codes.push_back(kMissingCode);
      ++column.missing;
      return;
    }
    auto it = ids.find(util::ToAbsl(value));
    if (it == ids.end()) {
      const auto id = static_cast<int32_t>(column.categories.size());
      it = ids.emplace(std::string(value), id).first;
      column.categories.emplace_back(value);
    }
    column.codes.push_back(it->second);
  }
};

absl::Status TokenizerError(const Tokenizer& tok, const std::string& source,
                            const std::vector<std::string>* header) {
  std::string where = absl::StrCat(source, ":", tok.error_line(), ": ");
  if (header != nullptr && tok.error_field() < header->size()) {
    absl::StrAppend(&where, "column \"", (*header)[tok.error_field()], "\": ");
  }
  if (tok.error() == Tokenizer::Error::kUnterminatedQuote) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, "quoted field is never closed"));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      where,
      "unexpected character after a closing quote (a quote inside a "
      "quoted field must be doubled: \"\")"));
}

absl::Status FieldCountError(const std::string& source, int line,
                             const std::vector<std::string>& header,
                             size_t got) {
  std::string column;
  if (got < header.size()) {
    column = absl::StrCat("column \"", header[got], "\": ");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      source, ":", line, ": ", column, "row has ", got,
      got == 1 ? " field" : " fields", ", header has ", header.size()));
}

}  // namespace

absl::StatusOr<Dataset> ParseCsv(std::string_view text, std::string source,
                                 const CsvOptions& options) {
  Tokenizer tok(text);
  std::vector<std::string_view> fields;
  if (!tok.Next(fields, /*skip_blank_lines=*/true)) {
    if (tok.error() != Tokenizer::Error::kNone) {
      return TokenizerError(tok, source, nullptr);
    }
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": empty, expected a header row"));
  }
  const size_t header_bytes = tok.consumed(text);

  std::vector<std::string> header;
  header.reserve(fields.size());
  absl::flat_hash_map<std::string, size_t> seen;
  for (size_t i = 0; i < fields.size(); ++i) {
    std::string name(TrimBlanks(fields[i]));
    // pandas writes its index column with an empty name.
    if (name.empty()) name = absl::StrCat("unnamed_", i + 1);
    if (!seen.emplace(name, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ":", tok.record_line(), ": column \"", name,
                       "\" appears twice in the header"));
    }
    header.push_back(std::move(name));
  }
  const size_t n = header.size();

  // Columns are reserved for a first guess from the header's length, then
  // re-reserved from the bytes per row of the first kSampleRows rows, so big
  // files neither regrow vectors nor end far over capacity.
  constexpr size_t kSampleRows = 1024;
  const size_t rows_hint = std::min<size_t>(
      text.size() / std::max<size_t>(header_bytes, 8) + 16, kSampleRows * 4);
  std::vector<ColumnBuilder> builders(n);
  for (size_t i = 0; i < n; ++i) {
    Column& c = builders[i].column;
    c.name = header[i];
    auto it = options.column_types.find(header[i]);
    if (it != options.column_types.end()) {
      c.type = stats::IsNumeric(it->second) ? stats::FeatureKind::kNumeric
                                            : stats::FeatureKind::kCategorical;
      builders[i].fixed = true;
    }
    if (c.type == stats::FeatureKind::kNumeric) {
      c.numbers.reserve(rows_hint);
    } else {
      c.codes.reserve(rows_hint);
    }
  }

  const double kNaN = std::numeric_limits<double>::quiet_NaN();
  const bool skip_blank = n > 1;
  size_t rows = 0;
  bool any_rescan = false;
  while (tok.Next(fields, skip_blank)) {
    if (fields.size() != n) {
      return FieldCountError(source, tok.record_line(), header, fields.size());
    }
    for (size_t i = 0; i < n; ++i) {
      ColumnBuilder& b = builders[i];
      if (b.rescan) continue;
      Column& c = b.column;
      if (c.type == stats::FeatureKind::kCategorical) {
        b.AddCategory(fields[i]);
        continue;
      }
      std::string_view v = TrimBlanks(fields[i]);
      double x;
      if (v.empty()) {
        c.numbers.push_back(kNaN);
        ++c.missing;
      } else if (ParseFinite(v, x)) {
        c.numbers.push_back(x);
      } else if (b.fixed) {
        return absl::InvalidArgumentError(absl::StrCat(
            source, ":", tok.record_line(), ": column \"", c.name, "\": ",
            Quote(v), " is not a finite number (the column is numeric in ",
            options.types_from, ")"));
      } else {
        // Not numeric after all. Earlier rows were parsed as numbers and
        // their text is gone, so a second pass rebuilds the column.
        c.type = stats::FeatureKind::kCategorical;
        c.numbers = {};
        c.missing = 0;
        if (rows == 0) {
          b.AddCategory(fields[i]);
        } else {
          b.rescan = any_rescan = true;
        }
      }
    }
    if (++rows == kSampleRows) {
      const double per_row =
          static_cast<double>(tok.consumed(text) - header_bytes) /
          static_cast<double>(rows);
      const auto estimate = static_cast<size_t>(
          1.02 * static_cast<double>(text.size() - header_bytes) / per_row +
          64);
      for (ColumnBuilder& b : builders) {
        if (b.column.type == stats::FeatureKind::kNumeric) {
          b.column.numbers.reserve(estimate);
        } else {
          b.column.codes.reserve(estimate);
        }
      }
    }
  }
  if (tok.error() != Tokenizer::Error::kNone) {
    return TokenizerError(tok, source, &header);
  }

  if (any_rescan) {
    Tokenizer again(text);
    again.Next(fields, true);  // header
    while (again.Next(fields, skip_blank)) {
      for (size_t i = 0; i < n; ++i) {
        if (builders[i].rescan) builders[i].AddCategory(fields[i]);
      }
    }
  }

  Dataset ds(std::move(source));
  for (ColumnBuilder& b : builders) {
    // Copying a column to trim it only pays when it is far over capacity.
    const auto trim = [](auto& v) {
      if (v.capacity() > v.size() + v.size() / 4 + 64) v.shrink_to_fit();
    };
    trim(b.column.numbers);
    trim(b.column.codes);
    ds.AddColumn(std::move(b.column));
  }
  return ds;
}

absl::StatusOr<Dataset> ReadCsvFile(const std::string& path,
                                    const CsvOptions& options) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    std::string msg = absl::StrCat(path, ": cannot open: ", std::strerror(e));
    if (e == ENOENT) return absl::NotFoundError(msg);
    if (e == EACCES) return absl::PermissionDeniedError(msg);
    return absl::InvalidArgumentError(msg);
  }
  absl::Cleanup close_fd = [fd] { ::close(fd); };
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot stat: ", std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  }
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    const auto size = static_cast<size_t>(st.st_size);
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
      absl::Cleanup unmap = [map, size] { ::munmap(map, size); };
      ::madvise(map, size, MADV_SEQUENTIAL);
      return ParseCsv(std::string_view(static_cast<const char*>(map), size),
                      path, options);
    }
  }
  // Pipes, process substitution, or mmap refused: read it all.
  std::string text;
  char buf[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, buf, sizeof(buf));
    if (got < 0) {
      if (errno == EINTR) continue;
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": read failed: ", std::strerror(errno)));
    }
    if (got == 0) break;
    text.append(buf, static_cast<size_t>(got));
  }
  return ParseCsv(text, path, options);
}

}  // namespace aiq::data
