#include "exporter/report/report.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <iterator>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "exporter/stats/sort.h"
#include "exporter/util/parallel_for.h"

namespace aiq::report {
namespace {

// Debian's abseil has its own string_view type; StrCat needs it.
absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

using data::Column;
using stats::FeatureKind;

// Categorical histograms show this many bars; the rest are summed into one.
constexpr size_t kMaxBars = 12;

std::vector<double> NonMissing(const Column& c) {
  std::vector<double> v;
  v.reserve(c.numbers.size());
  for (double x : c.numbers) {
    if (!std::isnan(x)) v.push_back(x);
  }
  return v;
}

std::vector<int64_t> CodeCounts(const Column& c) {
  std::vector<int64_t> n(c.categories.size(), 0);
  for (int32_t code : c.codes) {
    if (code != data::kMissingCode) ++n[static_cast<size_t>(code)];
  }
  return n;
}

// Category counts of sorted numbers: one key per run of equal values.
stats::CategoryCounts SortedValueCounts(std::span<const double> sorted) {
  stats::CategoryCounts out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i + 1;
    while (j < sorted.size() && sorted[j] == sorted[i]) ++j;
    out.Add(stats::NumericCategoryKey(sorted[i]), static_cast<int64_t>(j - i));
    i = j;
  }
  return out;
}

stats::CategoryCounts ToCategoryCounts(const Column& c,
                                       const std::vector<int64_t>& counts) {
  stats::CategoryCounts out;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] > 0) out.Add(c.categories[i], counts[i]);
  }
  return out;
}

// Bars per category, biggest first (by reference, then current share).
Histogram CategoryHistogram(const stats::CategoryCounts& ref,
                            const stats::CategoryCounts& cur) {
  stats::AlignedCounts a =
      stats::AlignCategories(ref, cur, stats::CategoryOrder::kLexicographic);
  const double nr = std::max<double>(1, static_cast<double>(ref.total()));
  const double nc = std::max<double>(1, static_cast<double>(cur.total()));
  std::vector<size_t> order(a.keys.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const double wx = static_cast<double>(a.reference[x]) / nr +
                      static_cast<double>(a.current[x]) / nc;
    const double wy = static_cast<double>(a.reference[y]) / nr +
                      static_cast<double>(a.current[y]) / nc;
    return wx > wy;
  });
  Histogram h;
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t i = order[k];
    if (k + 1 < kMaxBars || order.size() == kMaxBars) {
      h.labels.push_back(a.keys[i]);
      h.reference.push_back(a.reference[i]);
      h.current.push_back(a.current[i]);
      continue;
    }
    if (k + 1 == kMaxBars) {
      h.labels.push_back(absl::StrCat("other (", order.size() - k, ")"));
      h.reference.push_back(0);
      h.current.push_back(0);
    }
    h.reference.back() += a.reference[i];
    h.current.back() += a.current[i];
  }
  return h;
}

// Numeric: one bar per value when both sides have few distinct values,
// else shared equal-width bins over the central 99% of both samples (values
// outside go to the end bins, so one outlier does not flatten the plot).
// Both samples sorted.
Histogram NumericHistogram(std::span<const double> ref,
                           std::span<const double> cur, int bins) {
  Histogram h;
  // Distinct values of both sorted samples, up to kMaxBars + 1.
  std::vector<double> keys;
  for (std::span<const double> v : {ref, cur}) {
    for (size_t i = 0; i < v.size() && keys.size() <= kMaxBars; ++i) {
      if (i > 0 && v[i] == v[i - 1]) continue;
      if (std::find(keys.begin(), keys.end(), v[i]) == keys.end()) {
        keys.push_back(v[i]);
      }
    }
  }
  if (keys.size() <= kMaxBars) {
    std::sort(keys.begin(), keys.end());
    const stats::CategoryCounts rc = SortedValueCounts(ref);
    const stats::CategoryCounts cc = SortedValueCounts(cur);
    for (double k : keys) {
      std::string key = stats::NumericCategoryKey(k);
      h.reference.push_back(rc.count(key));
      h.current.push_back(cc.count(key));
      h.labels.push_back(std::move(key));
    }
    return h;
  }
  const auto at = [](std::span<const double> v, double q) {
    return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
  };
  const double lo = std::min(at(ref, 0.005), at(cur, 0.005));
  double hi = std::max(at(ref, 0.995), at(cur, 0.995));
  if (!(hi > lo)) hi = lo + 1;
  h.edges.resize(static_cast<size_t>(bins) + 1);
  for (int i = 0; i <= bins; ++i) {
    h.edges[static_cast<size_t>(i)] =
        lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(bins);
  }
  h.reference.assign(static_cast<size_t>(bins), 0);
  h.current.assign(static_cast<size_t>(bins), 0);
  const double scale = static_cast<double>(bins) / (hi - lo);
  const auto bin_of = [&](double x) {
    const double b = std::floor((x - lo) * scale);
    return static_cast<size_t>(
        std::clamp(b, 0.0, static_cast<double>(bins - 1)));
  };
  for (double x : ref) ++h.reference[bin_of(x)];
  for (double x : cur) ++h.current[bin_of(x)];
  return h;
}

