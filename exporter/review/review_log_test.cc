#include "exporter/review/review_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace aiq::review {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ReviewLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "review_test.XXXXXX");
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }

  config::ReviewConfig Config(int64_t max_bytes = 100 << 20,
                              int max_files = 5) const {
    config::ReviewConfig c;
    c.path = (dir_ / "review.jsonl").string();
    c.max_bytes = max_bytes;
    c.max_files = max_files;
    return c;
  }

  std::unique_ptr<ReviewLog> MustOpen(const config::ReviewConfig& c,
                                      std::vector<std::string> models = {"m"}) {
    absl::StatusOr<std::unique_ptr<ReviewLog>> log =
        ReviewLog::Open(c, std::move(models));
    EXPECT_TRUE(log.ok()) << log.status();
    if (!log.ok()) return nullptr;
    EXPECT_NE(*log, nullptr);
    return std::move(*log);
  }

  static std::string Read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Every line of `p`, parsed; fails on a line that is not a JSON object or
  // on a file that does not end with '\n'.
  static std::vector<nlohmann::json> Lines(const fs::path& p) {
    const std::string text = Read(p);
    std::vector<nlohmann::json> out;
    if (text.empty()) return out;
    EXPECT_EQ(text.back(), '\n') << p;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
      EXPECT_FALSE(j.is_discarded()) << p << ": " << line;
      EXPECT_TRUE(j.is_object()) << line;
      out.push_back(std::move(j));
    }
    return out;
  }

  static ReasonSet Reasons(std::initializer_list<Reason> rs) {
    ReasonSet s;
    for (Reason r : rs) s.Add(r);
    return s;
  }

  fs::path dir_;
};

const absl::Time kT = absl::FromUnixMillis(1714564800123);  // 2024-05-01 12:00

TEST_F(ReviewLogTest, OffCreatesNothing) {
  config::ReviewConfig c = Config();
  c.path = "";
  absl::StatusOr<std::unique_ptr<ReviewLog>> log = ReviewLog::Open(c, {"m"});
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(*log, nullptr);
  EXPECT_TRUE(fs::is_empty(dir_));
}

TEST_F(ReviewLogTest, OpenWithFullConfigUsesModelNames) {
  config::Config c;
  c.review = Config();
  c.models.resize(2);
  c.models[0].name = "a";
  c.models[1].name = "b";
  absl::StatusOr<std::unique_ptr<ReviewLog>> log = ReviewLog::Open(c);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_NE(*log, nullptr);
  ReviewCounts counts = (*log)->Counts();
  ASSERT_EQ(counts.models.size(), 2u);
  EXPECT_EQ(counts.models[0].model, "a");
  EXPECT_EQ(counts.models[1].model, "b");
  EXPECT_TRUE(fs::exists(c.review.path));
}

TEST_F(ReviewLogTest, LineFormat) {
  std::unique_ptr<ReviewLog> log = MustOpen(Config());
  ASSERT_NE(log, nullptr);
  const std::string event = R"({"model":"m","id":"r1","confidence":0.2})";
  ASSERT_TRUE(log->Append("m", Reasons({Reason::kLowConfidence}), "prediction",
                          event, kT)
                  .ok());
  EXPECT_EQ(Read(log->path()),
            R"({"received":"2024-05-01T12:00:00.123Z","model":"m",)"
            R"("kind":"prediction","reasons":["low_confidence"],"event":)" +
                event + "}\n");
}

