#include "exporter/state/state_store.h"

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "exporter/state/atomic_file.h"
#include "exporter/testing/failing_io.h"
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

  // The log segment starting at `first_seq`.
  fs::path Segment(uint64_t first_seq) const {
    char name[48];
    std::snprintf(name, sizeof(name), "segment-%020llu.log",
                  static_cast<unsigned long long>(first_seq));
    return fs::path(options_.dir) / "log" / name;
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
    ASSERT_TRUE((*s)->PutAnswer("key-2", "second", t0, 1).ok());
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
                "/FORMAT: state format version 1, this build reads versions "
                "3 to 4; use a matching exporter build or move the "
                "directory away");
}

// Version 3 (before OTLP records) reads as it is; the directory is marked
// version 4 at open, so a version-3 build refuses it from then on.
TEST_F(StateStoreTest, AVersion3DirectoryOpensAndBecomesVersion4) {
  fs::create_directories(options_.dir);
  const std::string format = (fs::path(options_.dir) / "FORMAT").string();
  ASSERT_TRUE(WriteFileAtomically(
                  format, "ai-quality-exporter state directory\nformat 3\n")
                  .ok());
  auto s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(*ReadWholeFile(format),
            "ai-quality-exporter state directory\nformat 4\n");
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

TEST_F(StateStoreTest, AFailedWriteLeavesNothingAndTheNextAppendGoesOn) {
  {
    auto s = StateStore::Open(options_);
    ASSERT_TRUE(s.ok());
    StateStore& store = **s;
    ASSERT_TRUE(store.WaitDurable(*store.Append("r1")).ok());
    {
      aiq::testing::FailingSyscall read_only(aiq::testing::Syscall::kWritev,
                                             EROFS);
      absl::StatusOr<uint64_t> seq = store.Append("lost");
      EXPECT_EQ(seq.status().code(), absl::StatusCode::kUnavailable);
      EXPECT_NE(seq.status().message().find("Read-only file system"),
                std::string_view::npos)
          << seq.status();
      EXPECT_EQ(read_only.failures(), 1);
    }
    EXPECT_EQ(store.Stats().append_errors, 1u);
    EXPECT_FALSE(store.needs_checkpoint());  // nothing was written
    EXPECT_TRUE(store.CheckWritable().ok());
    absl::StatusOr<uint64_t> seq = store.Append("r2");
    ASSERT_TRUE(seq.ok());
    EXPECT_EQ(*seq, 2u);  // the failed append took no sequence number
    ASSERT_TRUE(store.WaitDurable(2).ok());
  }
  auto s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Records(**s), (std::vector<std::pair<uint64_t, std::string>>{
                              {1, "r1"}, {2, "r2"}}));
  EXPECT_TRUE((*s)->log_recovery().events.empty());
}

TEST_F(StateStoreTest, AFailedFdatasyncAcknowledgesNothingUntilACheckpoint) {
  auto s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok());
  StateStore& store = **s;
  ASSERT_TRUE(store.WaitDurable(*store.Append("r1")).ok());
  {
    aiq::testing::FailingSyscall eio(aiq::testing::Syscall::kFdatasync, EIO);
    // Four requests in one group commit: the failed sync fails them all.
    std::vector<std::thread> threads;
    std::atomic<int> failed{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        absl::StatusOr<uint64_t> seq = store.Append("w" + std::to_string(t));
        ASSERT_TRUE(seq.ok());
        const absl::Status st = store.WaitDurable(*seq);
        if (st.code() == absl::StatusCode::kUnavailable) ++failed;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failed.load(), 4);
    EXPECT_GE(eio.failures(), 1);
  }
  EXPECT_EQ(store.Stats().sync_errors, 1u);
  EXPECT_TRUE(store.needs_checkpoint());
  // The disk works again, but a sync now could succeed without the pages
  // the failed one lost: nothing is acknowledged, nothing new is taken.
  absl::Status st = store.WaitDurable(5);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("Input/output error"), std::string_view::npos)
      << st;
  st = store.CheckWritable();
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(
      st.message().find("ingest resumes once a checkpoint has saved the state"),
      std::string_view::npos)
      << st;
  // A checkpoint through 5 (the app writes it between these two calls).
  EXPECT_TRUE(store.SyncForCheckpoint(5).ok());
  ASSERT_TRUE(store.CheckpointSaved(5).ok());
  EXPECT_FALSE(store.needs_checkpoint());
  EXPECT_TRUE(store.CheckWritable().ok());
  ASSERT_TRUE(store.WaitDurable(*store.Append("r6")).ok());
  EXPECT_TRUE(fs::exists(Segment(1)));
  EXPECT_TRUE(fs::exists(Segment(6)));  // r6 on its own
  s->reset();
  // The lost pages, as a crash would have them: the old segment ends
  // before the failed records. Only what came after the checkpoint is read.
  fs::resize_file(Segment(1), 20);
  s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->last_seq(), 6u);
  EXPECT_EQ(Records(**s, 5),
            (std::vector<std::pair<uint64_t, std::string>>{{6, "r6"}}));
  EXPECT_TRUE((*s)->log_recovery().events.empty());
}

TEST_F(StateStoreTest, AnAnswerIsGivenOnlyOnceItsRecordIsDurable) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  auto s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok());
  absl::StatusOr<uint64_t> seq = (*s)->Append("rec", "k", "answer", t0);
  ASSERT_TRUE(seq.ok());
  std::optional<StoredAnswer> a = (*s)->FindAnswer("k", t0, absl::Hours(1));
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->durable);
  ASSERT_TRUE((*s)->WaitDurable(*seq).ok());
  a = (*s)->FindAnswer("k", t0, absl::Hours(1));
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->durable);
  EXPECT_EQ(a->answer, "answer");
}

