#include "exporter/util/enum_names.h"

#include <gtest/gtest.h>

namespace aiq::util {
namespace {

enum class Shape { kSquare, kRoundEdge };
constexpr auto kShapeNames = MakeEnumNames<Shape>({
    {Shape::kSquare, "square"},
    {Shape::kRoundEdge, "round_edge"},
});

TEST(EnumNamesTest, NameParseAndList) {
  EXPECT_STREQ(kShapeNames.Name(Shape::kRoundEdge), "round_edge");
  EXPECT_STREQ(kShapeNames.Name(static_cast<Shape>(7)), "?");
  EXPECT_EQ(kShapeNames.Parse("square"), Shape::kSquare);
  EXPECT_EQ(kShapeNames.Parse("Square"), std::nullopt);
  EXPECT_EQ(kShapeNames.Parse(""), std::nullopt);
  EXPECT_EQ(kShapeNames.List(), "square, round_edge");
  EXPECT_EQ(kShapeNames.List(" | "), "square | round_edge");
  static_assert(kShapeNames.Parse("round_edge") == Shape::kRoundEdge);
  static_assert(kShapeNames.size() == 2);
}

TEST(EnumNamesTest, EveryEntryRoundTrips) {
  for (const EnumName<Shape>& e : kShapeNames.entries()) {
    EXPECT_EQ(kShapeNames.Parse(kShapeNames.Name(e.value)), e.value);
  }
}

}  // namespace
}  // namespace aiq::util
