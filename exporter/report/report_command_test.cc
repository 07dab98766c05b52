// `report` as a command: flags, exit codes, error messages, output files,
// config overrides.
#include "exporter/report/report_command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "exporter/report/report_config.h"
#include "exporter/testing/oracle_data.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace aiq::report {
namespace {

using Json = nlohmann::ordered_json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kDriftRef =
    testdata::OraclePath("datasets/small_drift_reference.csv");
const std::string kDriftCur =
    testdata::OraclePath("datasets/small_drift_current.csv");
const std::string kStableRef =
    testdata::OraclePath("datasets/small_stable_reference.csv");
const std::string kStableCur =
    testdata::OraclePath("datasets/small_stable_current.csv");

// The test data files above exist; otherwise a failure that says how to
// regenerate them (tests that run the command on them start with this).
::testing::AssertionResult HaveDatasets() {
  return testdata::OracleFilesExist({"datasets/small_drift_reference.csv",
                                     "datasets/small_drift_current.csv",
                                     "datasets/small_stable_reference.csv",
                                     "datasets/small_stable_current.csv"});
}

struct Result {
  int code;
  std::string out;
  std::string err;
};

Result RunCmd(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = RunReportCommand(args, out, err);
  return {code, out.str(), err.str()};
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/aiq_report_test_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& body) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << body;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(ReportCommandTest, HelpExitsZero) {
  Result r = RunCmd({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("--fail-on-drift"));
  EXPECT_THAT(ReportUsage(), HasSubstr("--reference"));
}

TEST(ReportCommandTest, BadFlagsExitTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {},
           {"--reference", kDriftRef},
           {"--current", kDriftCur},
           {"--reference", kDriftRef, "--current", kDriftCur, "--bogus"},
           {"--reference", kDriftRef, "--current", kDriftCur, "--format",
            "xml"},
           {"--reference", kDriftRef, "--current"},
           {"--reference", kDriftRef, "--current", kDriftCur, "stray"},
       }) {
    Result r = RunCmd(args);
    EXPECT_EQ(r.code, 2) << ::testing::PrintToString(args);
    EXPECT_THAT(r.err, StartsWith("report: "));
    EXPECT_TRUE(r.out.empty());
  }
  EXPECT_THAT(
      RunCmd({"--reference", kDriftRef, "--current", kDriftCur, "--bogus"}).err,
      HasSubstr("unknown flag --bogus"));
}

TEST(ReportCommandTest, FlagEqualsValueForm) {
  ASSERT_TRUE(HaveDatasets());
  Result r = RunCmd({"--reference=" + kStableRef, "--current=" + kStableCur,
                     "--target=target", "--prediction=prediction"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(Json::parse(r.out)["quality"].is_null());
}

TEST(ReportCommandTest, MissingFileExitsTwoNamingIt) {
  Result r =
      RunCmd({"--reference", "/nonexistent/ref.csv", "--current", kDriftCur});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/ref.csv"));
}

TEST(ReportCommandTest, BadCsvExitsTwoWithLineAndColumn) {
  TempDir dir;
  const std::string ref = dir.Write("ref.csv", "a,b,c\n1,x,2\n2,y,3\n");
  const std::string cur = dir.Write("cur.csv", "a,b,c\n1,x,2\n2,y\n3,z,4\n");
  Result r = RunCmd({"--reference", ref, "--current", cur});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "report: " + cur +
                       ":3: column \"c\": row has 2 fields, header has 3\n");

  // Text in a column that is numeric in the reference.
  const std::string cur2 = dir.Write("cur2.csv", "a,b,c\n1,x,2\nn/a,y,3\n");
  r = RunCmd({"--reference", ref, "--current", cur2});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(cur2 + ":3: column \"a\": \"n/a\" is not a "
                                      "finite number"));
  EXPECT_THAT(r.err, HasSubstr(ref));

  const std::string cur3 = dir.Write("cur3.csv", "a,b\n1,x\n");
  r = RunCmd({"--reference", ref, "--current", cur3});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("no column \"c\""));
}