TEST_F(StateStoreTest, AnAnswerWhoseRecordACrashLostIsNoAnswer) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  {
    auto s = StateStore::Open(options_);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Append("r1", "k1", "a1", t0).ok());
    ASSERT_TRUE((*s)->Append("r2", "k2", "a2", t0).ok());
    ASSERT_TRUE((*s)->WaitDurable(2).ok());
  }
  // As after a crash that kept RocksDB's copy of answer 2 but not record 2
  // (one 18-byte record left).
  fs::resize_file(Segment(1), 18);
  for (int run = 0; run < 2; ++run) {
    auto s = StateStore::Open(options_);
    ASSERT_TRUE(s.ok());
    ASSERT_EQ((*s)->last_seq(), run == 0 ? 1u : 2u);
    std::optional<StoredAnswer> a = (*s)->FindAnswer("k1", t0, absl::Hours(1));
    ASSERT_TRUE(a.has_value());
    EXPECT_TRUE(a->durable);
    EXPECT_EQ(a->answer, "a1");
    // Record 2 is gone: its retry must be applied afresh, not answered.
    EXPECT_FALSE((*s)->FindAnswer("k2", t0, absl::Hours(1)).has_value());
    if (run == 0) {
      // A new record 2 in this run, with another key: answered normally,
      // here and in the next run.
      ASSERT_TRUE((*s)->Append("r9", "k3", "a3", t0).ok());
      ASSERT_TRUE((*s)->WaitDurable(2).ok());
      EXPECT_TRUE((*s)->FindAnswer("k3", t0, absl::Hours(1))->durable);
    } else {
      EXPECT_EQ((*s)->FindAnswer("k3", t0, absl::Hours(1))->answer, "a3");
    }
    s->reset();
    if (run == 0) {
      // Keep the new record 2 this time (the truncation above is not repeated).
      ASSERT_EQ(fs::file_size(Segment(1)), 36u);
    }
  }
}

TEST_F(StateStoreTest, DamageFoundByTheReplayVoidsTheAnswersAfterIt) {
  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  {
    auto s = StateStore::Open(options_);
    ASSERT_TRUE(s.ok());
    StateStore& store = **s;
    ASSERT_TRUE(store.Append("r1", "k1", "a1", t0).ok());
    ASSERT_TRUE(store.Append("r2", "k2", "a2", t0).ok());
    ASSERT_TRUE(store.WaitDurable(2).ok());
    // A second segment, as after a failed fdatasync and its checkpoint.
    {
      aiq::testing::FailingSyscall eio(aiq::testing::Syscall::kFdatasync, EIO);
      EXPECT_FALSE(store.WaitDurable(*store.Append("r3")).ok());
    }
    ASSERT_TRUE(store.CheckpointSaved(3).ok());
    ASSERT_TRUE(store.Append("r4", "k4", "a4", t0).ok());
    ASSERT_TRUE(store.WaitDurable(4).ok());
  }
  // Record 2 damaged in the first segment: found only when the replay
  // reads it, after Open trusted the log through record 4.
  {
    ASSERT_TRUE(fs::exists(Segment(4)));
    std::fstream f(Segment(1), std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.is_open());
    f.seekp(18 + 16);
    f.put('X');
  }
  auto s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->last_seq(), 4u);
  EXPECT_TRUE((*s)->FindAnswer("k4", t0, absl::Hours(1)).has_value());
  EXPECT_EQ(Records(**s),
            (std::vector<std::pair<uint64_t, std::string>>{{1, "r1"}}));
  EXPECT_EQ((*s)->last_seq(), 1u);
  EXPECT_TRUE((*s)->FindAnswer("k1", t0, absl::Hours(1)).has_value());
  EXPECT_FALSE((*s)->FindAnswer("k2", t0, absl::Hours(1)).has_value());
  EXPECT_FALSE((*s)->FindAnswer("k4", t0, absl::Hours(1)).has_value());
  s->reset();
  s = StateStore::Open(options_);  // and it stays so in later runs
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE((*s)->FindAnswer("k4", t0, absl::Hours(1)).has_value());
  EXPECT_TRUE((*s)->FindAnswer("k1", t0, absl::Hours(1)).has_value());
}

TEST_F(StateStoreTest, ACheckpointMissingLaterRecordsDoesNotResume) {
  auto s = StateStore::Open(options_);
  ASSERT_TRUE(s.ok());
  StateStore& store = **s;
  {
    aiq::testing::FailingSyscall eio(aiq::testing::Syscall::kFdatasync, EIO);
    EXPECT_FALSE(store.WaitDurable(*store.Append("r1")).ok());
  }
  ASSERT_TRUE(store.Append("r2").ok());  // after the checkpoint's seq
  ASSERT_TRUE(store.CheckpointSaved(1).ok());
  EXPECT_TRUE(store.needs_checkpoint());
  EXPECT_FALSE(store.WaitDurable(2).ok());
  ASSERT_TRUE(store.CheckpointSaved(2).ok());
  EXPECT_FALSE(store.needs_checkpoint());
  EXPECT_TRUE(store.WaitDurable(2).ok());
}

}  // namespace
}  // namespace aiq::state
