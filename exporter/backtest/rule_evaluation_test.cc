#include "exporter/backtest/rule_evaluation.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

// These run the real prometheus and promtool (Debian's package) on
// 127.0.0.1; a machine without them fails, it does not skip.

namespace aiq::backtest {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// Not a multiple of the step, and two hours later crosses a TSDB block
// boundary (1700006400, a multiple of 2h): both are edges to get right.
const absl::Time kT0 = absl::FromUnixSeconds(1700000000);
constexpr int kMinutes = 120;  // evaluations at 0, 1, ..., 120 minutes

absl::Time Minute(int m) { return kT0 + absl::Minutes(m); }

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::path(::testing::TempDir()) / "aiq_rules_XXXXXX");
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

// A history as the backtest writes it: every family again at each minute.
//   aiq_error_rate{model="m"}   0.2 in minutes [30, 50), else 0.01
//   aiq_error_rate{model="m2"}  0.2 in minutes [60, 63), else 0.01
//   aiq_queue_depth{shard="a"}  60 in minutes [40, 70), else 10; shard="b" 5
//   aiq_drift_score             0.9 from minute 100 on, else 0.1
//   aiq_model_up{model="old"}   1, only in minutes [0, 90)
std::string History() {
  const std::string common =
      "job=\"ai-quality-exporter\",instance=\"exporter:9477\"";
  std::string out;
  for (int m = 0; m <= kMinutes; ++m) {
    const int64_t ts = absl::ToUnixSeconds(Minute(m));
    absl::StrAppend(&out, "# TYPE aiq_error_rate gauge\n");
    absl::StrAppend(&out, "aiq_error_rate{", common,
                    ",model=\"m\",version=\"v1\"} ",
                    m >= 30 && m < 50 ? "0.2" : "0.01", " ", ts, "\n");
    absl::StrAppend(&out, "aiq_error_rate{", common,
                    ",model=\"m2\",version=\"v1\"} ",
                    m >= 60 && m < 63 ? "0.2" : "0.01", " ", ts, "\n");
    absl::StrAppend(&out, "# TYPE aiq_queue_depth gauge\n");
    absl::StrAppend(&out, "aiq_queue_depth{", common,
                    ",model=\"m\",shard=\"a\"} ", m >= 40 && m < 70 ? 60 : 10,
                    " ", ts, "\n");
    absl::StrAppend(&out, "aiq_queue_depth{", common,
                    ",model=\"m\",shard=\"b\"} 5 ", ts, "\n");
    absl::StrAppend(&out, "# TYPE aiq_drift_score gauge\n");
    absl::StrAppend(&out, "aiq_drift_score{", common,
                    ",model=\"m\",feature=\"f\"} ", m >= 100 ? "0.9" : "0.1",
                    " ", ts, "\n");
    if (m < 90) {
      absl::StrAppend(&out, "# TYPE aiq_model_up gauge\n");
      absl::StrAppend(&out, "aiq_model_up{", common, ",model=\"old\"} 1 ", ts,
                      "\n");
    }
  }
  out += "# EOF\n";
  return out;
}

}  // namespace

// Readable failures.
void PrintTo(const AlertInterval& a, std::ostream* os) {
  *os << a.alertname << "{";
  for (const auto& [k, v] : a.labels) *os << k << "=\"" << v << "\",";
  *os << "} from " << absl::FormatTime(a.start, absl::UTCTimeZone()) << " to "
      << (a.end ? absl::FormatTime(*a.end, absl::UTCTimeZone()) : "(firing)");
}