stats::DriftTestOverride ToStatsOverride(const FeatureOverride* o) {
  stats::DriftTestOverride out;
  if (o != nullptr) {
    out.test = o->test;
    out.threshold = o->threshold;
  }
  return out;
}

// NannyML's rule: calibration chunks the size of the data compared, here
// the current column's values; at most half the reference (two chunks are
// needed) and kMaxReportCalibrationChunk.
absl::Status CalibrateForReport(stats::FeatureReference& reference,
                                int64_t reference_values,
                                int64_t current_values) {
  return reference.CalibrateThreshold(std::min(
      {current_values, reference_values / 2, kMaxReportCalibrationChunk}));
}

absl::Status FeatureError(const std::string& name, const absl::Status& s) {
  return absl::Status(s.code(),
                      absl::StrCat("feature \"", name, "\": ", s.message()));
}

absl::StatusOr<FeatureReport> ComputeFeature(
    const Column& ref, const Column& cur, int64_t current_rows,
    const FeatureOverride* override_spec, const ReportOptions& options) {
  FeatureReport f;
  f.name = ref.name;
  f.type = ref.type;
  f.missing_ratio = current_rows == 0 ? 0.0
                                      : static_cast<double>(cur.missing) /
                                            static_cast<double>(current_rows);
  const stats::DriftTestOverride ovr = ToStatsOverride(override_spec);
  if (ovr.test && ref.type == FeatureKind::kCategorical &&
      (*ovr.test == stats::DriftTest::kKs ||
       *ovr.test == stats::DriftTest::kWasserstein)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "feature \"", ref.name, "\" is categorical; the ",
        A(stats::DriftTestName(*ovr.test)), " test needs a numeric feature"));
  }

  if (ref.missing == ref.size()) {
    f.current_values = static_cast<int64_t>(cur.size() - cur.missing);
    f.note = "no values in the reference";
    return f;
  }
  if (ref.type == FeatureKind::kNumeric) {
    std::vector<double> rv = NonMissing(ref);
    std::vector<double> cv = NonMissing(cur);
    f.reference_values = static_cast<int64_t>(rv.size());
    f.current_values = static_cast<int64_t>(cv.size());
    if (rv.empty() || cv.empty()) {
      f.note = rv.empty() ? "no values in the reference"
                          : "no values in the current data";
      return f;
    }
    // Sorted once here: the statistics take sorted input (the reference's
    // own sort is then a pass over sorted data).
    stats::SortFinite(rv);
    stats::SortFinite(cv);
    absl::StatusOr<stats::FeatureReference> fr =
        stats::FeatureReference::Numeric(rv, ovr);
    if (!fr.ok()) return FeatureError(ref.name, fr.status());
    if (override_spec != nullptr && override_spec->threshold_auto) {
      absl::Status s =
          CalibrateForReport(*fr, f.reference_values, f.current_values);
      if (!s.ok()) return FeatureError(ref.name, s);
    }
    rv = {};
    absl::StatusOr<stats::NumericDrift> num =
        stats::CompareNumericSorted(fr->numeric(), cv);
    if (!num.ok()) return FeatureError(ref.name, num.status());
    // As stats::CompareFeature, with the current values already sorted.
    std::optional<stats::CategoryCounts> cur_values;
    if (fr->choice().as_categories) cur_values = SortedValueCounts(cv);
    absl::StatusOr<stats::DriftDecision> d =
        stats::DecideDrift(*fr, &*num, cur_values ? &*cur_values : nullptr);
    if (!d.ok()) return FeatureError(ref.name, d.status());
    f.numeric = *num;
    f.drift = *d;
    f.histogram =
        NumericHistogram(fr->numeric().sorted, cv, options.histogram_bins);
    return f;
  }

  const std::vector<int64_t> rn = CodeCounts(ref);
  const std::vector<int64_t> cn = CodeCounts(cur);
  stats::CategoryCounts rc = ToCategoryCounts(ref, rn);
  stats::CategoryCounts cc = ToCategoryCounts(cur, cn);
  f.reference_values = rc.total();
  f.current_values = cc.total();
  if (rc.empty() || cc.empty()) {
    f.note = rc.empty() ? "no values in the reference"
                        : "no values in the current data";
    return f;
  }
  absl::StatusOr<stats::FeatureReference> fr =
      stats::FeatureReference::Categorical(rc, ovr);
  if (!fr.ok()) return FeatureError(ref.name, fr.status());
  if (override_spec != nullptr && override_spec->threshold_auto) {
    absl::Status s =
        CalibrateForReport(*fr, f.reference_values, f.current_values);
    if (!s.ok()) return FeatureError(ref.name, s);
  }
  absl::StatusOr<stats::FeatureDrift> d = stats::CompareFeature(*fr, cc);
  if (!d.ok()) return FeatureError(ref.name, d.status());
  f.categorical = d->categorical;
  f.drift = d->drift;
  f.histogram = CategoryHistogram(rc, cc);
  return f;
}

