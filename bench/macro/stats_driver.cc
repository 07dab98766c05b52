// The stats library on the same arrays scipy sees (bench/macro/
// stats_vs_scipy.py writes them): reads ref.txt and cur.txt (one double per
// line) and prints, per statistic, the value (17 significant digits) and the
// mean time per call in microseconds:
//   ks_statistic=... ks_p_value=... ks_mode=exact|asymptotic ks_us=...
//   psi=... psi_us=... wasserstein=... wasserstein_us=...
// Time per call includes what scipy's call does: KS and Wasserstein sort
// both samples (KsTwoSample / WassersteinDistance); PSI bins the current
// window into the reference deciles (computed once, as both exporters do).
//
// Built by bench/run_benchmarks.sh against build-bench's libraries.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "exporter/stats/ks.h"
#include "exporter/stats/numeric_drift.h"
#include "exporter/stats/wasserstein.h"

namespace {

std::vector<double> Read(const char* path) {
  std::ifstream in(path);
  std::vector<double> v;
  double x;
  while (in >> x) v.push_back(x);
  return v;
}

// Mean microseconds per call: at least 3 calls and 0.2 s.
template <typename F>
double TimeUs(F&& f) {
  using C = std::chrono::steady_clock;
  long n = 0;
  const auto start = C::now();
  double elapsed = 0;
  while (n < 3 || elapsed < 0.2) {
    f();
    ++n;
    elapsed = std::chrono::duration<double>(C::now() - start).count();
  }
  return elapsed / static_cast<double>(n) * 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: stats_driver ref.txt cur.txt\n");
    return 2;
  }
  const std::vector<double> ref = Read(argv[1]);
  const std::vector<double> cur = Read(argv[2]);
  namespace s = aiq::stats;
  auto ks = s::KsTwoSample(ref, cur);
  auto nref = s::MakeNumericReference(ref);
  auto wd = s::WassersteinDistance(ref, cur);
  if (!ks.ok() || !nref.ok() || !wd.ok()) {
    std::fprintf(stderr, "stats_driver: error\n");
    return 1;
  }
  auto psi = s::NumericPsi(*nref, nref->bins.Count(cur));
  if (!psi.ok()) return 1;
  volatile double sink = 0;
  const double ks_us =
      TimeUs([&] { sink = s::KsTwoSample(ref, cur)->p_value; });
  const double psi_us =
      TimeUs([&] { sink = *s::NumericPsi(*nref, nref->bins.Count(cur)); });
  const double wd_us =
      TimeUs([&] { sink = *s::WassersteinDistance(ref, cur); });
  std::printf(
      "ks_statistic=%.17g ks_p_value=%.17g ks_mode=%s ks_us=%.3f "
      "psi=%.17g psi_us=%.3f wasserstein=%.17g wasserstein_us=%.3f\n",
      ks->statistic, ks->p_value,
      ks->mode == s::KsMode::kExact ? "exact" : "asymptotic", ks_us, *psi,
      psi_us, *wd, wd_us);
  (void)sink;
  return 0;
}