namespace {

std::string Testdata(const std::string& name) {
  return absl::StrCat(AIQ_SOURCE_DIR, "/exporter/backtest/testdata/", name);
}

class RuleEvaluationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteText(dir_.path() + "/history.om", History());
    options_.history_path = dir_.path() + "/history.om";
    options_.start = Minute(0);
    options_.end = Minute(kMinutes);
    options_.step = absl::Minutes(1);
    options_.work_dir = dir_.path() + "/work";
    options_.progress = [this](std::string_view m) {
      progress_.emplace_back(m);
    };
  }

  // Evaluates `rules` (the text of one rule file) alone.
  absl::StatusOr<std::vector<AlertInterval>> Evaluate(
      const std::string& rules) {
    const std::string path =
        absl::StrCat(dir_.path(), "/rules", ++rule_files_, ".yml");
    WriteText(path, rules);
    options_.rule_paths = {path};
    return EvaluateRules(options_);
  }

  TempDir dir_;
  RuleEvaluationOptions options_;
  std::vector<std::string> progress_;
  int rule_files_ = 0;
};

const std::map<std::string, std::string> kModelM = {
    {"job", "ai-quality-exporter"},
    {"instance", "exporter:9477"},
    {"model", "m"},
    {"version", "v1"}};

std::map<std::string, std::string> With(
    std::map<std::string, std::string> labels,
    const std::map<std::string, std::string>& more) {
  for (const auto& [k, v] : more) labels[k] = v;
  return labels;
}

// (a) Pending from the minute the condition holds, firing `for` later,
// resolved at the first evaluation where it no longer holds.
TEST_F(RuleEvaluationTest, ForDelaysFiringAndResolvesWhenConditionClears) {
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: quality
    interval: 10m  # ignored: evaluation is every step
    rules:
      - alert: HighErrorRate
        expr: aiq_error_rate{model="m"} > 0.1
        for: 5m
)");
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  EXPECT_THAT(*alerts, ElementsAre(AlertInterval{
                           "HighErrorRate",
                           With(kModelM, {{"alertname", "HighErrorRate"}}),
                           Minute(35), Minute(50)}));
  EXPECT_THAT(progress_, Not(IsEmpty()));
  // The blocks stay for a Prometheus or Grafana to read.
  EXPECT_FALSE(fs::is_empty(options_.work_dir + "/data"));
}

// (b) model:queue_depth:doubled (level 2) reads model:queue_depth:max
// (level 1), listed after it in the same group; rules from a directory.
TEST_F(RuleEvaluationTest, RecordingRulesAreBackfilledInDependencyOrder) {
  options_.rule_paths = {Testdata("rules")};
  absl::StatusOr<std::vector<AlertInterval>> alerts = EvaluateRules(options_);
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  const std::map<std::string, std::string> queue = {
      {"job", "ai-quality-exporter"}, {"model", "m"}};
  EXPECT_THAT(
      *alerts,
      ElementsAre(AlertInterval{"QueueRecorded",
                                With(queue, {{"alertname", "QueueRecorded"}}),
                                Minute(0), std::nullopt},
                  AlertInterval{"QueueDeep",
                                With(queue, {{"alertname", "QueueDeep"},
                                             {"severity", "ticket"}}),
                                Minute(42), Minute(70)}));
}

// (c) `for: 0` fires at the first evaluation that sees the condition, and an
// alert still firing at the last step has no end.
TEST_F(RuleEvaluationTest, ForZeroFiresAtOnceAndStillFiringHasNoEnd) {
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: drift
    rules:
      - alert: DriftHigh
        expr: aiq_drift_score > 0.5
        for: 0s
)");
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  EXPECT_THAT(*alerts,
              ElementsAre(AlertInterval{"DriftHigh",
                                        {{"alertname", "DriftHigh"},
                                         {"job", "ai-quality-exporter"},
                                         {"instance", "exporter:9477"},
                                         {"model", "m"},
                                         {"feature", "f"}},
                                        Minute(100),
                                        std::nullopt}));
}

// (d) A condition that holds for 3 minutes never fires with `for: 5m`; with
// `for: 2m` it does, which shows the 3 minutes are there to see.
TEST_F(RuleEvaluationTest, ConditionShorterThanForNeverFires) {
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: quality
    rules:
      - alert: BlipFor5m
        expr: aiq_error_rate{model="m2"} > 0.1
        for: 5m
      - alert: BlipFor2m
        expr: aiq_error_rate{model="m2"} > 0.1
        for: 2m
)");
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].alertname, "BlipFor2m");
  EXPECT_EQ((*alerts)[0].start, Minute(62));
  EXPECT_EQ((*alerts)[0].end, Minute(63));
}

