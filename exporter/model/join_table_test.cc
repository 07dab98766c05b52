#include "exporter/model/join_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <random>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

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

// Many inserts, lookups, labels and expiries against a plain model of the
// table (ids in insertion order), so the index's rehashes, erasures and
// sequence numbers are exercised far past the table's capacity.
TEST(JoinTableTest, ChurnMatchesAPlainModel) {
  constexpr int64_t kCapacity = 1000;
  InMemoryJoinTable t(kCapacity, absl::Minutes(10));
  struct Want {
    std::string id;
    absl::Time received;
    int version;
    bool labeled;
  };
  std::deque<Want> want;
  int64_t evicted_unlabeled = 0;
  const auto evict_front = [&] {
    if (!want.front().labeled) ++evicted_unlabeled;
    want.pop_front();
  };
  std::mt19937_64 rng(11);
  absl::Time now = kT0;
  for (int i = 0; i < 50'000; ++i) {
    now += absl::Milliseconds(static_cast<int64_t>(rng() % 1000));
    const int op = static_cast<int>(rng() % 10);
    // Ids repeat (a duplicate insert, a label for an evicted prediction).
    const std::string id = absl::StrCat("req-", rng() % 20'000);
    auto it = std::find_if(want.begin(), want.end(),
                           [&](const Want& w) { return w.id == id; });
    if (op < 6) {
      JoinEntry e;
      e.version = i;
      e.probabilities = {0.25, 0.75};
      ASSERT_EQ(t.Insert(id, e, now), it == want.end()) << i;
      if (it == want.end()) {
        want.push_back({id, now, i, false});
        while (static_cast<int64_t>(want.size()) > kCapacity) evict_front();
      }
    } else if (op < 9) {
      const JoinEntry* e = t.Find(id);
      ASSERT_EQ(e != nullptr, it != want.end()) << i;
      if (e != nullptr) {
        EXPECT_EQ(e->version, it->version);
        EXPECT_EQ(e->labeled, it->labeled);
        EXPECT_EQ(e->probabilities, (std::vector<double>{0.25, 0.75}));
        t.MarkLabeled(id);
        it->labeled = true;
      }
    } else {
      t.Expire(now);
      while (!want.empty() && want.front().received < now - absl::Minutes(10)) {
        evict_front();
      }
    }
    ASSERT_EQ(t.size(), static_cast<int64_t>(want.size())) << i;
  }
  int64_t labeled = 0;
  for (const Want& w : want) labeled += w.labeled;
  EXPECT_EQ(t.unlabeled(), t.size() - labeled);
  EXPECT_EQ(t.evicted_unlabeled(), evicted_unlabeled);
  EXPECT_GT(evicted_unlabeled, 1000);  // both evictions happened, many times

  // The encoding keeps every entry, its order and the counters.
  util::BinaryWriter w;
  t.EncodeTo(w);
  InMemoryJoinTable copy(kCapacity, absl::Minutes(10));
  util::BinaryReader r(w.data());
  ASSERT_TRUE(copy.DecodeFrom(r).ok());
  EXPECT_EQ(copy.size(), t.size());
  EXPECT_EQ(copy.unlabeled(), t.unlabeled());
  EXPECT_EQ(copy.evicted_unlabeled(), t.evicted_unlabeled());
  for (const Want& x : want) {
    const JoinEntry* e = copy.Find(x.id);
    ASSERT_NE(e, nullptr) << x.id;
    EXPECT_EQ(e->version, x.version);
  }
  // Oldest first: one more insert evicts want.front() and nothing else.
  if (copy.size() == kCapacity) {
    ASSERT_TRUE(copy.Insert("fresh", {}, now));
    EXPECT_EQ(copy.Find(want.front().id), nullptr);
    EXPECT_NE(copy.Find(want[1].id), nullptr);
  }
  // A moved table keeps working (the index reads the ring through a
  // pointer).
  InMemoryJoinTable moved = std::move(copy);
  EXPECT_NE(moved.Find(want.back().id), nullptr);
  EXPECT_TRUE(moved.Insert("after-move", {}, now));
  EXPECT_NE(moved.Find("after-move"), nullptr);
}

TEST(JoinTableTest, DecodeRejectsADuplicateId) {
  // A table's encoding with its one entry twice: count 2, entry, entry.
  util::BinaryWriter w2;
  w2.U8(static_cast<uint8_t>(JoinTableEncoding::kInMemory));
  w2.Signed(0);
  w2.Varint(2);
  for (int i = 0; i < 2; ++i) {
    w2.String("a");
    w2.Time(kT0);
    JoinEntry{}.EncodeTo(w2);
  }
  InMemoryJoinTable u(10, absl::Hours(1));
  u.Insert("kept", {}, kT0);
  util::BinaryReader r(w2.data());
  EXPECT_FALSE(u.DecodeFrom(r).ok());
  EXPECT_EQ(u.size(), 1);  // unchanged
  EXPECT_NE(u.Find("kept"), nullptr);
}

}  // namespace
}  // namespace aiq::model
