#include "exporter/config/yaml_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace aiq::config {
namespace {

enum class Shape { kSquare, kRoundEdge };
constexpr auto kShapeNames = util::MakeEnumNames<Shape>({
    {Shape::kSquare, "square"},
    {Shape::kRoundEdge, "round_edge"},
});

std::vector<std::string> Strings(const std::vector<ConfigError>& errors) {
  std::vector<std::string> out;
  for (const ConfigError& e : errors) out.push_back(e.ToString());
  return out;
}

TEST(YamlReaderTest, ReadsDeclareTheKeysAndEveryOtherKeyIsUnknown) {
  std::vector<ConfigError> errors;
  YamlReader r("t.yaml", errors);
  std::optional<YAML::Node> root =
      r.Load("top:\n  a: hello\n  n: 7\n  typo: 1\n  shape: round_edge\n");
  ASSERT_TRUE(root.has_value());
  std::string a;
  int n = 0;
  Shape shape = Shape::kSquare;
  {
    YamlSection s(r, (*root)["top"], "top");
    s.String("a", a);
    s.Integer("n", n, 0, 10);
    s.Enum("shape", kShapeNames, shape);
    s.Get("declared_but_absent");
    EXPECT_TRUE(errors.empty());  // reported when the section ends
  }
  EXPECT_EQ(a, "hello");
  EXPECT_EQ(n, 7);
  EXPECT_EQ(shape, Shape::kRoundEdge);
  EXPECT_EQ(Strings(errors),
            std::vector<std::string>{
                "t.yaml:4: top.typo: unknown key (expected one of: a, n, "
                "shape, declared_but_absent)"});
}

TEST(YamlReaderTest, CollectsEveryErrorWithLineAndLeavesDefaults) {
  std::vector<ConfigError> errors;
  YamlReader r("t.yaml", errors);
  std::optional<YAML::Node> root = r.Load(
      "x: 11\ny: abc\nshape: oval\nttl: soon\nlist: [a, a, '']\nd: 0.5\n");
  ASSERT_TRUE(root.has_value());
  int x = 3;
  double y = 1;
  double d = 0;
  Shape shape = Shape::kSquare;
  absl::Duration ttl = absl::Hours(1);
  std::vector<std::string> list;
  {
    YamlSection s(r, *root, "");
    s.Integer("x", x, 0, 10);
    s.Double("y", y, 0, 1);
    s.Enum("shape", kShapeNames, shape);
    s.Duration("ttl", ttl);
    s.StringList("list", list);
    s.Double("d", d, 0, 1);
  }
  r.SortErrorsByLine();
  EXPECT_EQ(Strings(errors),
            (std::vector<std::string>{
                "t.yaml:1: x: must be between 0 and 10",
                "t.yaml:2: y: must be a finite number",
                "t.yaml:3: shape: must be one of square, round_edge",
                "t.yaml:4: ttl: must be a positive duration such as 90s, 15m, "
                "1h or 7d",
                "t.yaml:5: list[1]: duplicate \"a\"",
                "t.yaml:5: list[2]: must be a non-empty string",
            }));
  EXPECT_EQ(r.error_count(), 6u);
  EXPECT_EQ(x, 3);
  EXPECT_EQ(y, 1);
  EXPECT_EQ(shape, Shape::kSquare);
  EXPECT_EQ(ttl, absl::Hours(1));
  EXPECT_EQ(list, std::vector<std::string>{"a"});
  EXPECT_EQ(d, 0.5);
}

TEST(YamlReaderTest, SyntaxErrorHasALine) {
  std::vector<ConfigError> errors;
  YamlReader r("t.yaml", errors);
  EXPECT_FALSE(r.Load("a: 1\nb: [\n").has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].source, "t.yaml");
  EXPECT_GT(errors[0].line, 1);
}

TEST(YamlReaderTest, ErrorCountIsPerReader) {
  std::vector<ConfigError> errors = {{"other.yaml", 1, "", "earlier"}};
  YamlReader r("t.yaml", errors);
  EXPECT_EQ(r.error_count(), 0u);
  std::optional<YAML::Node> root = r.Load("k: v\n");
  ASSERT_TRUE(root.has_value());
  r.Error((*root)["k"], "k", "bad");
  EXPECT_EQ(r.error_count(), 1u);
  EXPECT_EQ(JoinErrors(errors).message(),
            "other.yaml:1: earlier\nt.yaml:1: k: bad");
  EXPECT_TRUE(JoinErrors({}).ok());
}

}  // namespace
}  // namespace aiq::config
