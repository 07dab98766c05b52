// Event time: windows bucket each prediction and label by its own
// timestamp, and count the ones too late for the window
// (window.max_lateness) without windowing them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "exporter/config/config_loader.h"
#include "exporter/model/model_registry.h"
#include "exporter/model/model_state.h"

namespace aiq::model {
namespace {

using ingest::EventKind;

// 1'800'000'000 is a multiple of the 5-minute bucket width.
constexpr int64_t kStart = 1'800'000'000;

class EventTimeTest : public ::testing::Test {
 protected:
  EventTimeTest() : clock_(absl::FromUnixSeconds(kStart)) {
    std::vector<config::ConfigError> errors;
    config_ = *config::ParseConfig(R"(
models:
  - name: clf
    classes: [a, b]
    features: [x]
    window: {duration: 1h, buckets: 12, min_samples: 1, max_lateness: 30m}
)",
                                   "t", errors);
    registry_ = std::make_unique<ModelRegistry>(config_, &clock_);
  }

  // Posts one event of `kind` stamped `offset` from kStart.
  void Post(EventKind kind, absl::Duration offset, std::string_view fields) {
    const std::string body = absl::StrCat(
        R"({"model":"clf","timestamp":)",
        absl::ToUnixSeconds(absl::FromUnixSeconds(kStart) + offset), ",",
        std::string(fields), "}\n");
    ingest::Decoder d(config_);
    absl::StatusOr<ingest::DecodeResult> r =
        d.Decode(kind, ingest::BodyFormat::kNdjson, body, clock_.Now());
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->errors.empty()) << r->errors[0].message;
    ApplyResult applied = registry_->Apply(*r);
    ASSERT_EQ(applied.accepted, 1);
  }
  void At(absl::Duration offset) {
    clock_.Set(absl::FromUnixSeconds(kStart) + offset);
  }
  ModelSnapshot Snap() { return registry_->models()[0]->Snapshot(); }
  int64_t WindowPredictions() { return Snap().quality[0].predictions; }
  int64_t WindowLabeled() { return Snap().quality[0].labeled; }
  uint64_t Late(EventKind kind) {
    return Snap().late_events[static_cast<size_t>(kind)];
  }

  util::FakeClock clock_;
  config::Config config_;
  std::unique_ptr<ModelRegistry> registry_;
};

TEST_F(EventTimeTest, PredictionsAgeOutByTheirOwnTime) {
  // 20 minutes old on arrival: it leaves the window 40 minutes later (its
  // bucket, not the arrival's, is 12 buckets behind), not 60.
  Post(EventKind::kPrediction, absl::Minutes(-20), R"("prediction":"a")");
  EXPECT_EQ(WindowPredictions(), 1);
  At(absl::Minutes(39));
  EXPECT_EQ(WindowPredictions(), 1);
  At(absl::Minutes(40));
  EXPECT_EQ(WindowPredictions(), 0);
  EXPECT_EQ(Late(EventKind::kPrediction), 0u);
  EXPECT_EQ(Snap().per_version[0].predictions, 1u);
}

TEST_F(EventTimeTest, LateEventsCountEverywhereButTheWindow) {
  Post(EventKind::kPrediction, absl::Minutes(-31),
       R"("id":"p1","prediction":"a","latency_ms":100)");
  ModelSnapshot s = Snap();
  EXPECT_EQ(s.per_version[0].predictions, 1u);
  EXPECT_EQ(s.per_version[0].latency.count(), 1u);
  EXPECT_EQ(s.quality[0].predictions, 0);
  EXPECT_EQ(s.drift[0], nullptr);  // no reference
  EXPECT_EQ(Late(EventKind::kPrediction), 1u);
  // A late prediction still joins its label, which is on time.
  Post(EventKind::kLabel, absl::ZeroDuration(), R"("id":"p1","label":"a")");
  s = Snap();
  EXPECT_EQ(s.per_version[0].labels, 1u);
  EXPECT_EQ(s.quality[0].labeled, 1);
  EXPECT_EQ(Late(EventKind::kLabel), 0u);
  // A late label counts and joins, outside the window.
  Post(EventKind::kPrediction, absl::ZeroDuration(),
       R"("id":"p2","prediction":"b")");
  Post(EventKind::kLabel, absl::Minutes(-45), R"("id":"p2","label":"a")");
  s = Snap();
  EXPECT_EQ(s.per_version[0].labels, 2u);
  EXPECT_EQ(s.quality[0].labeled, 1);
  EXPECT_EQ(s.quality[0].predictions, 1);
  EXPECT_EQ(Late(EventKind::kLabel), 1u);
  EXPECT_EQ(Late(EventKind::kPrediction), 1u);
}

TEST_F(EventTimeTest, ExactlyMaxLatenessIsStillOnTime) {
  Post(EventKind::kPrediction, absl::Minutes(-30), R"("prediction":"a")");
  EXPECT_EQ(WindowPredictions(), 1);
  EXPECT_EQ(Late(EventKind::kPrediction), 0u);
}

TEST_F(EventTimeTest, FutureTimestampsCountInTheCurrentBucket) {
  Post(EventKind::kPrediction, absl::Minutes(10), R"("prediction":"a")");
  EXPECT_EQ(WindowPredictions(), 1);
  At(absl::Minutes(59));
  EXPECT_EQ(WindowPredictions(), 1);
  At(absl::Minutes(60));  // the bucket of kStart, not of kStart + 10m
  EXPECT_EQ(WindowPredictions(), 0);
}

TEST_F(EventTimeTest, LabelsAreWindowedAtTheLabelsTime) {
  Post(EventKind::kPrediction, absl::Minutes(-25),
       R"("id":"p","prediction":"a")");
  Post(EventKind::kLabel, absl::ZeroDuration(), R"("id":"p","label":"b")");
  At(absl::Minutes(59));
  EXPECT_EQ(WindowLabeled(), 1);
  EXPECT_EQ(WindowPredictions(), 0);  // its prediction has aged out
  At(absl::Minutes(60));
  EXPECT_EQ(WindowLabeled(), 0);
}

TEST_F(EventTimeTest, LateCountsSurviveTheStateCodec) {
  Post(EventKind::kPrediction, absl::Minutes(-50), R"("prediction":"a")");
  util::BinaryWriter w;
  registry_->models()[0]->EncodeTo(w);
  const std::string bytes = w.Release();
  ModelRegistry other(config_, &clock_);
  util::BinaryReader r(bytes);
  std::vector<std::string> dropped;
  ASSERT_TRUE(other.models()[0]->DecodeFrom(r, dropped).ok());
  EXPECT_EQ(other.models()[0]
                ->Snapshot()
                .late_events[static_cast<size_t>(EventKind::kPrediction)],
            1u);
}

TEST(EventTimeConfigTest, MaxLatenessDefaultsToTheWindowAndIsBoundedByIt) {
  std::vector<config::ConfigError> errors;
  std::optional<config::Config> c = config::ParseConfig(R"(
models:
  - {name: a, window: {duration: 2h}}
  - {name: b}
)",
                                                        "t", errors);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->models[0].window.max_lateness, absl::Hours(2));
  EXPECT_EQ(c->models[1].window.max_lateness, absl::Hours(1));
  c = config::ParseConfig(R"(
models:
  - {name: a, window: {duration: 1h, max_lateness: 2h}}
)",
                          "t", errors);
  EXPECT_FALSE(c.has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "models[0].window.max_lateness");
  EXPECT_THAT(errors[0].message,
              ::testing::HasSubstr("at most window.duration"));
}

}  // namespace
}  // namespace aiq::model
