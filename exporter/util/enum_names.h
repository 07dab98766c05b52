// One table per enum mapping each value to its wire name (config keys and
// values, metric label values, JSON fields), so that printing, parsing and
// the "must be one of ..." list of an error message cannot drift apart.
//
// Example:
//   enum class Color { kRed, kDarkBlue };
//   static constexpr auto kColorNames = aiq::util::MakeEnumNames<Color>({
//       {Color::kRed, "red"},
//       {Color::kDarkBlue, "dark_blue"},
//   });
//   const char* n = kColorNames.Name(Color::kDarkBlue);  // "dark_blue"
//   std::optional<Color> c = kColorNames.Parse("red");   // kRed
//   std::string list = kColorNames.List();  // "red, dark_blue"
//
// MakeEnumNames rejects a table with a repeated value or name at compile
// time (when the table is constexpr).
#ifndef AIQ_EXPORTER_UTIL_ENUM_NAMES_H_
#define AIQ_EXPORTER_UTIL_ENUM_NAMES_H_

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace aiq::util {

template <typename E>
struct EnumName {
  E value;
  const char* name;
};

template <typename E, size_t N>
class EnumNames {
 public:
  constexpr explicit EnumNames(const std::array<EnumName<E>, N>& entries)
      : entries_(entries) {}

  // The value's name; "?" for a value missing from the table (a bug: every
  // table lists every enumerator, which its tests check).
  constexpr const char* Name(E value) const {
    for (const EnumName<E>& e : entries_) {
      if (e.value == value) return e.name;
    }
    return "?";
  }

  // Exact, case-sensitive match of a name.
  constexpr std::optional<E> Parse(std::string_view name) const {
    for (const EnumName<E>& e : entries_) {
      if (name == e.name) return e.value;
    }
    return std::nullopt;
  }

  // The names in table order joined by `separator`, for error messages.
  std::string List(std::string_view separator = ", ") const {
    std::string out;
    for (size_t i = 0; i < N; ++i) {
      if (i > 0) out.append(separator);
      out.append(entries_[i].name);
    }
    return out;
  }

  constexpr const std::array<EnumName<E>, N>& entries() const {
    return entries_;
  }
  static constexpr size_t size() { return N; }

 private:
  std::array<EnumName<E>, N> entries_;
};

namespace detail {
// Not constexpr: calling it while evaluating a constexpr table is a compile
// error, which is the point.
inline void EnumTableHasDuplicate() {}

constexpr bool SameName(const char* a, const char* b) {
  return std::string_view(a) == std::string_view(b);
}
}  // namespace detail

template <typename E, size_t N>
constexpr EnumNames<E, N> MakeEnumNames(const EnumName<E> (&entries)[N]) {
  std::array<EnumName<E>, N> table{};
  for (size_t i = 0; i < N; ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (entries[i].value == entries[j].value ||
          detail::SameName(entries[i].name, entries[j].name)) {
        detail::EnumTableHasDuplicate();
      }
    }
    table[i] = entries[i];
  }
  return EnumNames<E, N>(table);
}

}  // namespace aiq::util

#endif  // AIQ_EXPORTER_UTIL_ENUM_NAMES_H_
