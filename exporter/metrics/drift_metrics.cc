#include "exporter/metrics/drift_metrics.h"

#include <string>

#include "exporter/metrics/family_builder.h"

namespace aiq::metrics {
namespace {

// The per-test scores and p-values of one channel (feature or prediction).
void ChannelScores(const model::ChannelDrift& c, const Labels& labels,
                   FamilyBuilder& score, FamilyBuilder& p_value) {
  if (c.numeric_stats) {
    const stats::NumericDrift& n = *c.numeric_stats;
    score.Gauge(With(labels, "test", "ks"), n.ks.statistic);
    p_value.Gauge(With(labels, "test", "ks"), n.ks.p_value);
    score.Gauge(With(labels, "test", "wasserstein"), n.wasserstein);
    score.Gauge(With(labels, "test", "wasserstein_normed"),
                n.wasserstein_normed);
  }
  if (c.categorical_stats) {
    // Features tested as categories (categorical ones, and numeric ones
    // with few distinct reference values) report PSI and Jensen-Shannon
    // over categories, as their drift decision uses.
    const stats::CategoricalDrift& k = *c.categorical_stats;
    score.Gauge(With(labels, "test", "chi_square"), k.chi_square.statistic);
    p_value.Gauge(With(labels, "test", "chi_square"), k.chi_square.p_value);
    score.Gauge(With(labels, "test", "psi"), k.psi);
    score.Gauge(With(labels, "test", "jensen_shannon"), k.jensen_shannon);
  } else if (c.numeric_stats) {
    score.Gauge(With(labels, "test", "psi"), c.numeric_stats->psi);
    score.Gauge(With(labels, "test", "jensen_shannon"),
                c.numeric_stats->jensen_shannon);
  }
  if (c.z) {
    score.Gauge(With(labels, "test", "z"), c.z->statistic);
    p_value.Gauge(With(labels, "test", "z"), c.z->p_value);
  }
}

}  // namespace

std::vector<prometheus::MetricFamily> DriftFamilies(
    const std::vector<model::ModelSnapshot>& models) {
  FamilyBuilder score(kDriftScore);
  FamilyBuilder p_value(kDriftPValue);
  FamilyBuilder drifted(kFeatureDrifted);
  FamilyBuilder ratio(kDriftedFeaturesRatio);
  FamilyBuilder dataset(kDatasetDrift);
  FamilyBuilder pred_score(kPredictionDriftScore);
  FamilyBuilder pred_p(kPredictionDriftPValue);
  FamilyBuilder pred_drifted(kPredictionDrifted);
  FamilyBuilder recon(kReconstructionError);
  FamilyBuilder recon_upper(kReconstructionErrorUpperThreshold);
  FamilyBuilder recon_lower(kReconstructionErrorLowerThreshold);
  FamilyBuilder threshold(kDriftThreshold);
  FamilyBuilder pred_threshold(kPredictionDriftThreshold);
  FamilyBuilder missing(kFeatureMissingRatio);
  FamilyBuilder new_category(kFeatureNewCategoryRatio);
  FamilyBuilder out_of_range(kFeatureOutOfRangeRatio);
  FamilyBuilder reference_rows(kReferenceRows);
  FamilyBuilder b_accuracy(kBaselineAccuracy);
  FamilyBuilder b_precision(kBaselinePrecision);
  FamilyBuilder b_recall(kBaselineRecall);
  FamilyBuilder b_f1(kBaselineF1);
  FamilyBuilder b_mae(kBaselineMae);
  FamilyBuilder b_rmse(kBaselineRmse);
  FamilyBuilder b_r2(kBaselineR2);
  FamilyBuilder b_mape(kBaselineMape);

  for (const model::ModelSnapshot& m : models) {
    if (!m.reference) continue;
    const Labels model_only = {{"model", m.name}};
    const model::ModelReference& ref = *m.reference;
    reference_rows.Gauge(model_only, static_cast<double>(ref.rows()));
    if (const auto& c = ref.baseline_classification()) {
      b_accuracy.Gauge(model_only, c->metrics.accuracy);
      b_precision.Gauge(With(model_only, "average", "macro"),
                        c->metrics.precision_macro);
      b_precision.Gauge(With(model_only, "average", "weighted"),
                        c->metrics.precision_weighted);
      b_recall.Gauge(With(model_only, "average", "macro"),
                     c->metrics.recall_macro);
      b_recall.Gauge(With(model_only, "average", "weighted"),
                     c->metrics.recall_weighted);
      b_f1.Gauge(With(model_only, "average", "macro"), c->metrics.f1_macro);
      b_f1.Gauge(With(model_only, "average", "weighted"),
                 c->metrics.f1_weighted);
    }
    if (const auto& r = ref.baseline_regression()) {
      b_mae.Gauge(model_only, r->mae);
      b_rmse.Gauge(model_only, r->rmse);
      b_r2.Gauge(model_only, r->r2);
      b_mape.Gauge(model_only, r->mape);
    }
    if (ref.pca()) {
      recon_upper.Gauge(model_only, ref.pca()->upper_threshold());
      recon_lower.Gauge(model_only, ref.pca()->lower_threshold());
    }
    for (const model::FeatureProfile& f : ref.features()) {
      const stats::DriftTestChoice& c = f.reference.choice();
      threshold.Gauge({{"model", m.name},
                       {"feature", f.name},
                       {"test", std::string(stats::DriftTestName(c.test))}},
                      c.threshold);
    }
    if (const auto& p = ref.prediction()) {
      const stats::DriftTestChoice& c = p->reference.choice();
      pred_threshold.Gauge(
          {{"model", m.name},
           {"test", std::string(stats::DriftTestName(c.test))}},
          c.threshold);
    }
    for (size_t v = 0; v < m.versions.size() && v < m.drift.size(); ++v) {
      if (!m.drift[v]) continue;
      const model::WindowDrift& d = *m.drift[v];
      const Labels mv = {{"model", m.name}, {"version", m.versions[v]}};
      for (const model::ChannelDrift& f : d.features) {
        const Labels fl = With(mv, "feature", f.name);
        if (f.missing_ratio) missing.Gauge(fl, *f.missing_ratio);
        if (f.out_of_range_ratio) out_of_range.Gauge(fl, *f.out_of_range_ratio);
        if (f.new_category_ratio) {
          new_category.Gauge(fl, *f.new_category_ratio);
        }
        ChannelScores(f, fl, score, p_value);
        if (f.decision) drifted.Gauge(fl, f.decision->detected ? 1 : 0);
      }
      if (d.dataset) {
        ratio.Gauge(mv, d.dataset->share);
        dataset.Gauge(mv, d.dataset->detected ? 1 : 0);
      }
      if (d.prediction) {
        ChannelScores(*d.prediction, mv, pred_score, pred_p);
        if (d.prediction->decision) {
          pred_drifted.Gauge(mv, d.prediction->decision->detected ? 1 : 0);
        }
      }
      if (d.reconstruction_error) recon.Gauge(mv, *d.reconstruction_error);
    }
  }
  std::vector<prometheus::MetricFamily> out;
  for (FamilyBuilder* f :
       {&score,          &p_value,     &drifted,      &ratio,
        &dataset,        &pred_score,  &pred_p,       &pred_drifted,
        &recon,          &recon_upper, &recon_lower,  &threshold,
        &pred_threshold, &missing,     &new_category, &out_of_range,
        &reference_rows, &b_accuracy,  &b_precision,  &b_recall,
        &b_f1,           &b_mae,       &b_rmse,       &b_r2,
        &b_mape}) {
    if (!f->empty()) out.push_back(std::move(*f).Build());
  }
  return out;
}

}  // namespace aiq::metrics