TEST_F(ReviewLogTest, SeveralReasonsWriteOneLineAndCountEach) {
  std::unique_ptr<ReviewLog> log = MustOpen(Config(), {"m", "n"});
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(log->Append("m",
                          Reasons({Reason::kSafety, Reason::kLowConfidence,
                                   Reason::kRandom}),
                          "prediction", R"({"id":"x"})", kT)
                  .ok());
  ASSERT_TRUE(log->Append("n", Reasons({Reason::kLowFeedback}), "feedback",
                          R"({"id":"x","score":1})", kT)
                  .ok());
  std::vector<nlohmann::json> lines = Lines(log->path());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["reasons"],
            nlohmann::json({"random", "safety", "low_confidence"}));
  EXPECT_EQ(lines[0]["event"]["id"], "x");
  EXPECT_EQ(lines[1]["kind"], "feedback");
  EXPECT_EQ(lines[1]["reasons"], nlohmann::json({"low_feedback"}));
  EXPECT_EQ(lines[1]["event"]["score"], 1);

  ReviewCounts c = log->Counts();
  ASSERT_EQ(c.models.size(), 2u);
  auto at = [&](size_t m, Reason r) {
    return c.models[m].samples[static_cast<size_t>(r)];
  };
  EXPECT_EQ(at(0, Reason::kSafety), 1u);
  EXPECT_EQ(at(0, Reason::kLowConfidence), 1u);
  EXPECT_EQ(at(0, Reason::kRandom), 1u);
  EXPECT_EQ(at(0, Reason::kLowFeedback), 0u);
  EXPECT_EQ(at(1, Reason::kLowFeedback), 1u);
  EXPECT_EQ(at(1, Reason::kSafety), 0u);
  EXPECT_EQ(c.lines_written, 2u);
  EXPECT_EQ(c.bytes_written, fs::file_size(log->path()));
  EXPECT_EQ(c.write_errors, 0u);
}

TEST_F(ReviewLogTest, ReasonsByName) {
  std::unique_ptr<ReviewLog> log = MustOpen(Config());
  ASSERT_NE(log, nullptr);
  const std::vector<std::string_view> ok = {"safety", "random"};
  ASSERT_TRUE(log->Append("m", ok, "prediction", "{}", kT).ok());
  std::vector<nlohmann::json> lines = Lines(log->path());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["reasons"], nlohmann::json({"random", "safety"}));

  const std::vector<std::string_view> unknown = {"safety", "bogus"};
  const std::vector<std::string_view> repeated = {"safety", "safety"};
  const std::vector<std::string_view> none;
  EXPECT_EQ(log->Append("m", unknown, "prediction", "{}", kT).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Append("m", repeated, "prediction", "{}", kT).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->Append("m", none, "prediction", "{}", kT).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Lines(log->path()).size(), 1u);
  EXPECT_EQ(
      log->Counts().models[0].samples[static_cast<size_t>(Reason::kSafety)],
      1u);
}

TEST_F(ReviewLogTest, EscapesAndKeepsOneLine) {
  std::unique_ptr<ReviewLog> log = MustOpen(Config());
  ASSERT_NE(log, nullptr);
  // A pretty-printed event (e.g. from a JSON array body) and a model name
  // that needs escaping.
  const std::string event = "\n{\r\n  \"a\": \"x\\ny\",\n  \"b\": [1,\n2]\n}\n";
  ASSERT_TRUE(log->Append("we\"ird\\\x01", Reasons({Reason::kSafety}),
                          "prediction", event, kT)
                  .ok());
  ASSERT_TRUE(
      log->Append("m", Reasons({Reason::kSafety}), "prediction", "", kT).ok());
  std::vector<nlohmann::json> lines = Lines(log->path());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["model"], "we\"ird\\\x01");
  EXPECT_EQ(lines[0]["event"]["a"], "x\ny");
  EXPECT_EQ(lines[0]["event"]["b"], nlohmann::json({1, 2}));
  EXPECT_TRUE(lines[1]["event"].is_null());
  // Unconfigured models are counted under "other".
  ReviewCounts c = log->Counts();
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(c.models[1].model, "other");
  EXPECT_EQ(c.models[1].samples[static_cast<size_t>(Reason::kSafety)], 1u);
}

TEST_F(ReviewLogTest, ContinuesExistingFileAndCreatesParents) {
  config::ReviewConfig c = Config();
  c.path = (dir_ / "a" / "b" / "review.jsonl").string();
  {
    std::unique_ptr<ReviewLog> log = MustOpen(c);
    ASSERT_NE(log, nullptr);
    ASSERT_TRUE(
        log->Append("m", Reasons({Reason::kRandom}), "prediction", "1", kT)
            .ok());
  }
  std::unique_ptr<ReviewLog> log = MustOpen(c);
  ASSERT_NE(log, nullptr);
  ASSERT_TRUE(
      log->Append("m", Reasons({Reason::kRandom}), "prediction", "2", kT).ok());
  std::vector<nlohmann::json> lines = Lines(c.path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["event"], 1);
  EXPECT_EQ(lines[1]["event"], 2);
}