// (e) promtool check rules' verdict, with the file's name.
TEST_F(RuleEvaluationTest, BadRuleFileIsInvalidArgumentNamingTheFile) {
  options_.rule_paths = {Testdata("bad_rules.yml")};
  absl::StatusOr<std::vector<AlertInterval>> alerts = EvaluateRules(options_);
  ASSERT_EQ(alerts.status().code(), absl::StatusCode::kInvalidArgument)
      << alerts.status();
  EXPECT_THAT(std::string(alerts.status().message()),
              HasSubstr(Testdata("bad_rules.yml")));
  EXPECT_THAT(std::string(alerts.status().message()),
              HasSubstr("could not parse"));
}

// (f) The expr's labels without __name__, the rule's labels over them, and
// alertname.
TEST_F(RuleEvaluationTest, LabelsAreResultLabelsPlusRuleLabelsAndAlertname) {
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: quality
    rules:
      - alert: HighErrorRate
        expr: aiq_error_rate > 0.1
        for: 5m
        labels:
          severity: page
          instance: backtest
          alertname: NotThisName
        annotations:
          summary: "{{ $labels.model }} errors"
)");
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].alertname, "HighErrorRate");
  EXPECT_EQ((*alerts)[0].labels,
            (std::map<std::string, std::string>{{"alertname", "HighErrorRate"},
                                                {"job", "ai-quality-exporter"},
                                                {"instance", "backtest"},
                                                {"model", "m"},
                                                {"version", "v1"},
                                                {"severity", "page"}}));
}

// keep_firing_for counts from the first evaluation without the condition
// (Prometheus's KeepFiringSince): absent from minute 50, firing through 52.
TEST_F(RuleEvaluationTest, KeepFiringForExtendsTheEnd) {
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: quality
    rules:
      - alert: HighErrorRate
        expr: aiq_error_rate{model="m"} > 0.1
        keep_firing_for: 3m
)");
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].start, Minute(30));
  EXPECT_EQ((*alerts)[0].end, Minute(53));
}

// A series that stops (aiq_model_up after minute 89): by default gone at the
// next step, as a staleness marker would make it; without the emulation it
// stays visible for Prometheus's 5m lookback.
TEST_F(RuleEvaluationTest, VanishedSeriesResolvesAtOnceUnlessLookback) {
  const std::string rules = R"(
groups:
  - name: up
    rules:
      - alert: OldModelUp
        expr: aiq_model_up == 1
)";
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(rules);
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].start, Minute(0));
  EXPECT_EQ((*alerts)[0].end, Minute(90));

  options_.emulate_staleness = false;  // same work_dir: data/ is replaced
  alerts = Evaluate(rules);
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ((*alerts)[0].end, Minute(95));
}

// A range that starts and ends inside the history, with a 2m step.
TEST_F(RuleEvaluationTest, SubRangeAndLongerStep) {
  options_.start = Minute(31);
  options_.end = Minute(45);
  options_.step = absl::Minutes(2);
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: quality
    rules:
      - record: model:error_rate:max
        expr: max by (model) (aiq_error_rate)
      - alert: HighErrorRate
        expr: model:error_rate:max{model="m"} > 0.1
        for: 4m
)");
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  // Pending at 31 (the first evaluation), firing at 35; still at 45.
  EXPECT_THAT(*alerts, ElementsAre(AlertInterval{
                           "HighErrorRate",
                           {{"alertname", "HighErrorRate"}, {"model", "m"}},
                           Minute(35),
                           std::nullopt}));
}

