#include "exporter/stats/ks.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace aiq::stats {
namespace {

void ExpectRel(double actual, double expected, double rel, double abs_tol,
               const std::string& what) {
  EXPECT_TRUE(std::abs(actual - expected) <=
              std::max(abs_tol, rel * std::abs(expected)))
      << what << ": actual " << actual << " expected " << expected
      << " rel err " << std::abs(actual - expected) / std::abs(expected);
}

TEST(KsOracleTest, MatchesScipyOnEveryNumericCase) {
  std::ifstream in(std::string(AIQ_ORACLE_DIR) + "/stats.json");
  ASSERT_TRUE(in) << "cannot open stats.json";
  const nlohmann::json doc = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto& c : doc.at("cases")) {
    if (c.at("kind") != "numeric") continue;
    const std::string name = c.at("name");
    const auto ref = c.at("reference").get<std::vector<double>>();
    const auto cur = c.at("current").get<std::vector<double>>();
    const auto& ks = c.at("expected").at("ks");
    const double want_d = ks.at("statistic"), want_p = ks.at("p_value");
    const std::string want_mode = ks.at("mode");
    absl::StatusOr<KsResult> r = KsTwoSample(ref, cur);
    ASSERT_TRUE(r.ok()) << name << ": " << r.status();
    ExpectRel(r->statistic, want_d, 1e-9, 1e-12, name + " statistic");
    ExpectRel(r->p_value, want_p, want_mode == "exact" ? 1e-9 : 1e-6, 0,
              name + " p-value");
    EXPECT_EQ(r->mode == KsMode::kExact ? "exact" : "asymp", want_mode) << name;
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

}  // namespace
}  // namespace aiq::stats
