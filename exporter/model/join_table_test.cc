#include "exporter/model/join_table.h"

#include <gtest/gtest.h>

namespace aiq::model {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST(JoinTableTest, InsertFindDuplicate) {
  InMemoryJoinTable t(10, absl::Hours(1));
  JoinEntry entry;
  entry.version = 3;
  EXPECT_TRUE(t.Insert("a", entry, kT0));
  EXPECT_FALSE(t.Insert("a", JoinEntry{}, kT0));
  ASSERT_NE(t.Find("a"), nullptr);
  EXPECT_EQ(t.Find("a")->version, 3);
  EXPECT_EQ(t.Find("b"), nullptr);
}

TEST(JoinTableTest, TtlExpiryCountsOnlyUnlabeled) {
  InMemoryJoinTable t(10, absl::Hours(1));
  t.Insert("a", {}, kT0);
  t.Insert("b", {}, kT0 + absl::Minutes(30));
  t.MarkLabeled("a");
  EXPECT_EQ(t.unlabeled(), 1);
  t.Expire(kT0 + absl::Minutes(61));
  EXPECT_EQ(t.size(), 1);
  EXPECT_EQ(t.evicted_unlabeled(), 0);
  t.Expire(kT0 + absl::Minutes(91));
  EXPECT_EQ(t.size(), 0);
  EXPECT_EQ(t.evicted_unlabeled(), 1);
}

TEST(JoinTableTest, CapacityEvictsOldest) {
  InMemoryJoinTable t(3, absl::Hours(1));
  for (int i = 0; i < 5; ++i) t.Insert(std::to_string(i), {}, kT0);
  EXPECT_EQ(t.size(), 3);
  EXPECT_EQ(t.evicted_unlabeled(), 2);
  EXPECT_EQ(t.Find("0"), nullptr);
  EXPECT_NE(t.Find("4"), nullptr);
}

}  // namespace
}  // namespace aiq::model
