#include "exporter/state/state_store.h"

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "exporter/state/atomic_file.h"
#include "gtest/gtest.h"

namespace aiq::state {
namespace {

namespace fs = std::filesystem;

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.dir =
        (fs::temp_directory_path() /
         ("aiq_store_" + std::to_string(::getpid()) + "_" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name()))
            .string();
    fs::remove_all(options_.dir);
    options_.min_free_bytes = 0;
  }
  void TearDown() override { fs::remove_all(options_.dir); }

  std::vector<std::pair<uint64_t, std::string>> Records(StateStore& s,
                                                        uint64_t after = 0) {
    std::vector<std::pair<uint64_t, std::string>> out;
    EXPECT_TRUE(s.ForEachRecord(after, [&](uint64_t seq, std::string_view r) {
                   out.emplace_back(seq, std::string(r));
                   return absl::OkStatus();
                 }).ok());
    return out;
  }

  config::StateConfig options_;
};

TEST_F(StateStoreTest, RecordsSurviveReopenInOrder) {
  {
    auto s = StateStore::Open(options_);
    ASSERT_TRUE(s.ok()) << s.status();
    for (int i = 1; i <= 5; ++i) {
      absl::StatusOr<uint64_t> seq = (*s)->Append("r" + std::to_string(i));
      ASSERT_TRUE(seq.ok());
      EXPECT_EQ(*seq, static_cast<uint64_t>(i));
    }
    ASSERT_TRUE((*s)->WaitDurable(5).ok());
    EXPECT_EQ((*s)->Stats().records_appended, 5u);
    EXPECT_EQ((*s)->Stats().log_bytes_appended, 10u);
  }
  auto s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->last_seq(), 5u);
  EXPECT_EQ(Records(**s, 3), (std::vector<std::pair<uint64_t, std::string>>{
                                 {4, "r4"}, {5, "r5"}}));
  EXPECT_EQ(*(*s)->Append("r6"), 6u);
}

TEST_F(StateStoreTest, TruncationKeepsNumbering) {
  {
    auto s = StateStore::Open(options_);
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE((*s)->Append("x").ok());
    ASSERT_TRUE((*s)->TruncateLog(4).ok());
    ASSERT_TRUE((*s)->WaitDurable(4).ok());
    // Whole segments only: the open one stays; replay starts after the
    // checkpoint's seq anyway.
    EXPECT_TRUE(Records(**s, 4).empty());
  }
  auto s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->last_seq(), 4u);
  EXPECT_EQ(*(*s)->Append("y"), 5u);
}

TEST_F(StateStoreTest, GroupCommitCoversConcurrentWaiters) {
  auto s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok());
  StateStore& store = **s;
  absl::Mutex mu;  // serializes appends, as the app's commit lock does
  std::vector<std::thread> threads;
  constexpr int kThreads = 8, kPerThread = 200;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        uint64_t seq = 0;
        {
          absl::MutexLock lock(&mu);
          seq = *store.Append("event");
        }
        ASSERT_TRUE(store.WaitDurable(seq).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  const StoreStats st = store.Stats();
  EXPECT_EQ(st.records_appended, uint64_t{kThreads * kPerThread});
  // Waiters share fsyncs: fewer syncs than records.
  EXPECT_LT(st.syncs, st.records_appended);
  EXPECT_GE(st.syncs, 1u);
}

TEST_F(StateStoreTest, AnswersAreRememberedWithinTheirTtl) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  {
    auto s = StateStore::Open(options_);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Append("rec", "key-1", "{\"accepted\":3}", t0).ok());
    ASSERT_TRUE((*s)->PutAnswer("key-2", "second", t0).ok());
    ASSERT_TRUE((*s)->WaitDurable((*s)->last_seq()).ok());
  }
  auto s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok());
  std::optional<StoredAnswer> a =
      (*s)->FindAnswer("key-1", t0 + absl::Hours(1), absl::Hours(24));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->answer, "{\"accepted\":3}");
  EXPECT_EQ(a->time, t0);
  EXPECT_EQ((*s)->FindAnswer("key-2", t0, absl::Hours(24))->answer, "second");
  EXPECT_FALSE(
      (*s)->FindAnswer("key-1", t0 + absl::Hours(25), absl::Hours(24)));
  EXPECT_FALSE((*s)->FindAnswer("key-3", t0, absl::Hours(24)));
}

TEST_F(StateStoreTest, RefusesAnotherFormatVersionNamingTheFile) {
  fs::create_directories(options_.dir);
  ASSERT_TRUE(
      WriteFileAtomically((fs::path(options_.dir) / "FORMAT").string(),
                          "ai-quality-exporter state directory\nformat 1\n")
          .ok());
  auto s = StateStore::Open(options_);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.status().message(),
            options_.dir +
                "/FORMAT: state format version 1, this build reads version "
                "2; use a matching exporter build or move the directory "
                "away");
}

TEST_F(StateStoreTest, RefusesANonEmptyForeignDirectory) {
  fs::create_directories(options_.dir);
  std::ofstream(fs::path(options_.dir) / "notes.txt") << "mine";
  auto s = StateStore::Open(options_);
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.status().message(),
            "state dir " + options_.dir +
                " is not empty and has no FORMAT file: not an "
                "ai-quality-exporter state directory (refusing to write into "
                "it)");
}

TEST_F(StateStoreTest, LowDiskRefusesWritesUntilSpaceReturns) {
  options_.min_free_bytes = int64_t{1} << 60;  // more than any disk has
  auto s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok());
  absl::Status st = (*s)->CheckWritable();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("below state.min_free_bytes"),
            std::string_view::npos)
      << st;
}

}  // namespace
}  // namespace aiq::state
