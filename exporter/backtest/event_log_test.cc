#include "exporter/backtest/event_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <variant>

#include "absl/strings/str_cat.h"
#include "exporter/config/config_loader.h"
#include "exporter/util/gzip.h"

namespace aiq::backtest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

config::Config TestConfig() {
  std::vector<config::ConfigError> errors;
  return *config::ParseConfig("models: [{name: m, classes: [a, b]}]\n", "t",
                              errors);
}

std::string WriteTemp(std::string_view name, std::string_view data) {
  // Per test: ctest runs the tests of this binary concurrently.
  const ::testing::TestInfo* test =
      ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string path =
      absl::StrCat(::testing::TempDir(), "/", test->test_suite_name(), ".",
                   test->name(), ".", std::string(name));
  FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  std::fwrite(data.data(), 1, data.size(), f);
  std::fclose(f);
  return path;
}

int64_t Seconds(const ingest::DecodedEvent& e) {
  return absl::ToUnixSeconds(EventTime(e.event));
}

TEST(EventLogTest, BadLinesNameTheirFileAndLine) {
  const config::Config config = TestConfig();
  EventLog log(config);
  const std::string path = WriteTemp(
      "bad.ndjson", R"({"model":"m","timestamp":1700000000,"prediction":"a"}

{"model":"m","prediction":"a"}
not json
{"model":"nope","timestamp":1700000000}
{"model":"m","timestamp":1700000060,"prediction":"b"}
)");
  ASSERT_TRUE(log.Read(path, ingest::EventKind::kPrediction).ok());
  EXPECT_EQ(log.lines(), 5);
  ASSERT_EQ(log.size(), 2u);
  ASSERT_EQ(log.bad_lines().size(), 3u);
  EXPECT_EQ(
      log.bad_lines()[0].ToString(),
      path + ":3: timestamp: required: a replayed event has no receive time");
  EXPECT_EQ(log.bad_lines()[1].line, 4);
  EXPECT_EQ(log.bad_lines()[1].reason, ingest::RejectReason::kInvalidJson);
  EXPECT_EQ(log.bad_lines()[2].line, 5);
  EXPECT_EQ(log.bad_lines()[2].reason, ingest::RejectReason::kUnknownModel);
  // A refusal by the model names the line too.
  EXPECT_EQ(log.Reject({.index = log.at(1).index,
                        .reason = ingest::RejectReason::kDuplicateId,
                        .message = "id: dup"}),
            ingest::EventKind::kPrediction);
  EXPECT_EQ(log.bad_lines()[3].ToString(), path + ":6: id: dup");
}

TEST(EventLogTest, ReadsGzipAndSortsByTimeStably) {
  const config::Config config = TestConfig();
  EventLog log(config);
  const std::string predictions = WriteTemp(
      "p.ndjson.gz",
      *util::Gzip(
          R"({"model":"m","id":"x","timestamp":1700000120,"prediction":"a"}
{"model":"m","id":"y","timestamp":1700000000,"prediction":"a"}
{"model":"m","id":"z","timestamp":1700000060,"prediction":"a"}
)"));
  const std::string labels = WriteTemp(
      "l.ndjson", R"({"model":"m","id":"y","timestamp":1700000060,"label":"b"}
{"model":"m","id":"x","timestamp":"2023-11-14T22:15:20Z","label":"a"}
)");
  ASSERT_TRUE(log.Read(predictions, ingest::EventKind::kPrediction).ok());
  ASSERT_TRUE(log.Read(labels, ingest::EventKind::kLabel).ok());
  log.SortByTime();
  std::vector<int64_t> times;
  std::vector<size_t> kinds;
  for (size_t k = 0; k < log.size(); ++k) {
    times.push_back(Seconds(log.at(k)) - 1'700'000'000);
    EXPECT_EQ(absl::ToUnixSeconds(log.time_at(k)), Seconds(log.at(k)));
    kinds.push_back(log.at(k).event.index());
  }
  // 2023-11-14T22:15:20Z is 1700000120; at 60 s the prediction (read
  // first) stays before the label.
  EXPECT_THAT(times, ElementsAre(0, 60, 60, 120, 120));
  EXPECT_THAT(kinds, ElementsAre(0, 0, 1, 0, 1));
  EXPECT_TRUE(log.bad_lines().empty());
}

TEST(EventLogTest, UnreadableFilesAreErrors) {
  const config::Config config = TestConfig();
  EventLog log(config);
  absl::Status st =
      log.Read("/nonexistent/p.ndjson", ingest::EventKind::kPrediction);
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(st.message(), HasSubstr("/nonexistent/p.ndjson"));
  const std::string broken = WriteTemp("broken.gz", "\x1f\x8b not gzip");
  st = log.Read(broken, ingest::EventKind::kPrediction);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr(broken));
  EXPECT_EQ(log.size(), 0u);
}

}  // namespace
}  // namespace aiq::backtest