TEST_F(ReviewLogTest, UnwritablePathIsAClearError) {
  // A parent that is a regular file (permissions do not stop root).
  const fs::path blocker = dir_ / "not_a_dir";
  std::ofstream(blocker) << "x";
  config::ReviewConfig c = Config();
  c.path = (blocker / "review.jsonl").string();
  absl::StatusOr<std::unique_ptr<ReviewLog>> log = ReviewLog::Open(c, {"m"});
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(), HasSubstr(c.path));
  EXPECT_THAT(log.status().message(), HasSubstr("cannot create directory"));

  // The path itself is a directory.
  c.path = dir_.string();
  log = ReviewLog::Open(c, {"m"});
  ASSERT_FALSE(log.ok());
  EXPECT_THAT(log.status().message(), HasSubstr(c.path));

  c = Config(0);
  log = ReviewLog::Open(c, {"m"});
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  c = Config(4096, 0);
  log = ReviewLog::Open(c, {"m"});
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
}

// Numbered event i with a fixed-size payload.
std::string Event(int i) { return absl::StrCat(R"({"seq":)", 1000 + i, "}"); }

TEST_F(ReviewLogTest, RotatesBySizeKeepingMaxFiles) {
  const std::string one = FormatReviewLine(
      "m", std::vector<std::string_view>{"random"}, "prediction", Event(0), kT);
  const int64_t kLinesPerFile = 4;
  // Room for 4 lines and a bit, not 5.
  config::ReviewConfig c =
      Config(static_cast<int64_t>(one.size()) * kLinesPerFile + 10, 3);
  std::unique_ptr<ReviewLog> log = MustOpen(c);
  ASSERT_NE(log, nullptr);
  constexpr int kEvents = 50;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(
        log->Append("m", Reasons({Reason::kRandom}), "prediction", Event(i), kT)
            .ok());
  }
  // 50 = 12 full files + 2 lines: path has 2, path.1..path.3 have 4 each.
  EXPECT_TRUE(fs::exists(c.path + ".1"));
  EXPECT_TRUE(fs::exists(c.path + ".2"));
  EXPECT_TRUE(fs::exists(c.path + ".3"));
  EXPECT_FALSE(fs::exists(c.path + ".4"));  // the oldest were dropped
  EXPECT_EQ(log->Counts().rotations, 12u);

  // Oldest to newest: path.3, path.2, path.1, path — contiguous seqs ending
  // at the last event, whole lines only, no file over max_bytes.
  std::vector<int> seqs;
  for (const std::string& p :
       {c.path + ".3", c.path + ".2", c.path + ".1", c.path}) {
    EXPECT_LE(static_cast<int64_t>(fs::file_size(p)), c.max_bytes) << p;
    std::vector<nlohmann::json> lines = Lines(p);
    EXPECT_EQ(lines.size(), p == c.path ? 2u : 4u) << p;
    for (const nlohmann::json& j : lines) {
      seqs.push_back(j["event"]["seq"].get<int>() - 1000);
    }
  }
  ASSERT_EQ(seqs.size(), 14u);
  for (size_t i = 0; i < seqs.size(); ++i) {
    EXPECT_EQ(seqs[i], kEvents - 14 + static_cast<int>(i));
  }
}

