// The `report` command at scale: 1,000,000 rows x 20 columns per side
// (14 continuous numeric, 3 numeric with 5 values, 3 categorical; 1% missing
// in some), as CSV parsing, report computation, and end to end from files.
//
//   build/bench/report_benchmark --benchmark_filter=Report
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "exporter/data/csv.h"
#include "exporter/report/report.h"
#include "exporter/report/report_command.h"
#include "exporter/report/report_json.h"

namespace {

constexpr int kRows = 1'000'000;
constexpr int kNumeric = 14;
constexpr int kSmallInt = 3;
constexpr int kCategorical = 3;

// Synthetic CSV; `shift` moves the current data's distributions.
std::string MakeCsv(int rows, double shift, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_int_distribution<int> five(1, 5);
  std::uniform_real_distribution<double> unit(0, 1);
  static const char* kCats[] = {"basic", "plus",  "pro",   "enterprise",
                                "free",  "trial", "legacy"};
  std::string out;
  out.reserve(static_cast<size_t>(rows) * 190);
  for (int c = 0; c < kNumeric; ++c) out += "num" + std::to_string(c) + ",";
  for (int c = 0; c < kSmallInt; ++c) out += "int" + std::to_string(c) + ",";
  for (int c = 0; c < kCategorical; ++c) {
    out += "cat" + std::to_string(c) + (c + 1 < kCategorical ? "," : "\n");
  }
  char buf[64];
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < kNumeric; ++c) {
      // Some columns drift, some do not; 1% missing in every third.
      if (c % 3 == 0 && unit(rng) < 0.01) {
        out += ',';
        continue;
      }
      const double x = (c * 10.0) + normal(rng) * (1 + c) +
                       (c % 2 == 0 ? shift * (1 + c) : 0);
      const int n = std::snprintf(buf, sizeof(buf), "%.6f,", x);
      out.append(buf, static_cast<size_t>(n));
    }
    for (int c = 0; c < kSmallInt; ++c) {
      out += static_cast<char>('0' + five(rng));
      out += ',';
    }
    for (int c = 0; c < kCategorical; ++c) {
      const double u = unit(rng) + (c == 0 ? shift * 0.2 : 0);
      out += kCats[std::min(6, static_cast<int>(u * 7))];
      out += c + 1 < kCategorical ? ',' : '\n';
    }
  }
  return out;
}

const std::string& ReferenceCsv() {
  static const std::string* csv = new std::string(MakeCsv(kRows, 0, 1));
  return *csv;
}
const std::string& CurrentCsv() {
  static const std::string* csv = new std::string(MakeCsv(kRows, 0.1, 2));
  return *csv;
}

void BM_ParseCsv(benchmark::State& state) {
  const std::string& text = ReferenceCsv();
  for (auto _ : state) {
    absl::StatusOr<aiq::data::Dataset> ds =
        aiq::data::ParseCsv(text, "ref.csv", {});
    if (!ds.ok())
      state.SkipWithError(std::string(ds.status().message()).c_str());
    benchmark::DoNotOptimize(ds);
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(text.size()));
  state.counters["rows"] = kRows;
  state.counters["MB"] = static_cast<double>(text.size()) / 1e6;
}
BENCHMARK(BM_ParseCsv)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_BuildReport(benchmark::State& state) {
  absl::StatusOr<aiq::data::Dataset> ref =
      aiq::data::ParseCsv(ReferenceCsv(), "ref.csv", {});
  aiq::data::CsvOptions opts;
  opts.column_types = ref->Types();
  absl::StatusOr<aiq::data::Dataset> cur =
      aiq::data::ParseCsv(CurrentCsv(), "cur.csv", opts);
  aiq::report::ReportOptions ropts;
  ropts.threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    absl::StatusOr<aiq::report::Report> r =
        aiq::report::BuildReport(*ref, *cur, ropts);
    if (!r.ok()) state.SkipWithError(std::string(r.status().message()).c_str());
    benchmark::DoNotOptimize(r);
  }
  state.counters["rows_per_side"] = kRows;
}
BENCHMARK(BM_BuildReport)
    ->Arg(1)
    ->Arg(0)  // one thread per core
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

// The whole command from files on disk, JSON to a string.
void BM_ReportCommandEndToEnd(benchmark::State& state) {
  char dir[] = "/tmp/aiq_report_bench_XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  const std::string ref = std::string(dir) + "/ref.csv";
  const std::string cur = std::string(dir) + "/cur.csv";
  std::ofstream(ref, std::ios::binary) << ReferenceCsv();
  std::ofstream(cur, std::ios::binary) << CurrentCsv();
  const std::vector<std::string> args = {
      "--reference", ref,        "--current",
      cur,           "--format", state.range(0) ? "html" : "json"};
  for (auto _ : state) {
    std::ostringstream out, err;
    const int code = aiq::report::RunReportCommand(args, out, err);
    if (code != 0) state.SkipWithError(err.str().c_str());
    benchmark::DoNotOptimize(out);
  }
  std::remove(ref.c_str());
  std::remove(cur.c_str());
  rmdir(dir);
  state.SetLabel(state.range(0) ? "html" : "json");
}
BENCHMARK(BM_ReportCommandEndToEnd)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