// promtool backfills block by block (2h, aligned to multiples of 2h), and a
// last evaluation exactly on a block's start is easy to lose. The history's
// samples are 40s before each of these evaluations: within one step.
TEST_F(RuleEvaluationTest, EndOnATsdbBlockBoundaryIsEvaluated) {
  options_.end = absl::FromUnixSeconds(1700006400);  // a multiple of 2h
  options_.start = options_.end - absl::Minutes(20);
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: drift
    rules:
      - record: model:drift_score:max
        expr: max by (model) (aiq_drift_score)
      - alert: DriftRecorded
        expr: model:drift_score:max >= 0
)");
  ASSERT_TRUE(alerts.ok()) << alerts.status();
  EXPECT_THAT(*alerts, ElementsAre(AlertInterval{
                           "DriftRecorded",
                           {{"alertname", "DriftRecorded"}, {"model", "m"}},
                           options_.start,
                           std::nullopt}));
}

TEST_F(RuleEvaluationTest, RecordingRuleCycleIsAnError) {
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: loop
    rules:
      - record: a:x
        expr: b:x + 1
      - record: b:x
        expr: a:x{label="b:x not a metric"} + aiq_error_rate
)");
  ASSERT_EQ(alerts.status().code(), absl::StatusCode::kInvalidArgument)
      << alerts.status();
  EXPECT_THAT(std::string(alerts.status().message()), HasSubstr("cycle"));
  EXPECT_THAT(std::string(alerts.status().message()), HasSubstr("rules1.yml"));
}

TEST_F(RuleEvaluationTest, TemplatedAlertLabelIsUnimplemented) {
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: quality
    rules:
      - alert: HighErrorRate
        expr: aiq_error_rate > 0.1
        labels:
          team: "{{ $labels.model }}-owners"
)");
  ASSERT_EQ(alerts.status().code(), absl::StatusCode::kUnimplemented)
      << alerts.status();
  EXPECT_THAT(std::string(alerts.status().message()),
              HasSubstr("HighErrorRate"));
}

TEST_F(RuleEvaluationTest, PrometheusQueryErrorNamesTheRule) {
  // Parses, but fails at evaluation: both sides have many series per model.
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: quality
    rules:
      - alert: ManyToMany
        expr: aiq_queue_depth > on (model) aiq_error_rate
)");
  ASSERT_EQ(alerts.status().code(), absl::StatusCode::kInvalidArgument)
      << alerts.status();
  EXPECT_THAT(std::string(alerts.status().message()), HasSubstr("ManyToMany"));
  EXPECT_THAT(std::string(alerts.status().message()),
              HasSubstr("multiple matches"));
}

TEST_F(RuleEvaluationTest, RecordingRuleQueryErrorNamesTheRule) {
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: recorded
    rules:
      - record: good:x
        expr: aiq_error_rate
      - record: bad:x
        expr: aiq_queue_depth > on (model) aiq_error_rate
)");
  ASSERT_EQ(alerts.status().code(), absl::StatusCode::kInvalidArgument)
      << alerts.status();
  EXPECT_THAT(std::string(alerts.status().message()),
              HasSubstr("record bad:x"));
  EXPECT_THAT(std::string(alerts.status().message()),
              HasSubstr("multiple matches"));
}

// /bin/false stands in for a Prometheus that exits at start.
TEST_F(RuleEvaluationTest, PrometheusThatExitsIsUnavailable) {
  options_.prometheus = "/bin/false";
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups:
  - name: quality
    rules:
      - alert: HighErrorRate
        expr: aiq_error_rate > 0.1
)");
  ASSERT_EQ(alerts.status().code(), absl::StatusCode::kUnavailable)
      << alerts.status();
  EXPECT_THAT(std::string(alerts.status().message()),
              HasSubstr("exited (exit status 1) before it was ready"));
}

TEST_F(RuleEvaluationTest, MissingBinaryIsNotFound) {
  options_.prometheus = "aiq-no-such-prometheus";
  absl::StatusOr<std::vector<AlertInterval>> alerts = Evaluate(R"(
groups: []
)");
  EXPECT_EQ(alerts.status().code(), absl::StatusCode::kNotFound)
      << alerts.status();
}

}  // namespace
}  // namespace aiq::backtest
