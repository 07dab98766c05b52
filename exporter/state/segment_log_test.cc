#include "exporter/state/segment_log.h"

#include <filesystem>
#include <string>
#include <vector>

#include "exporter/state/atomic_file.h"
#include "exporter/testing/failing_io.h"
#include "gtest/gtest.h"

namespace aiq::state {
namespace {

namespace fs = std::filesystem;
using Records = std::vector<std::pair<uint64_t, std::string>>;

class SegmentLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("aiq_seglog_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SegmentLog> Open(int64_t segment_bytes = 1 << 20) {
    absl::StatusOr<std::unique_ptr<SegmentLog>> log =
        SegmentLog::Open(dir_, segment_bytes);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }
  static Records All(SegmentLog& log, uint64_t after = 0) {
    Records out;
    EXPECT_TRUE(log.ForEach(after,
                            [&](uint64_t seq, std::string_view p) {
                              out.emplace_back(seq, std::string(p));
                              return absl::OkStatus();
                            })
                    .ok());
    return out;
  }
  std::vector<std::string> Files(std::string_view suffix) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string n = e.path().filename().string();
      if (n.size() >= suffix.size() &&
          n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
        out.push_back(e.path().string());
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // Records 1..4 of 30 bytes, one per 60-byte segment; their paths.
  std::vector<std::string> FourSegments() {
    auto log = Open(/*segment_bytes=*/60);
    for (uint64_t s = 1; s <= 4; ++s) {
      EXPECT_TRUE(log->Append(s, std::string(30, 'x')).ok());
    }
    return Files(".log");
  }
  std::string dir_;
};

TEST_F(SegmentLogTest, AppendsSurviveReopen) {
  {
    auto log = Open();
    ASSERT_TRUE(log->Append(1, "one").ok());
    ASSERT_TRUE(log->Append(2, "").ok());
    ASSERT_TRUE(log->Append(3, std::string(5000, 'x')).ok());
    ASSERT_TRUE(log->Sync().ok());
    EXPECT_EQ(log->Append(5, "gap").code(), absl::StatusCode::kInternal);
  }
  auto log = Open();
  EXPECT_EQ(log->last_seq(), 3u);
  EXPECT_EQ(All(*log),
            (Records{{1, "one"}, {2, ""}, {3, std::string(5000, 'x')}}));
  EXPECT_EQ(All(*log, 2), (Records{{3, std::string(5000, 'x')}}));
  EXPECT_EQ(log->recovery().torn_tail_bytes, 0);
}

TEST_F(SegmentLogTest, PartsAreTheSameRecordAsTheirConcatenation) {
  const std::string tail(70'000, 't');
  std::vector<std::string> bytes;
  for (int parts = 0; parts < 2; ++parts) {
    fs::remove_all(dir_);
    {
      auto log = Open();
      if (parts == 1) {
        ASSERT_TRUE(
            log->Append(1, {"head:", tail, SegmentLog::PartCrc(tail)}).ok());
        ASSERT_TRUE(log->Append(2, {"", "", SegmentLog::PartCrc("")}).ok());
        ASSERT_TRUE(
            log->Append(3, {"only head", "", SegmentLog::PartCrc("")}).ok());
      } else {
        ASSERT_TRUE(log->Append(1, "head:" + tail).ok());
        ASSERT_TRUE(log->Append(2, "").ok());
        ASSERT_TRUE(log->Append(3, "only head").ok());
      }
      ASSERT_TRUE(log->Sync().ok());
    }
    std::string all;
    for (const std::string& f : Files(".log")) {
      absl::StatusOr<std::string> b = ReadWholeFile(f);
      ASSERT_TRUE(b.ok()) << b.status();
      all += *b;
    }
    bytes.push_back(all);
    // And the CRCs check out on reopen.
    auto log = Open();
    EXPECT_EQ(All(*log),
              (Records{{1, "head:" + tail}, {2, ""}, {3, "only head"}}));
    EXPECT_EQ(log->recovery().torn_tail_bytes, 0);
  }
  EXPECT_EQ(bytes[0], bytes[1]);
  // A wrong tail CRC is a damaged record, cut at the next open.
  fs::remove_all(dir_);
  {
    auto log = Open();
    ASSERT_TRUE(log->Append(1, "good").ok());
    ASSERT_TRUE(
        log->Append(2, {"h", tail, SegmentLog::PartCrc(tail) ^ 1}).ok());
  }
  auto log = Open();
  EXPECT_EQ(All(*log), (Records{{1, "good"}}));
  EXPECT_GT(log->recovery().torn_tail_bytes, 0);
}

TEST_F(SegmentLogTest, RollsOverAndDropsWholeSegmentsOnly) {
  {
    auto log = Open(/*segment_bytes=*/100);
    for (uint64_t s = 1; s <= 10; ++s) {
      ASSERT_TRUE(log->Append(s, std::string(40, 'a' + s)).ok());  // 56 B
    }
    EXPECT_EQ(Files(".log").size(), 10u);  // one record per segment
    ASSERT_TRUE(log->DropThrough(4).ok());
    EXPECT_EQ(Files(".log").size(), 6u);
    ASSERT_TRUE(log->DropThrough(100).ok());  // never the open segment
    EXPECT_EQ(Files(".log").size(), 1u);
  }
  auto log = Open(100);
  EXPECT_EQ(log->last_seq(), 10u);
  EXPECT_EQ(All(*log), (Records{{10, std::string(40, 'a' + 10)}}));
  ASSERT_TRUE(log->Append(11, "next").ok());
}

TEST_F(SegmentLogTest, TornTailIsCutAtEveryLength) {
  {
    auto log = Open();
    ASSERT_TRUE(log->Append(1, "first").ok());
    ASSERT_TRUE(log->Append(2, "second record").ok());
  }
  const std::string path = Files(".log")[0];
  const std::string full = *ReadWholeFile(path);
  const size_t first_end = 16 + 5;
  for (size_t cut = first_end + 1; cut < full.size(); ++cut) {
    ASSERT_TRUE(WriteFileAtomically(path, full.substr(0, cut)).ok());
    auto log = Open();
    EXPECT_EQ(log->last_seq(), 1u) << cut;
    EXPECT_EQ(log->recovery().torn_tail_bytes,
              static_cast<int64_t>(cut - first_end));
    EXPECT_EQ(All(*log), (Records{{1, "first"}}));
    // The file was cut, so the next record follows the intact one.
    ASSERT_TRUE(log->Append(2, "again").ok());
    log.reset();
    EXPECT_EQ(All(*Open()), (Records{{1, "first"}, {2, "again"}})) << cut;
  }
}

TEST_F(SegmentLogTest, FlippedByteEndsTheLogThere) {
  {
    auto log = Open();
    for (uint64_t s = 1; s <= 3; ++s)
      ASSERT_TRUE(log->Append(s, "abcdef").ok());
  }
  const std::string path = Files(".log")[0];
  std::string bytes = *ReadWholeFile(path);
  bytes[22 + 16 + 2] ^= 1;  // in record 2's payload
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
  auto log = Open();
  EXPECT_EQ(log->last_seq(), 1u);
  ASSERT_EQ(log->recovery().events.size(), 1u);
  EXPECT_EQ(log->recovery().events[0],
            path + ": CRC mismatch in the record at byte 22; cut 44 bytes");
}

TEST_F(SegmentLogTest, DamageInAnEarlierSegmentSetsTheLaterOnesAside) {
  const std::vector<std::string> segs = FourSegments();
  ASSERT_EQ(segs.size(), 4u);
  std::string bytes = *ReadWholeFile(segs[1]);
  bytes.back() ^= 1;
  ASSERT_TRUE(WriteFileAtomically(segs[1], bytes).ok());
  auto log = Open(60);
  // Opening reads the last segment only; the replay finds the damage.
  EXPECT_EQ(log->last_seq(), 4u);
  EXPECT_EQ(log->recovery().damaged_segments, 0);
  EXPECT_EQ(All(*log), (Records{{1, std::string(30, 'x')}}));
  EXPECT_EQ(log->last_seq(), 1u);
  EXPECT_EQ(log->recovery().damaged_segments, 2);
  EXPECT_EQ(Files(".damaged").size(), 2u);
  ASSERT_EQ(log->recovery().events.size(), 3u);
  EXPECT_EQ(log->recovery().events[0],
            segs[1] + ": CRC mismatch in the record at byte 0; cut 46 bytes");
  ASSERT_TRUE(log->Append(2, "fresh").ok());
  log.reset();
  // The cut holds: the log goes on from record 1.
  log = Open(60);
  EXPECT_EQ(All(*log), (Records{{1, std::string(30, 'x')}, {2, "fresh"}}));
}

TEST_F(SegmentLogTest, DamageBeforeWhatIsReplayedIsNeverRead) {
  const std::vector<std::string> segs = FourSegments();
  ASSERT_EQ(segs.size(), 4u);
  std::string bytes = *ReadWholeFile(segs[1]);  // record 2
  bytes.back() ^= 1;
  ASSERT_TRUE(WriteFileAtomically(segs[1], bytes).ok());
  auto log = Open(60);
  // A replay from a checkpoint at 2 reads segments 3 and 4 only: the
  // damaged record 2 is not needed, and the log is kept whole.
  EXPECT_EQ(All(*log, 2),
            (Records{{3, std::string(30, 'x')}, {4, std::string(30, 'x')}}));
  EXPECT_EQ(log->last_seq(), 4u);
  EXPECT_TRUE(log->recovery().events.empty());
  ASSERT_TRUE(log->Append(5, "next").ok());
  // From further back it is found, and the log ends before it.
  log.reset();
  log = Open(60);
  EXPECT_EQ(All(*log), (Records{{1, std::string(30, 'x')}}));
  EXPECT_EQ(log->recovery().damaged_segments, 3);
}

TEST_F(SegmentLogTest, AGapBetweenSegmentsEndsTheLogBeforeIt) {
  const std::vector<std::string> segs = FourSegments();
  ASSERT_EQ(segs.size(), 4u);
  fs::remove(segs[2]);  // record 3 is gone
  auto log = Open(60);
  EXPECT_EQ(All(*log),
            (Records{{1, std::string(30, 'x')}, {2, std::string(30, 'x')}}));
  EXPECT_EQ(log->last_seq(), 2u);
  ASSERT_EQ(log->recovery().events.size(), 1u);
  EXPECT_EQ(log->recovery().events[0],
            segs[3] + ": starts at seq 4 but the log ends at 2; renamed to " +
                segs[3] + ".damaged");
  ASSERT_TRUE(log->Append(3, "again").ok());
}

TEST_F(SegmentLogTest, AFailedRolloverSyncIsReportedAndANewSegmentGoesOn) {
  auto log = Open(/*segment_bytes=*/60);
  ASSERT_TRUE(log->Append(1, std::string(30, 'a')).ok());
  {
    aiq::testing::FailingSyscall eio(aiq::testing::Syscall::kFdatasync, EIO);
    // Record 2 does not fit: the rollover syncs segment 1 first, and fails.
    const absl::Status st = log->Append(2, std::string(30, 'b'));
    EXPECT_NE(st.message().find("fdatasync"), std::string_view::npos) << st;
    EXPECT_NE(st.message().find("Input/output error"), std::string_view::npos)
        << st;
    EXPECT_EQ(eio.failures(), 1);
  }
  EXPECT_TRUE(log->sync_failed());
  EXPECT_EQ(log->last_seq(), 1u);
  ASSERT_TRUE(log->StartNewSegment().ok());
  EXPECT_FALSE(log->sync_failed());
  ASSERT_TRUE(log->Append(2, std::string(30, 'b')).ok());
  ASSERT_TRUE(log->Sync().ok());
  // A new segment while the current one is still empty is the same one.
  ASSERT_TRUE(log->Append(3, std::string(30, 'c')).ok());
  ASSERT_TRUE(log->StartNewSegment().ok());
  ASSERT_TRUE(log->StartNewSegment().ok());
  EXPECT_EQ(Files(".log").size(), 4u);  // segments 1, 2, 3 and 4 (empty)
  log.reset();
  log = Open(60);
  EXPECT_EQ(log->last_seq(), 3u);
  EXPECT_EQ(All(*log), (Records{{1, std::string(30, 'a')},
                                {2, std::string(30, 'b')},
                                {3, std::string(30, 'c')}}));
  EXPECT_TRUE(log->recovery().events.empty());
}

}  // namespace
}  // namespace aiq::state