TEST(ReportCommandTest, EmptyReferenceColumnIsNotTested) {
  TempDir dir;
  const std::string ref = dir.Write("ref.csv", "a,b\n1,\n2,\n3,\n");
  const std::string cur = dir.Write("cur.csv", "a,b\n1,x\n2,y\n4,\n");
  Result r = RunCmd({"--reference", ref, "--current", cur, "--output", "-"});
  ASSERT_EQ(r.code, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_TRUE(j["features"]["b"]["drift"].is_null());
  EXPECT_DOUBLE_EQ(j["features"]["b"]["missing_ratio"].get<double>(), 1.0 / 3);
  EXPECT_EQ(j["dataset_drift"]["total_features"], 2);
  r = RunCmd({"--reference", ref, "--current", cur, "--format", "html"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("no values in the reference"));
}

TEST(ReportCommandTest, UnknownColumnsExitTwo) {
  ASSERT_TRUE(HaveDatasets());
  Result r = RunCmd({"--reference", kDriftRef, "--current", kDriftCur,
                     "--target", "label", "--prediction", "prediction"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--target: no column \"label\""));
  r = RunCmd(
      {"--reference", kDriftRef, "--current", kDriftCur, "--target", "target"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("both --target and --prediction"));
  r = RunCmd({"--reference", kDriftRef, "--current", kDriftCur, "--categorical",
              "nope"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--categorical: no column \"nope\""));
}

TEST(ReportCommandTest, FailOnDrift) {
  ASSERT_TRUE(HaveDatasets());
  const std::vector<std::string> drift = {"--reference", kDriftRef, "--current",
                                          kDriftCur};
  EXPECT_EQ(RunCmd(drift).code, 0);  // drift without --fail-on-drift
  std::vector<std::string> args = drift;
  args.push_back("--fail-on-drift");
  Result r = RunCmd(args);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("dataset drift detected: 6 of 8 features"));
  EXPECT_TRUE(Json::parse(r.out)["dataset_drift"]["detected"].get<bool>());

  r = RunCmd(
      {"--reference", kStableRef, "--current", kStableCur, "--fail-on-drift"});
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(ReportCommandTest, OutputFileAndHtml) {
  ASSERT_TRUE(HaveDatasets());
  TempDir dir;
  const std::string out = dir.path() + "/report.html";
  Result r = RunCmd({"--reference", kDriftRef, "--current", kDriftCur,
                     "--target", "target", "--prediction", "prediction",
                     "--format", "html", "--output", out});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  std::ifstream in(out);
  std::stringstream html;
  html << in.rdbuf();
  EXPECT_THAT(html.str(), StartsWith("<!DOCTYPE html>"));
  EXPECT_THAT(html.str(), HasSubstr("Dataset drift detected"));
  EXPECT_THAT(html.str(), HasSubstr("<svg"));
  EXPECT_THAT(html.str(), HasSubstr("Accuracy"));
  EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));

  r = RunCmd({"--reference", kDriftRef, "--current", kDriftCur, "--output",
              dir.path() + "/no/such/dir/r.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--output"));
}

TEST(ReportCommandTest, CategoricalFlagForcesCategories) {
  ASSERT_TRUE(HaveDatasets());
  Result r = RunCmd({"--reference", kDriftRef, "--current", kDriftCur,
                     "--categorical", "rooms,age"});
  ASSERT_EQ(r.code, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["features"]["rooms"]["type"], "categorical");
  EXPECT_TRUE(j["features"]["rooms"]["stats"].contains("chi_square"));
  EXPECT_EQ(j["features"]["age"]["type"], "categorical");
  EXPECT_EQ(j["features"]["income"]["type"], "numeric");
}

TEST(ReportCommandTest, ConfigOverrides) {
  ASSERT_TRUE(HaveDatasets());
  TempDir dir;
  const std::string cfg = dir.Write("report.yaml", R"(
features:
  income: {test: psi, threshold: 0.5}
  plan: {test: jensen_shannon}
  rooms: {type: categorical}
dataset_drift_share: 0.9
)");
  Result r = RunCmd({"--reference", kDriftRef, "--current", kDriftCur,
                     "--config", cfg, "--fail-on-drift"});
  ASSERT_EQ(r.code, 0) << r.err;  // share 0.9 not reached
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["features"]["income"]["drift"]["test"], "psi");
  EXPECT_EQ(j["features"]["income"]["drift"]["threshold"], 0.5);
  EXPECT_EQ(j["features"]["income"]["drift"]["score"],
            j["features"]["income"]["stats"]["psi"]);
  EXPECT_FALSE(j["features"]["income"]["drift"]["detected"].get<bool>());
  EXPECT_EQ(j["features"]["plan"]["drift"]["test"], "jensen_shannon");
  EXPECT_EQ(j["features"]["plan"]["drift"]["threshold"], 0.1);
  EXPECT_EQ(j["features"]["rooms"]["type"], "categorical");
}

