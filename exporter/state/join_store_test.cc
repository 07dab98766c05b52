#include "exporter/state/join_store.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "exporter/metrics/process_metrics.h"
#include "exporter/util/binary_codec.h"
#include "gtest/gtest.h"

namespace aiq::state {
namespace {

namespace fs = std::filesystem;

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

model::JoinEntry Entry(int version, double value) {
  model::JoinEntry e;
  e.version = version;
  e.timestamp = kT0 + absl::Seconds(version);
  e.predicted_class = version % 3;
  e.predicted_value = value;
  e.probabilities = {value, 1 - value};
  e.segment = {version, -1};
  return e;
}

void ExpectSameEntry(const model::JoinEntry* a, const model::JoinEntry* b,
                     const std::string& id) {
  ASSERT_EQ(a == nullptr, b == nullptr) << id;
  if (a == nullptr) return;
  EXPECT_EQ(a->version, b->version) << id;
  EXPECT_EQ(a->timestamp, b->timestamp) << id;
  EXPECT_EQ(a->labeled, b->labeled) << id;
  EXPECT_EQ(a->predicted_class, b->predicted_class) << id;
  EXPECT_EQ(a->predicted_value, b->predicted_value) << id;
  EXPECT_EQ(a->confidence, b->confidence) << id;
  EXPECT_EQ(a->probabilities, b->probabilities) << id;
  EXPECT_EQ(a->segment, b->segment) << id;
}

std::string Encoded(const model::JoinTable& t) {
  util::BinaryWriter w;
  t.EncodeTo(w);
  return w.Release();
}

absl::Status Decode(model::JoinTable& t, const std::string& bytes) {
  util::BinaryReader r(bytes);
  absl::Status st = t.DecodeFrom(r);
  return st.ok() ? r.Finish() : st;
}

int64_t RssBytes() {
  const std::optional<metrics::ProcessStats> s = metrics::ReadSelfStats();
  return s ? static_cast<int64_t>(s->resident_bytes) : 0;
}

class JoinStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("aiq_join_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<JoinStore> OpenStore(int64_t memory = 16 << 20) {
    absl::StatusOr<std::shared_ptr<JoinStore>> s =
        JoinStore::Open(dir_ + "/join", memory);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : nullptr;
  }

