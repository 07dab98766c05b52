#include "exporter/metrics/drift_metrics.h"

#include <string>

#include "exporter/metrics/family_builder.h"

namespace aiq::metrics {
namespace {

using prometheus::MetricType;

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
  FamilyBuilder score("aiq_drift_score",
                      "Drift statistic of a feature's window against the "
                      "reference, by test.",
                      MetricType::Gauge);
  FamilyBuilder p_value("aiq_drift_p_value",
                        "P-value of a feature's drift test (ks, chi_square, "
                        "z).",
                        MetricType::Gauge);
  FamilyBuilder drifted("aiq_feature_drifted",
                        "1 when the feature's decision test detects drift.",
                        MetricType::Gauge);
  FamilyBuilder ratio("aiq_drifted_features_ratio",
                      "Share of features (with enough samples) that drifted.",
                      MetricType::Gauge);
  FamilyBuilder dataset("aiq_dataset_drift",
                        "1 when the drifted share reaches 0.5.",
                        MetricType::Gauge);
  FamilyBuilder pred_score("aiq_prediction_drift_score",
                           "Drift of the model's outputs against the "
                           "reference's prediction column, by test.",
                           MetricType::Gauge);
  FamilyBuilder pred_p("aiq_prediction_drift_p_value",
                       "P-value of the prediction drift test.",
                       MetricType::Gauge);
  FamilyBuilder pred_drifted("aiq_prediction_drifted",
                             "1 when prediction drift is detected.",
                             MetricType::Gauge);
  FamilyBuilder recon("aiq_reconstruction_error",
                      "Mean PCA reconstruction error of the window (numeric "
                      "features, standardized on the reference).",
                      MetricType::Gauge);
  FamilyBuilder recon_upper("aiq_reconstruction_error_upper_threshold",
                            "Reference chunks' mean + 3 sigma.",
                            MetricType::Gauge);
  FamilyBuilder recon_lower("aiq_reconstruction_error_lower_threshold",
                            "Reference chunks' mean - 3 sigma (>= 0).",
                            MetricType::Gauge);
  FamilyBuilder missing("aiq_feature_missing_ratio",
                        "Share of the window's predictions without a value "
                        "for the feature.",
                        MetricType::Gauge);
  FamilyBuilder new_category("aiq_feature_new_category_ratio",
                             "Share of values not seen in the reference.",
                             MetricType::Gauge);
  FamilyBuilder out_of_range("aiq_feature_out_of_range_ratio",
                             "Share of values outside the reference's "
                             "[min, max].",
                             MetricType::Gauge);
  FamilyBuilder reference_rows("aiq_reference_rows",
                               "Rows in the model's reference data.",
                               MetricType::Gauge);
  FamilyBuilder b_accuracy("aiq_baseline_accuracy",
                           "Accuracy of the reference's predictions.",
                           MetricType::Gauge);
  FamilyBuilder b_precision("aiq_baseline_precision",
                            "Precision of the reference's predictions.",
                            MetricType::Gauge);
  FamilyBuilder b_recall("aiq_baseline_recall",
                         "Recall of the reference's predictions.",
                         MetricType::Gauge);
  FamilyBuilder b_f1("aiq_baseline_f1", "F1 of the reference's predictions.",
                     MetricType::Gauge);
  FamilyBuilder b_mae("aiq_baseline_mae", "MAE of the reference.",
                      MetricType::Gauge);
  FamilyBuilder b_rmse("aiq_baseline_rmse", "RMSE of the reference.",
                       MetricType::Gauge);
  FamilyBuilder b_r2("aiq_baseline_r2", "R2 of the reference.",
                     MetricType::Gauge);
  FamilyBuilder b_mape("aiq_baseline_mape", "MAPE of the reference.",
                       MetricType::Gauge);

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
       {&score,        &p_value,      &drifted,        &ratio,
        &dataset,      &pred_score,   &pred_p,         &pred_drifted,
        &recon,        &recon_upper,  &recon_lower,    &missing,
        &new_category, &out_of_range, &reference_rows, &b_accuracy,
        &b_precision,  &b_recall,     &b_f1,           &b_mae,
        &b_rmse,       &b_r2,         &b_mape}) {
    if (!f->empty()) out.push_back(std::move(*f).Build());
  }
  return out;
}

}  // namespace aiq::metrics
