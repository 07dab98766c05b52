#include "exporter/backtest/event_stream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <variant>

#include "absl/strings/str_cat.h"
#include "exporter/backtest/event_log.h"
#include "exporter/config/config_loader.h"
#include "exporter/util/gzip.h"

namespace aiq::backtest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Three lines per request, so three lines per slice: the merge and the
// order check cross slices.
config::Config TestConfig() {
  std::vector<config::ConfigError> errors;
  return *config::ParseConfig(
      "models: [{name: m, classes: [a, b]}]\n"
      "limits: {max_events_per_request: 3}\n",
      "t", errors);
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

std::string Prediction(int64_t t, const std::string& id) {
  return absl::StrCat(R"({"model":"m","id":")", id, R"(","timestamp":)",
                      1'700'000'000 + t, R"(,"prediction":"a"})", "\n");
}
std::string Label(int64_t t, const std::string& id) {
  return absl::StrCat(R"({"model":"m","id":")", id, R"(","timestamp":)",
                      1'700'000'000 + t, R"(,"label":"b"})", "\n");
}

// (seconds after 1700000000, kind index) of every event, in stream order.
// Events are taken five at a time, longer than a slice (three lines), and
// read only before Release, as a replay's batches are: they stay valid
// while the merge moves on to the next slices.
std::vector<std::pair<int64_t, size_t>> Drain(EventSource& events) {
  std::vector<std::pair<int64_t, size_t>> out;
  std::vector<std::pair<absl::Time, const ingest::DecodedEvent*>> batch;
  const auto apply = [&] {
    for (const auto& [t, e] : batch) {
      EXPECT_EQ(EventTime(e->event), t);
      out.emplace_back(absl::ToUnixSeconds(t) - 1'700'000'000,
                       e->event.index());
    }
    batch.clear();
    events.Release();
  };
  while (std::optional<absl::Time> t = events.NextTime()) {
    batch.emplace_back(*t, &events.TakeNext());
    if (batch.size() == 5) apply();
  }
  apply();
  return out;
}

TEST(EventStreamTest, MergesSortedFilesAcrossSlicesTiesToTheFirstAdded) {
  const config::Config config = TestConfig();
  std::string predictions, labels;
  for (int i = 0; i < 8; ++i) {
    absl::StrAppend(&predictions, Prediction(10 * i, absl::StrCat("p", i)));
    if (i == 4) absl::StrAppend(&predictions, "\n   \n");  // blank lines
  }
  for (int i = 0; i < 4; ++i) {
    absl::StrAppend(&labels, Label(20 * i, absl::StrCat("p", i)));
  }
  absl::StrAppend(&labels, R"({"model":"m","id":"x","label":"b"})", "\n");
  EventStream stream(config);
  ASSERT_TRUE(stream
                  .Add(WriteTemp("tp.ndjson", predictions),
                       ingest::EventKind::kPrediction)
                  .ok());
  const std::string label_path = WriteTemp("tl.ndjson.gz", *util::Gzip(labels));
  ASSERT_TRUE(stream.Add(label_path, ingest::EventKind::kLabel).ok());
  // The label file's last line has no timestamp: the one before it counts.
  ASSERT_TRUE(stream.LastTimeHint().has_value());
  EXPECT_EQ(absl::ToUnixSeconds(*stream.LastTimeHint()), 1'700'000'070);
  using P = std::pair<int64_t, size_t>;
  EXPECT_THAT(
      Drain(stream),
      ElementsAre(P{0, 0}, P{0, 1}, P{10, 0}, P{20, 0}, P{20, 1}, P{30, 0},
                  P{40, 0}, P{40, 1}, P{50, 0}, P{60, 0}, P{60, 1}, P{70, 0}));
  EXPECT_TRUE(stream.status().ok()) << stream.status();
  EXPECT_EQ(stream.lines(), 13);
  ASSERT_EQ(stream.bad_lines().size(), 1u);
  EXPECT_EQ(stream.bad_lines()[0].ToString(),
            label_path +
                ":5: timestamp: required: a replayed event has no receive "
                "time");
}

TEST(EventStreamTest, AFileOutOfTimeOrderFailsNamingItsLine) {
  const config::Config config = TestConfig();
  // Line 5 (in the second slice) is earlier than line 4.
  const std::string path =
      WriteTemp("unsorted.ndjson",
                absl::StrCat(Prediction(0, "a"), Prediction(10, "b"),
                             Prediction(20, "c"), Prediction(30, "d"),
                             Prediction(25, "e"), Prediction(40, "f")));
  EventStream stream(config);
  ASSERT_TRUE(stream.Add(path, ingest::EventKind::kPrediction).ok());
  const auto events = Drain(stream);
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(stream.status().message(),
            path +
                ":5: timestamp is earlier than line 4's: the file is not in "
                "time order");
  // Nothing of the slice with the bad line was given out.
  EXPECT_EQ(events.size(), 3u);
  EXPECT_FALSE(stream.NextTime().has_value());

  // EventLog takes the same file in any order.
  EventLog log(config);
  ASSERT_TRUE(log.Read(path, ingest::EventKind::kPrediction).ok());
  log.SortByTime();
  using P = std::pair<int64_t, size_t>;
  EXPECT_THAT(Drain(log), ElementsAre(P{0, 0}, P{10, 0}, P{20, 0}, P{25, 0},
                                      P{30, 0}, P{40, 0}));
}

TEST(EventStreamTest, AnEmptyFileHasNoEventsAndAMissingOneIsAnError) {
  const config::Config config = TestConfig();
  EventStream stream(config);
  // (InputFile's errors, as EventLog's: event_log_test.cc.)
  EXPECT_EQ(stream.Add("/nonexistent/p.ndjson", ingest::EventKind::kPrediction)
                .code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(
      stream.Add(WriteTemp("empty.ndjson", ""), ingest::EventKind::kPrediction)
          .ok());
  EXPECT_FALSE(stream.LastTimeHint().has_value());
  EXPECT_FALSE(stream.NextTime().has_value());
  EXPECT_TRUE(stream.status().ok());
}

}  // namespace
}  // namespace aiq::backtest