// threshold: auto end to end: the JSON's threshold is the calibrated one
// (not the default) and the decision is taken with it.
TEST(ReportCommandTest, AutoThresholdIsInTheOutput) {
  ASSERT_TRUE(HaveDatasets());
  TempDir dir;
  const std::string cfg = dir.Write("report.yaml", R"(
features:
  income: {threshold: auto}
  plan: {threshold: auto}
)");
  Result r = RunCmd(
      {"--reference", kDriftRef, "--current", kDriftCur, "--config", cfg});
  ASSERT_EQ(r.code, 0) << r.err;
  Json j = Json::parse(r.out);
  for (const char* f : {"income", "plan"}) {
    SCOPED_TRACE(f);
    const Json& d = j["features"][f]["drift"];
    absl::StatusOr<stats::DriftTest> test =
        stats::ParseDriftTest(d["test"].get<std::string>());
    ASSERT_TRUE(test.ok());
    EXPECT_NE(d["threshold"].get<double>(), stats::DefaultThreshold(*test));
    EXPECT_EQ(d["detected"].get<bool>(),
              stats::IsDrift(*test, d["score"].get<double>(),
                             d["threshold"].get<double>()));
  }
}

TEST(ReportCommandTest, ModelConfigFeatureListIsAccepted) {
  ASSERT_TRUE(HaveDatasets());
  TempDir dir;
  const std::string cfg = dir.Write("model.yaml", R"(
models:
  - name: churn
    task: classification
    features:
      - {name: income, type: numeric, drift_test: wasserstein, drift_threshold: 0.3}
      - {name: plan, type: categorical}
      - age
)");
  Result r = RunCmd(
      {"--reference", kDriftRef, "--current", kDriftCur, "--config", cfg});
  ASSERT_EQ(r.code, 0) << r.err;
  Json j = Json::parse(r.out);
  EXPECT_EQ(j["features"]["income"]["drift"]["test"], "wasserstein");
  EXPECT_EQ(j["features"]["income"]["drift"]["threshold"], 0.3);
}

