#include "exporter/model/bounded_interner.h"

#include <gtest/gtest.h>

namespace aiq::model {
namespace {

using Overflow = BoundedInterner::Overflow;

TEST(BoundedInternerTest, LearnsUpToCapThenRejects) {
  BoundedInterner v({}, 2, Overflow::kReject);
  EXPECT_EQ(v.Intern("a"), 0);
  EXPECT_EQ(v.Intern("b"), 1);
  EXPECT_EQ(v.Intern("a"), 0);
  EXPECT_FALSE(v.CanIntern("c"));
  EXPECT_EQ(v.Intern("c"), BoundedInterner::kRejected);
  EXPECT_EQ(v.size(), 2);
}

TEST(BoundedInternerTest, FoldsIntoOtherPastTheCap) {
  BoundedInterner r({}, 2, Overflow::kFoldIntoOther);
  r.Intern("x");
  r.Intern("y");
  EXPECT_EQ(r.Intern("z"), 2);
  EXPECT_EQ(r.Intern("w"), 2);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"x", "y", "other"}));
  for (int i = 0; i < 1000; ++i) r.Intern("n" + std::to_string(i));
  EXPECT_EQ(r.size(), 3);  // bounded whatever the traffic
}

TEST(BoundedInternerTest, DeclaredNamesOnly) {
  BoundedInterner c({"a", "b"}, 100, Overflow::kReject);
  EXPECT_EQ(c.Intern("b"), 1);
  EXPECT_EQ(c.Intern("c"), BoundedInterner::kRejected);
  BoundedInterner s({"pii"}, 100, Overflow::kFoldIntoOther);
  EXPECT_EQ(s.Intern("toxicity"), 1);
  EXPECT_EQ(s.names(), (std::vector<std::string>{"pii", "other"}));
}

TEST(BoundedInternerTest, TrafficNamedOtherIsReused) {
  BoundedInterner r({}, 2, Overflow::kFoldIntoOther);
  r.Intern("other");
  r.Intern("x");
  EXPECT_EQ(r.Intern("y"), 0);
  EXPECT_EQ(r.size(), 2);
}

}  // namespace
}  // namespace aiq::model