bool IsIntegral(double x) { return std::floor(x) == x; }

QualityTask DecideTask(const Column& t, const Column& p) {
  if (t.type == FeatureKind::kCategorical ||
      p.type == FeatureKind::kCategorical) {
    return QualityTask::kClassification;
  }
  absl::flat_hash_set<double> distinct;
  for (const Column* c : {&t, &p}) {
    for (double x : c->numbers) {
      if (std::isnan(x)) continue;
      if (!IsIntegral(x)) return QualityTask::kRegression;
      distinct.insert(x);
      if (distinct.size() > 10) return QualityTask::kRegression;
    }
  }
  return QualityTask::kClassification;
}

absl::StatusOr<std::optional<QualityReport>> ComputeQuality(
    const data::Dataset& current, const ReportOptions& options) {
  if (options.target.empty() && options.prediction.empty()) {
    return std::nullopt;
  }
  if (options.target.empty() || options.prediction.empty()) {
    return absl::InvalidArgumentError(
        "quality needs both --target and --prediction");
  }
  const Column* t = current.Find(options.target);
  const Column* p = current.Find(options.prediction);
  for (const auto& [col, flag, name] :
       {std::tuple{t, "--target", &options.target},
        std::tuple{p, "--prediction", &options.prediction}}) {
    if (col == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, ": no column \"", *name, "\" in ", current.source()));
    }
  }
  QualityReport q;
  q.task =
      options.task == QualityTask::kAuto ? DecideTask(*t, *p) : options.task;
  const size_t n = current.num_rows();
  if (q.task == QualityTask::kRegression) {
    if (t->type != FeatureKind::kNumeric || p->type != FeatureKind::kNumeric) {
      return absl::InvalidArgumentError(absl::StrCat(
          "regression quality needs numeric target and prediction; \"",
          (t->type != FeatureKind::kNumeric ? t : p)->name,
          "\" is categorical"));
    }
    std::vector<double> yt, yp;
    yt.reserve(n);
    yp.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (std::isnan(t->numbers[i]) || std::isnan(p->numbers[i])) continue;
      yt.push_back(t->numbers[i]);
      yp.push_back(p->numbers[i]);
    }
    q.rows = static_cast<int64_t>(yt.size());
    if (yt.empty()) return std::nullopt;
    absl::StatusOr<stats::RegressionMetrics> m =
        stats::EvaluateRegression(yt, yp);
    if (!m.ok()) return m.status();
    q.regression = *m;
    return q;
  }
  std::vector<std::string> yt, yp;
  yt.reserve(n);
  yp.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (t->IsMissing(i) || p->IsMissing(i)) continue;
    yt.push_back(t->ValueAsString(i));
    yp.push_back(p->ValueAsString(i));
  }
  q.rows = static_cast<int64_t>(yt.size());
  if (yt.empty()) return std::nullopt;
  absl::StatusOr<stats::ClassificationReport> r =
      stats::EvaluateClassification(yt, yp);
  if (!r.ok()) return r.status();
  q.labels = std::move(r->labels);
  q.classification = std::move(r->metrics);
  return q;
}

}  // namespace

