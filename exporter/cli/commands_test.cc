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

// validate-config reads a config's reference as serve does: a relative path
// resolves against the config file's directory, not the working directory.
TEST(CliTest, ValidateConfigResolvesReferencesLikeServe) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / "aiq_cli_rel_config";
  const fs::path elsewhere = fs::temp_directory_path() / "aiq_cli_rel_cwd";
  fs::create_directories(dir / "ref");
  fs::create_directories(elsewhere);
  std::ofstream(dir / "ref" / "x.csv") << "x\n1\n2\n3\n4\n";
  std::ofstream(dir / "good.yaml")
      << "models:\n"
         "  - {name: m, task: regression, features: [x],\n"
         "     reference: ref/x.csv}\n";
  std::ofstream(dir / "bad.yaml")
      << "models:\n"
         "  - {name: m, task: regression, features: [x],\n"
         "     reference: {csv: ref/missing.csv}}\n"
         "  - {name: n, task: regression, features: [y],\n"
         "     reference: ref/x.csv}\n";
  const fs::path cwd = fs::current_path();
  fs::current_path(elsewhere);  // ref/x.csv does not exist here
  const std::string good = (dir / "good.yaml").string();
  const std::string bad = (dir / "bad.yaml").string();
  CliRun r = Call({"validate-config", good});
  CliRun b = Call({"validate-config", bad});
  fs::current_path(cwd);
  fs::remove_all(dir);
  fs::remove_all(elsewhere);

  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.out, good + ": OK (1 model)\n");
  EXPECT_EQ(b.code, kExitUsage);
  EXPECT_THAT(b.err, HasSubstr(bad + ": models[0].reference: " +
                               (dir / "ref" / "missing.csv").string()));
  EXPECT_THAT(b.err, HasSubstr(bad + ": models[1].reference: " +
                               (dir / "ref" / "x.csv").string() +
                               ": no column \"y\" (a declared feature)"));
  EXPECT_THAT(b.err, HasSubstr("2 problems found"));
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
