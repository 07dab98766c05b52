#include "exporter/cli/commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace aiq::cli {
namespace {

using ::testing::HasSubstr;

struct CliRun {
  int code;
  std::string out, err;
};

CliRun Call(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = Main(args, out, err);
  return {code, out.str(), err.str()};
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(CliTest, VersionAndHelp) {
  CliRun r = Call({"--version"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("ai_quality_exporter 0.1.0"));
  r = Call({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_THAT(r.out, HasSubstr("validate-config FILE"));
  r = Call({"frobnicate"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("unknown command \"frobnicate\""));
}

TEST(CliTest, ValidateConfigReportsEveryProblem) {
  const std::string bad = WriteTemp("aiq_cli_bad.yaml",
                                    "models:\n"
                                    "  - name: m\n"
                                    "    task: ranking\n"
                                    "    label_ttl: -1h\n");
  CliRun r = Call({"validate-config", bad});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr(bad + ":3: models[0].task: must be one of"));
  EXPECT_THAT(r.err, HasSubstr(bad + ":4: models[0].label_ttl: must be"));
  EXPECT_THAT(r.err, HasSubstr("2 problems found"));

  const std::string good =
      WriteTemp("aiq_cli_good.yaml", "models: [{name: m}]\n");
  r = Call({"validate-config", good});
  EXPECT_EQ(r.code, kExitOk);
  EXPECT_EQ(r.out, good + ": OK (1 model)\n");

  EXPECT_EQ(Call({"validate-config"}).code, kExitUsage);
  EXPECT_EQ(Call({"validate-config", "/nonexistent.yaml"}).code, kExitUsage);
}

TEST(CliTest, DefaultConfigRoundTrips) {
  CliRun r = Call({"default-config"});
  EXPECT_EQ(r.code, kExitOk);
  const std::string path = WriteTemp("aiq_cli_default.yaml", r.out);
  EXPECT_EQ(Call({"validate-config", path}).code, kExitOk);
}

TEST(CliTest, ServeRejectsBadInvocations) {
  CliRun r = Call({"serve", "--bogus"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("unknown or incomplete option \"--bogus\""));
  r = Call({"serve", "--config", "/nonexistent.yaml"});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("cannot read config /nonexistent.yaml"));
  const std::string bad =
      WriteTemp("aiq_cli_serve_bad.yaml", "server: {listen: x}\n");
  r = Call({"serve", "--config", bad});
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_THAT(r.err, HasSubstr("server.listen: must be HOST:PORT"));
}

}  // namespace
}  // namespace aiq::cli