TEST(ReportCommandTest, ConfigErrorsExitTwoWithLine) {
  ASSERT_TRUE(HaveDatasets());
  TempDir dir;
  const std::string cfg = dir.Write("bad.yaml", R"(features:
  income: {test: magic}
)");
  Result r = RunCmd(
      {"--reference", kDriftRef, "--current", kDriftCur, "--config", cfg});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(cfg + ":2: features.income.test: must be one "
                                     "of"));

  const std::string cfg2 =
      dir.Write("bad2.yaml", "features:\n  plan: {test: ks}\n");
  r = RunCmd(
      {"--reference", kDriftRef, "--current", kDriftCur, "--config", cfg2});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("\"plan\" is categorical"));

  const std::string cfg3 = dir.Write("bad3.yaml", "features: [unclosed\n");
  r = RunCmd(
      {"--reference", kDriftRef, "--current", kDriftCur, "--config", cfg3});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr(cfg3 + ":"));

  const std::string cfg4 = dir.Write("bad4.yaml", "featurez: {}\n");
  r = RunCmd(
      {"--reference", kDriftRef, "--current", kDriftCur, "--config", cfg4});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("featurez: unknown key"));

  r = RunCmd({"--reference", kDriftRef, "--current", kDriftCur, "--config",
              dir.path() + "/missing.yaml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("missing.yaml"));
}

TEST(ReportConfigTest, ParsesBothForms) {
  absl::StatusOr<ReportConfig> c = ParseReportConfig(
      "features:\n  a: {test: z, threshold: 0.01}\ntask: regression\n"
      "target: y\nprediction: yhat\n",
      "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->features["a"].test, stats::DriftTest::kZ);
  EXPECT_EQ(c->features["a"].threshold, 0.01);
  EXPECT_EQ(c->task, QualityTask::kRegression);
  EXPECT_EQ(c->target, "y");
  EXPECT_EQ(c->prediction, "yhat");
  EXPECT_TRUE(ParseReportConfig("", "empty.yaml").ok());
  EXPECT_THAT(ParseReportConfig("features:\n  a: {threshold: -1}\n", "c.yaml")
                  .status()
                  .message(),
              HasSubstr("c.yaml:2: features.a.threshold: must be between 0 "
                        "and 1e+09"));
}

TEST(ReportConfigTest, ThresholdAuto) {
  absl::StatusOr<ReportConfig> c = ParseReportConfig(
      "features:\n  a: {threshold: auto}\n  b: {threshold: 0.2}\n", "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->features["a"].threshold_auto);
  EXPECT_EQ(c->features["a"].threshold, std::nullopt);
  EXPECT_FALSE(c->features["b"].threshold_auto);
  // The exporter's list form, and a whole exporter config with the
  // model-wide setting.
  c = ParseReportConfig("features: [{name: a, drift_threshold: auto}, b]\n",
                        "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->features["a"].threshold_auto);
  EXPECT_FALSE(c->features["b"].threshold_auto);
  c = ParseReportConfig(
      "models:\n"
      "  - name: m\n"
      "    drift_threshold: auto\n"
      "    features: [a, {name: b, drift_threshold: 0.3}]\n",
      "e.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->features["a"].threshold_auto);
  EXPECT_FALSE(c->features["b"].threshold_auto);
  EXPECT_EQ(c->features["b"].threshold, 0.3);
  EXPECT_EQ(
      ParseReportConfig("features:\n  a: {threshold: automatic}\n", "c.yaml")
          .status()
          .message(),
      "c.yaml:2: features.a.threshold: must be a number (0 - 1e9) or "
      "auto");
}

TEST(ReportConfigTest, ListsEveryProblemInFileOrder) {
  absl::StatusOr<ReportConfig> c = ParseReportConfig(
      "features:\n"
      "  a: {test: magic, treshold: 0.1}\n"
      "  b: {type: text}\n"
      "task: ranking\n"
      "dataset_drift_share: 2\n",
      "c.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(),
            "c.yaml:2: features.a.test: must be one of ks, z, chi_square, "
            "wasserstein, jensen_shannon, psi\n"
            "c.yaml:2: features.a.treshold: unknown key (expected one of: "
            "test, threshold, type)\n"
            "c.yaml:3: features.b.type: must be one of numeric, categorical, "
            "boolean\n"
            "c.yaml:4: task: must be one of classification, regression, auto\n"
            "c.yaml:5: dataset_drift_share: must be between 0 and 1");
}

TEST(ReportConfigTest, BooleanTypeAndAutoTask) {
  absl::StatusOr<ReportConfig> c = ParseReportConfig(
      "features:\n  a: {type: boolean}\ntask: auto\n", "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->features["a"].type, stats::FeatureKind::kBoolean);
  EXPECT_EQ(c->task, QualityTask::kAuto);
}

// A whole exporter config goes through the exporter's parser: its problems
// are the ones validate-config reports, and its features keep their meaning.
TEST(ReportConfigTest, ExporterConfigIsParsedByTheExporterParser) {
  absl::StatusOr<ReportConfig> c = ParseReportConfig(
      "server: {threads: 0}\n"
      "models:\n"
      "  - name: m\n"
      "    taks: regression\n"
      "    features: [{name: a, drift_test: psi}]\n",
      "e.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              HasSubstr("e.yaml:1: server.threads: must be between 1 and 256"));
  EXPECT_THAT(c.status().message(),
              HasSubstr("e.yaml:4: models[0].taks: unknown key"));

  c = ParseReportConfig(
      "models:\n"
      "  - name: m\n"
      "    features:\n"
      "      - {name: a, drift_test: psi, drift_threshold: 0.3}\n"
      "      - {name: b, type: boolean}\n"
      "      - c\n",
      "e.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->features.size(), 3u);
  EXPECT_EQ(c->features["a"].test, stats::DriftTest::kPsi);
  EXPECT_EQ(c->features["a"].threshold, 0.3);
  EXPECT_EQ(c->features["a"].type, stats::FeatureKind::kNumeric);
  EXPECT_EQ(c->features["b"].type, stats::FeatureKind::kBoolean);
  EXPECT_EQ(c->features["c"].type, stats::FeatureKind::kNumeric);

  c = ParseReportConfig("models: [{name: a}, {name: b}]\n", "e.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              HasSubstr("e.yaml:1: models: a report config takes the features "
                        "of exactly one model"));
}

}  // namespace
}  // namespace aiq::report