TEST_F(ReviewLogTest, OversizedLineGoesAloneIntoAFreshFile) {
  config::ReviewConfig c = Config(300, 2);
  std::unique_ptr<ReviewLog> log = MustOpen(c);
  ASSERT_NE(log, nullptr);
  const std::string big =
      absl::StrCat(R"({"x":")", std::string(500, 'a'), R"("})");
  ASSERT_TRUE(
      log->Append("m", Reasons({Reason::kSafety}), "prediction", "1", kT).ok());
  ASSERT_TRUE(
      log->Append("m", Reasons({Reason::kSafety}), "prediction", big, kT).ok());
  ASSERT_TRUE(
      log->Append("m", Reasons({Reason::kSafety}), "prediction", "3", kT).ok());
  std::vector<nlohmann::json> newest = Lines(c.path);
  std::vector<nlohmann::json> middle = Lines(c.path + ".1");
  std::vector<nlohmann::json> oldest = Lines(c.path + ".2");
  ASSERT_EQ(newest.size(), 1u);
  ASSERT_EQ(middle.size(), 1u);
  ASSERT_EQ(oldest.size(), 1u);
  EXPECT_EQ(oldest[0]["event"], 1);
  EXPECT_EQ(middle[0]["event"]["x"].get<std::string>().size(), 500u);
  EXPECT_EQ(newest[0]["event"], 3);
}

TEST_F(ReviewLogTest, ConcurrentAppendsWriteWholeLines) {
  // Rotation on, and enough files that nothing is dropped.
  config::ReviewConfig c = Config(64 << 10, 1000);
  std::unique_ptr<ReviewLog> log = MustOpen(c, {"m0", "m1", "m2", "m3"});
  ASSERT_NE(log, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string model = absl::StrCat("m", t % 4);
      for (int i = 0; i < kPerThread; ++i) {
        // Varying sizes so lines straddle buffer and file boundaries.
        const std::string event = absl::StrCat(
            R"({"t":)", t, R"(,"i":)", i, R"(,"pad":")",
            std::string(static_cast<size_t>(i % 300), 'p'), R"("})");
        EXPECT_TRUE(log->Append(model, Reasons({Reason::kRandom}), "prediction",
                                event, absl::Now())
                        .ok());
      }
    });
  }
  for (std::thread& th : threads) th.join();

  std::set<std::pair<int, int>> seen;
  int files = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(dir_)) {
    ++files;
    EXPECT_LE(static_cast<int64_t>(fs::file_size(e.path())), c.max_bytes);
    for (const nlohmann::json& j : Lines(e.path())) {
      EXPECT_TRUE(
          seen.emplace(j["event"]["t"].get<int>(), j["event"]["i"].get<int>())
              .second);
    }
  }
  EXPECT_GT(files, 10);
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
  ReviewCounts counts = log->Counts();
  EXPECT_EQ(counts.lines_written, static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(counts.write_errors, 0u);
  uint64_t random = 0;
  for (const ReviewCounts::Model& m : counts.models) {
    random += m.samples[static_cast<size_t>(Reason::kRandom)];
  }
  EXPECT_EQ(random, static_cast<uint64_t>(kThreads * kPerThread));
}

TEST_F(ReviewLogTest, WriteErrorsAreCountedNotFatal) {
  config::ReviewConfig c = Config(200, 2);
  c.path = (dir_ / "sub" / "review.jsonl").string();
  std::unique_ptr<ReviewLog> log = MustOpen(c);
  ASSERT_NE(log, nullptr);
  const std::string big(150, ' ');
  ASSERT_TRUE(
      log->Append("m", Reasons({Reason::kSafety}), "prediction", big + "1", kT)
          .ok());
  // The directory vanishes: the next rotation (and reopen) fails.
  fs::remove_all(dir_ / "sub");
  absl::Status s =
      log->Append("m", Reasons({Reason::kSafety}), "prediction", big + "2", kT);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(c.path));
  EXPECT_FALSE(
      log->Append("m", Reasons({Reason::kSafety}), "prediction", big + "3", kT)
          .ok());
  ReviewCounts counts = log->Counts();
  EXPECT_EQ(counts.write_errors, 2u);
  EXPECT_EQ(counts.lines_written, 1u);
  // Sampled events are still counted.
  EXPECT_EQ(counts.models[0].samples[static_cast<size_t>(Reason::kSafety)], 3u);

  // Once the directory is back, the log recovers.
  fs::create_directories(dir_ / "sub");
  ASSERT_TRUE(
      log->Append("m", Reasons({Reason::kSafety}), "prediction", big + "4", kT)
          .ok());
  std::vector<nlohmann::json> lines = Lines(c.path);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["event"], 4);
}

}  // namespace
}  // namespace aiq::review