absl::StatusOr<Report> BuildReport(const data::Dataset& reference,
                                   const data::Dataset& current,
                                   const ReportOptions& options) {
  Report report;
  report.reference = reference.source();
  report.current = current.source();
  report.target = options.target;
  report.prediction = options.prediction;
  report.reference_rows = static_cast<int64_t>(reference.num_rows());
  report.current_rows = static_cast<int64_t>(current.num_rows());
  report.dataset_drift_share = options.dataset_drift_share;

  for (const auto& [name, ovr] : options.features) {
    if (reference.Find(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature override: no column \"", name, "\" in ",
                       reference.source()));
    }
    if ((name == options.target || name == options.prediction) &&
        (ovr.test || ovr.threshold || ovr.threshold_auto)) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature override: \"", name,
                       "\" is the target or prediction column, not a feature"));
    }
  }

  // Pair up the feature columns first, so errors come in column order.
  struct Job {
    const Column* ref;
    const Column* cur;
    const FeatureOverride* ovr;
  };
  std::vector<Job> jobs;
  for (const Column& rc : reference.columns()) {
    if (rc.name == options.target || rc.name == options.prediction) continue;
    const Column* cc = current.Find(rc.name);
    if (cc == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(current.source(), ": no column \"", rc.name,
                       "\" (it is in ", reference.source(), ")"));
    }
    // A reference column without values has no real type; the current one
    // may be read either way (and the feature is reported as not tested).
    if (cc->type != rc.type && rc.missing < rc.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          current.source(), ": column \"", rc.name, "\" is ",
          A(stats::FeatureKindName(cc->type)), " but ",
          A(stats::FeatureKindName(rc.type)), " in ", reference.source()));
    }
    auto it = options.features.find(rc.name);
    jobs.push_back(
        {&rc, cc, it == options.features.end() ? nullptr : &it->second});
  }

  std::vector<absl::StatusOr<FeatureReport>> results(
      jobs.size(), absl::UnknownError("not computed"));
  util::ParallelFor(
      jobs.size(),
      options.threads > 0 ? static_cast<size_t>(options.threads) : 0,
      [&](size_t i) {
        results[i] = ComputeFeature(*jobs[i].ref, *jobs[i].cur,
                                    report.current_rows, jobs[i].ovr, options);
      });

  int64_t drifted = 0;
  for (absl::StatusOr<FeatureReport>& r : results) {
    if (!r.ok()) return r.status();
    if (r->drift && r->drift->detected) ++drifted;
    report.features.push_back(*std::move(r));
  }
  report.dataset_drift = stats::ComputeDatasetDrift(
      drifted, static_cast<int64_t>(report.features.size()),
      options.dataset_drift_share);

  absl::StatusOr<std::optional<QualityReport>> q =
      ComputeQuality(current, options);
  if (!q.ok()) return q.status();
  report.quality = *std::move(q);
  return report;
}

}  // namespace aiq::report