  std::string dir_;
};

// The table on disk behaves exactly as the one in memory: the same random
// sequence of inserts, duplicates, labels, lookups, prefetched batches,
// TTL expiries and capacity evictions gives the same answers and counts.
// With a capacity of 5, batches of 20 inserts evict entries the same batch
// inserted (still held back).
// `table`: the disk table to use (default: a new one).
void ExpectBehavesLikeTheInMemoryTable(JoinStore& store, int64_t capacity,
                                       model::JoinTable* table = nullptr) {
  const absl::Duration ttl = absl::Minutes(10);
  std::unique_ptr<model::JoinTable> owned;
  if (table == nullptr) {
    owned = store.TableFor("m" + std::to_string(capacity), capacity, ttl);
    table = owned.get();
  }
  model::JoinTable* const disk = table;
  model::InMemoryJoinTable memory(capacity, ttl);
  std::mt19937_64 rng(7);
  absl::Time now = kT0;
  int next_id = 0;
  // Any id seen (or a new one), or half the time one of the newest, which
  // are likely still in the table (and, with a small capacity, evicted by
  // the same batch that labels them).
  auto random_id = [&] {
    if (next_id == 0) return std::string("id-0");
    const uint64_t recent = static_cast<uint64_t>(capacity) + 3;
    if (rng() % 2 && static_cast<uint64_t>(next_id) > recent) {
      return "id-" + std::to_string(next_id - 1 - rng() % recent);
    }
    return "id-" + std::to_string(rng() % (next_id + 5));
  };
  for (int step = 0; step < 20000; ++step) {
    now += absl::Milliseconds(static_cast<int64_t>(rng() % 200));
    const int op = static_cast<int>(rng() % 10);
    if (op < 5) {
      const std::string id =
          rng() % 8 == 0 ? random_id() : "id-" + std::to_string(next_id++);
      const model::JoinEntry e = Entry(step % 7, (step % 100) / 100.0);
      ASSERT_EQ(disk->Insert(id, e, now), memory.Insert(id, e, now)) << id;
    } else if (op < 7) {
      const std::string id = random_id();
      ExpectSameEntry(disk->Find(id), memory.Find(id), id);
      disk->MarkLabeled(id);
      memory.MarkLabeled(id);
    } else if (op < 8) {
      // One request: existing ids looked up and labeled, new ones
      // inserted (and labeled), all prefetched together.
      // Now and then more than 256 ids, which the table reads in two
      // halves at once.
      const int n = rng() % 10 == 0 ? 150 : 20;
      std::vector<std::string> ids, fresh;
      for (int i = 0; i < n; ++i) {
        ids.push_back(random_id());
        fresh.push_back("id-" + std::to_string(next_id++));
      }
      std::vector<std::string_view> views(ids.begin(), ids.end());
      views.insert(views.end(), fresh.begin(), fresh.end());
      // Warmed outside the batch, as the app does before its commit lock;
      // sometimes a write comes between (what was warmed is then stale).
      if (rng() % 2) disk->Warm(views);
      if (rng() % 2) {
        ASSERT_EQ(disk->Insert(fresh[0], Entry(2, 0.5), now),
                  memory.Insert(fresh[0], Entry(2, 0.5), now));
      }
      disk->Prefetch(views);
      for (int i = 0; i < n; ++i) {
        const std::string& id = ids[i];
        ExpectSameEntry(disk->Find(id), memory.Find(id), id);
        if (rng() % 2) {
          disk->MarkLabeled(id);
          memory.MarkLabeled(id);
        }
        ASSERT_EQ(disk->Insert(fresh[i], Entry(1, 0.5), now),
                  memory.Insert(fresh[i], Entry(1, 0.5), now));
        if (rng() % 3 == 0) {
          disk->MarkLabeled(fresh[i]);
          memory.MarkLabeled(fresh[i]);
        }
        ExpectSameEntry(disk->Find(id), memory.Find(id), id);
        ASSERT_EQ(disk->size(), memory.size()) << step;
        ASSERT_EQ(disk->unlabeled(), memory.unlabeled()) << step;
      }
      disk->Prefetch({});
    } else {
      disk->Expire(now);
      memory.Expire(now);
    }
    ASSERT_EQ(disk->size(), memory.size()) << step;
    ASSERT_EQ(disk->unlabeled(), memory.unlabeled()) << step;
    ASSERT_EQ(disk->evicted_unlabeled(), memory.evicted_unlabeled()) << step;
  }
  EXPECT_GT(memory.evicted_unlabeled(), 1000);  // both bounds were exercised
  EXPECT_EQ(disk->capacity(), capacity);
  for (int i = 0; i < next_id; ++i) {
    const std::string id = "id-" + std::to_string(i);
    ExpectSameEntry(disk->Find(id), memory.Find(id), id);
  }
  EXPECT_TRUE(store.Health().ok());
}

TEST_F(JoinStoreTest, BehavesLikeTheInMemoryTable) {
  std::shared_ptr<JoinStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  ExpectBehavesLikeTheInMemoryTable(*store, 500);
}

// Warm runs without the owner's lock, concurrently with everything else
// (the app warms each request before its commit lock): what a racing
// warm-up read must never be used once stale.
TEST_F(JoinStoreTest, BehavesLikeTheInMemoryTableWhileWarmedConcurrently) {
  std::shared_ptr<JoinStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::unique_ptr<model::JoinTable> table =
      store->TableFor("m5", 5, absl::Minutes(10));
  std::atomic<bool> stop{false};
  std::thread warmer([&] {
    std::mt19937_64 rng(3);
    std::vector<std::string> ids(40);
    while (!stop.load()) {
      for (std::string& id : ids) id = "id-" + std::to_string(rng() % 20000);
      std::vector<std::string_view> views(ids.begin(), ids.end());
      table->Warm(views);
    }
  });
  // The same table name as the differential run's, so the warm-ups hit it.
  ExpectBehavesLikeTheInMemoryTable(*store, 5, table.get());
  stop.store(true);
  warmer.join();
}

TEST_F(JoinStoreTest, BehavesLikeTheInMemoryTableWhenBatchesOverflowIt) {
  std::shared_ptr<JoinStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  ExpectBehavesLikeTheInMemoryTable(*store, 5);
}

// A checkpoint holds the tables as they were when it was taken; restoring
// it discards what was written after, and the counters decode onto it.
TEST_F(JoinStoreTest, RestoreReturnsToTheCheckpoint) {
  const std::string checkpoint = JoinCheckpointPath(dir_, 7);
  EXPECT_EQ(checkpoint, dir_ + "/join-7");
  std::string counters;
  {
    std::shared_ptr<JoinStore> store = OpenStore();
    std::unique_ptr<model::JoinTable> t =
        store->TableFor("m", 100, absl::Hours(1));
    for (int i = 0; i < 50; ++i) {
      t->Insert("a" + std::to_string(i), Entry(i, 0.25), kT0);
    }
    t->MarkLabeled("a3");
    counters = Encoded(*t);
    ASSERT_TRUE(store->Checkpoint(checkpoint).ok());
    for (int i = 0; i < 80; ++i) {
      t->Insert("b" + std::to_string(i), Entry(i, 0.5), kT0);
    }
    t->MarkLabeled("a4");
    EXPECT_EQ(t->size(), 100);
  }
  std::shared_ptr<JoinStore> store = OpenStore();
  std::unique_ptr<model::JoinTable> t =
      store->TableFor("m", 100, absl::Hours(1));
  ASSERT_TRUE(store->Restore(checkpoint).ok());
  ASSERT_TRUE(Decode(*t, counters).ok());
  ASSERT_TRUE(store->DropUnclaimed().ok());
  EXPECT_EQ(t->size(), 50);
  EXPECT_EQ(t->unlabeled(), 49);
  EXPECT_EQ(t->evicted_unlabeled(), 0);
  ASSERT_NE(t->Find("a0"), nullptr);
  EXPECT_EQ(t->Find("a7")->version, 7);
  EXPECT_TRUE(t->Find("a3")->labeled);
  EXPECT_FALSE(t->Find("a4")->labeled);
  EXPECT_EQ(t->Find("b0"), nullptr);
  // The live database may change freely: the checkpoint shares only the
  // immutable files with it.
  for (int i = 0; i < 60; ++i) {
    t->Insert("c" + std::to_string(i), Entry(i, 0.5), kT0);
  }
  EXPECT_EQ(t->size(), 100);
  EXPECT_EQ(t->Find("a0"), nullptr);     // evicted by capacity
  EXPECT_EQ(t->evicted_unlabeled(), 9);  // a0..a9 but a3, which had a label
  ASSERT_TRUE(store->Restore(checkpoint).ok());
  std::unique_ptr<model::JoinTable> again =
      store->TableFor("m", 100, absl::Hours(1));
  ASSERT_TRUE(Decode(*again, counters).ok());
  EXPECT_NE(again->Find("a0"), nullptr);
  EXPECT_EQ(again->Find("c0"), nullptr);
}

TEST_F(JoinStoreTest, DropUnclaimedRemovesModelsNotRestored) {
  const std::string checkpoint = JoinCheckpointPath(dir_, 1);
  std::string kept_counters;
  {
    std::shared_ptr<JoinStore> store = OpenStore();
    auto kept = store->TableFor("kept", 10, absl::Hours(1));
    auto gone = store->TableFor("gone", 10, absl::Hours(1));
    // "kep" shares a prefix of the name but not of the keys.
    auto similar = store->TableFor("kep", 10, absl::Hours(1));
    kept->Insert("x", Entry(1, 0.5), kT0);
    gone->Insert("x", Entry(2, 0.5), kT0);
    similar->Insert("x", Entry(3, 0.5), kT0);
    kept_counters = Encoded(*kept);
    ASSERT_TRUE(store->Checkpoint(checkpoint).ok());
  }
  std::shared_ptr<JoinStore> store = OpenStore();
  auto kept = store->TableFor("kept", 10, absl::Hours(1));
  auto similar = store->TableFor("kep", 10, absl::Hours(1));  // not decoded
  ASSERT_TRUE(store->Restore(checkpoint).ok());
  ASSERT_TRUE(Decode(*kept, kept_counters).ok());
  ASSERT_TRUE(store->DropUnclaimed().ok());
  ASSERT_NE(kept->Find("x"), nullptr);
  EXPECT_EQ(kept->Find("x")->version, 1);
  EXPECT_EQ(similar->Find("x"), nullptr);
  auto gone = store->TableFor("gone", 10, absl::Hours(1));
  EXPECT_EQ(gone->Find("x"), nullptr);
}

TEST_F(JoinStoreTest, SmallerCapacityOnDecodeEvictsTheOldest) {
  std::shared_ptr<JoinStore> store = OpenStore();
  std::string counters;
  {
    auto t = store->TableFor("m", 10, absl::Hours(1));
    for (int i = 0; i < 10; ++i) t->Insert(std::to_string(i), {}, kT0);
    t->MarkLabeled("0");
    counters = Encoded(*t);
  }
  auto t = store->TableFor("m", 4, absl::Hours(1));
  ASSERT_TRUE(Decode(*t, counters).ok());
  EXPECT_EQ(t->size(), 4);
  EXPECT_EQ(t->evicted_unlabeled(), 5);  // "0" was labeled
  EXPECT_EQ(t->Find("5"), nullptr);
  EXPECT_NE(t->Find("6"), nullptr);
}

TEST_F(JoinStoreTest, DecodeRefusesOtherEncodingsAndDamage) {
  std::shared_ptr<JoinStore> store = OpenStore();
  auto t = store->TableFor("m", 10, absl::Hours(1));
  model::InMemoryJoinTable memory(10, absl::Hours(1));
  memory.Insert("a", {}, kT0);
  EXPECT_TRUE(absl::IsFailedPrecondition(Decode(*t, Encoded(memory))));
  EXPECT_TRUE(absl::IsFailedPrecondition(Decode(memory, Encoded(*t))));
  std::string bytes = Encoded(*t);
  EXPECT_TRUE(absl::IsDataLoss(Decode(*t, bytes.substr(0, 3))));
  auto encoding = [](uint64_t front, uint64_t back, int words) {
    util::BinaryWriter w;
    w.U8(static_cast<uint8_t>(model::JoinTableEncoding::kOnDisk));
    w.Varint(front);
    w.Varint(back);
    w.Time(kT0);
    w.Signed(0);
    w.Varint(words);
    for (int i = 0; i < words; ++i) w.Fixed64(~uint64_t{0});
    return w.Release();
  };
  EXPECT_TRUE(absl::IsDataLoss(Decode(*t, encoding(5, 2, 0))));  // front > back
  // Orders 60..69 span two words of label bits; one is missing.
  EXPECT_TRUE(absl::IsDataLoss(Decode(*t, encoding(60, 70, 1))));
  EXPECT_EQ(t->size(), 0);
  // The right count decodes, and only the live entries' bits count.
  ASSERT_TRUE(Decode(*t, encoding(60, 70, 2)).ok());
  EXPECT_EQ(t->size(), 10);
  EXPECT_EQ(t->unlabeled(), 0);
}

TEST_F(JoinStoreTest, RestoreFromADamagedCheckpointLeavesAnEmptyStore) {
  std::shared_ptr<JoinStore> store = OpenStore();
  auto t = store->TableFor("m", 10, absl::Hours(1));
  t->Insert("a", {}, kT0);
  const std::string bad = dir_ + "/join-3";
  fs::create_directories(bad);
  std::ofstream(bad + "/CURRENT") << "MANIFEST-000999\n";
  absl::Status st = store->Restore(bad);
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_NE(st.message().find("join-3"), std::string::npos) << st;
  EXPECT_EQ(t->Find("a"), nullptr);
  EXPECT_TRUE(t->Insert("b", {}, kT0));  // still usable
  EXPECT_TRUE(absl::IsDataLoss(store->Restore(dir_ + "/missing")));
}

TEST_F(JoinStoreTest, PruneKeepsOnlyTheGivenCheckpoints) {
  std::shared_ptr<JoinStore> store = OpenStore();
  for (uint64_t seq : {3, 5, 9}) {
    ASSERT_TRUE(store->Checkpoint(JoinCheckpointPath(dir_, seq)).ok());
  }
  fs::create_directories(dir_ + "/join-11.tmp");
  std::ofstream(dir_ + "/checkpoint-9.aiqs") << "x";
  const std::vector<uint64_t> keep = {9, 5};
  PruneJoinCheckpoints(dir_, keep);
  EXPECT_FALSE(fs::exists(dir_ + "/join-3"));
  EXPECT_FALSE(fs::exists(dir_ + "/join-11.tmp"));
  EXPECT_TRUE(fs::exists(dir_ + "/join-5"));
  EXPECT_TRUE(fs::exists(dir_ + "/join-9"));
  EXPECT_TRUE(fs::exists(dir_ + "/checkpoint-9.aiqs"));
  EXPECT_TRUE(fs::exists(dir_ + "/join"));  // the live store, not a checkpoint
}

// RAM stays within the configured budget however many entries wait: a
// million entries (about 100 MB of data) with a 16 MiB budget.
TEST_F(JoinStoreTest, MemoryIsBoundedByTheBudget) {
#ifdef AIQ_SANITIZED
  GTEST_SKIP() << "RSS is the sanitizer's (shadow memory, quarantine) here";
#endif
  const int64_t budget = 16 << 20;
  std::shared_ptr<JoinStore> store = OpenStore(budget);
  auto t = store->TableFor("m", 10'000'000, absl::Hours(24));
  const int64_t rss_before = RssBytes();
  model::JoinEntry e = Entry(1, 0.5);
  e.probabilities.assign(4, 0.25);
  std::vector<std::string> ids;
  std::vector<std::string_view> views;
  for (int i = 0; i < 1'000'000; i += 1000) {
    ids.clear();
    for (int j = i; j < i + 1000; ++j) {
      ids.push_back("request-" + std::to_string(j) + "-abcdefghijklmnop");
    }
    views.assign(ids.begin(), ids.end());
    t->Prefetch(views);
    for (const std::string& id : ids) ASSERT_TRUE(t->Insert(id, e, kT0));
  }
  t->Prefetch({});
  EXPECT_EQ(t->size(), 1'000'000);
  ASSERT_NE(t->Find("request-12345-abcdefghijklmnop"), nullptr);
  const JoinStoreStats s = store->Stats();
  EXPECT_LE(s.memtable_bytes + s.block_cache_bytes, budget) << s.memtable_bytes;
  EXPECT_GT(s.live_sst_bytes, 10 << 20);  // the entries went to disk
  const int64_t grown = RssBytes() - rss_before;
  EXPECT_LT(grown, budget + (48 << 20)) << grown;
}

}  // namespace
}  // namespace aiq::state
