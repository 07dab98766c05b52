#include "exporter/state/checkpoint_file.h"

#include <filesystem>
#include <fstream>

#include "exporter/state/atomic_file.h"
#include "gtest/gtest.h"

namespace aiq::state {
namespace {

namespace fs = std::filesystem;

class CheckpointFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("aiq_ckpt_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(uint64_t seq) {
    char name[64];
    std::snprintf(name, sizeof name, "checkpoint-%020llu.aiqs",
                  static_cast<unsigned long long>(seq));
    return (fs::path(dir_) / name).string();
  }
  std::string dir_;
};

TEST_F(CheckpointFileTest, LatestIntactOneWins) {
  ASSERT_TRUE(WriteCheckpoint(dir_, 10, "ten").ok());
  ASSERT_TRUE(WriteCheckpoint(dir_, 20, std::string(100000, 'x')).ok());
  std::vector<std::string> skipped;
  auto c = LoadLatestCheckpoint(dir_, skipped);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->seq, 20u);
  EXPECT_EQ((*c)->payload(), std::string(100000, 'x'));
  EXPECT_TRUE(skipped.empty());
  EXPECT_EQ(ListCheckpoints(dir_), (std::vector<uint64_t>{20, 10}));
  EXPECT_FALSE(fs::exists(Path(20) + ".tmp"));
}

TEST_F(CheckpointFileTest, CorruptOrTruncatedLatestFallsBackToPrevious) {
  ASSERT_TRUE(WriteCheckpoint(dir_, 10, "ten").ok());
  ASSERT_TRUE(WriteCheckpoint(dir_, 20, "twenty").ok());
  ASSERT_TRUE(WriteCheckpoint(dir_, 30, "thirty").ok());
  // Flip one payload byte of 30, cut 20 short.
  std::string b30 = *ReadWholeFile(Path(30));
  b30.back() ^= 1;
  ASSERT_TRUE(WriteFileAtomically(Path(30), b30).ok());
  std::string b20 = *ReadWholeFile(Path(20));
  ASSERT_TRUE(
      WriteFileAtomically(Path(20), b20.substr(0, b20.size() - 2)).ok());
  std::vector<std::string> skipped;
  auto c = LoadLatestCheckpoint(dir_, skipped);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->seq, 10u);
  EXPECT_EQ((*c)->payload(), "ten");
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0], Path(30) + ": CRC mismatch (the file is damaged)");
  EXPECT_EQ(skipped[1], Path(20) +
                            ": payload of 6 bytes expected, 4 present "
                            "(truncated?)");
}

TEST_F(CheckpointFileTest, LargePayloadCrcIsCheckedInBothHalves) {
  std::string payload(20 << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>(i * 2654435761u >> 24);
  }
  ASSERT_TRUE(WriteCheckpoint(dir_, 5, payload).ok());
  std::string bytes = *ReadWholeFile(Path(5));
  ASSERT_TRUE(ParseCheckpoint("f", bytes).ok());
  for (size_t at : {size_t{100}, bytes.size() - 100}) {
    std::string damaged = bytes;
    damaged[at] ^= 0x10;
    EXPECT_EQ(ParseCheckpoint("f", damaged).status().code(),
              absl::StatusCode::kDataLoss)
        << at;
  }
}

TEST_F(CheckpointFileTest, EveryTruncationIsDetected) {
  ASSERT_TRUE(WriteCheckpoint(dir_, 7, "payload").ok());
  const std::string bytes = *ReadWholeFile(Path(7));
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(ParseCheckpoint("f", bytes.substr(0, n)).status().code(),
              absl::StatusCode::kDataLoss)
        << n;
  }
  EXPECT_TRUE(ParseCheckpoint("f", bytes).ok());
}

TEST_F(CheckpointFileTest, AnotherFormatVersionIsAnErrorNotSkipped) {
  ASSERT_TRUE(WriteCheckpoint(dir_, 10, "ten").ok());
  ASSERT_TRUE(WriteCheckpoint(dir_, 20, "twenty").ok());
  std::string b = *ReadWholeFile(Path(20));
  b[8] = 9;  // the version's low byte
  ASSERT_TRUE(WriteFileAtomically(Path(20), b).ok());
  std::vector<std::string> skipped;
  auto c = LoadLatestCheckpoint(dir_, skipped);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      c.status().message(),
      Path(20) +
          ": state format version 9, this build reads versions 3 to 4; use "
          "a matching exporter build or move the directory away");
}

TEST_F(CheckpointFileTest, AVersion3CheckpointReads) {
  ASSERT_TRUE(WriteCheckpoint(dir_, 20, "twenty").ok());
  std::string b = *ReadWholeFile(Path(20));
  ASSERT_EQ(b[8], 4);  // the version's low byte, as written
  b[8] = 3;            // outside the CRC, which covers the payload
  ASSERT_TRUE(WriteFileAtomically(Path(20), b).ok());
  std::vector<std::string> skipped;
  auto c = LoadLatestCheckpoint(dir_, skipped);
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->seq, 20u);
  EXPECT_EQ((*c)->payload(), "twenty");
  EXPECT_TRUE(skipped.empty());
}

TEST_F(CheckpointFileTest, PruneKeepsTheNewest) {
  for (uint64_t s : {1, 2, 3, 4}) {
    ASSERT_TRUE(WriteCheckpoint(dir_, s, "p").ok());
  }
  std::ofstream(fs::path(dir_) / "unrelated.txt") << "keep me";
  PruneCheckpoints(dir_, 2);
  EXPECT_EQ(ListCheckpoints(dir_), (std::vector<uint64_t>{4, 3}));
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "unrelated.txt"));
}

}  // namespace
}  // namespace aiq::state
