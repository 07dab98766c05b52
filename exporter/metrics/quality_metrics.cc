#include "exporter/metrics/quality_metrics.h"

#include <optional>
#include <utility>

namespace aiq::metrics {
namespace {

void GaugeIf(FamilyBuilder& f, const Labels& l, std::optional<double> v) {
  if (v.has_value()) f.Gauge(l, *v);
}

// The histogram bounds, as FamilyBuilder::Histogram takes them.
const std::vector<double>& ConfidenceBounds() {
  static const std::vector<double>* bounds = new std::vector<double>(
      model::kConfidenceBounds.begin(), model::kConfidenceBounds.end());
  return *bounds;
}

}  // namespace

QualityFamilies::QualityFamilies()
    : window_samples_(kWindowSamples),
      accuracy_(kAccuracy),
      precision_(kPrecision),
      recall_(kRecall),
      f1_(kF1),
      class_f1_(kClassF1),
      ece_(kExpectedCalibrationError),
      brier_(kBrierScore),
      low_confidence_ratio_(kLowConfidenceRatio),
      confidence_(kConfidence),
      mae_(kMae),
      rmse_(kRmse),
      r2_(kR2),
      mape_(kMape),
      estimated_accuracy_(kEstimatedAccuracy),
      drift_detections_(kConceptDriftDetectionsTotal),
      drift_warning_(kConceptDriftWarning),
      segment_accuracy_(kSegmentAccuracy),
      segment_positive_rate_(kSegmentPositiveRate),
      segment_tpr_(kSegmentTpr),
      demographic_parity_(kDemographicParityDifference),
      equal_opportunity_(kEqualOpportunityDifference) {}

void QualityFamilies::Append(
    const std::string& model, const config::ModelConfig& cfg,
    const std::vector<std::string>& versions,
    const std::vector<std::string>& classes,
    const std::vector<model::QualitySnapshot>& per_version) {
  for (size_t v = 0; v < versions.size() && v < per_version.size(); ++v) {
    AppendVersion({{"model", model}, {"version", versions[v]}}, cfg, classes,
                  per_version[v]);
  }
}

void QualityFamilies::AppendVersion(const Labels& mv,
                                    const config::ModelConfig& cfg,
                                    const std::vector<std::string>& classes,
                                    const model::QualitySnapshot& q) {
  window_samples_.Gauge(With(mv, "kind", "predictions"),
                        static_cast<double>(q.predictions));
  window_samples_.Gauge(With(mv, "kind", "labeled"),
                        static_cast<double>(q.labeled));
  if (q.classification.has_value()) {
    const stats::ClassificationMetrics& c = *q.classification;
    accuracy_.Gauge(mv, c.accuracy);
    precision_.Gauge(With(mv, "average", "macro"), c.precision_macro);
    precision_.Gauge(With(mv, "average", "weighted"), c.precision_weighted);
    recall_.Gauge(With(mv, "average", "macro"), c.recall_macro);
    recall_.Gauge(With(mv, "average", "weighted"), c.recall_weighted);
    f1_.Gauge(With(mv, "average", "macro"), c.f1_macro);
    f1_.Gauge(With(mv, "average", "weighted"), c.f1_weighted);
    for (const stats::ClassMetrics& k : c.per_class) {
      if (k.class_index < 0 ||
          static_cast<size_t>(k.class_index) >= classes.size()) {
        continue;
      }
      class_f1_.Gauge(
          With(mv, "class", classes[static_cast<size_t>(k.class_index)]), k.f1);
    }
  }
  GaugeIf(ece_, mv, q.ece);
  GaugeIf(brier_, mv, q.brier);
  GaugeIf(low_confidence_ratio_, mv, q.low_confidence_ratio);
  if (q.confidence.has_value()) {
    confidence_.Histogram(mv, ConfidenceBounds(),
                          std::vector<uint64_t>(q.confidence->counts.begin(),
                                                q.confidence->counts.end()),
                          q.confidence->sum);
  }
  if (q.regression.has_value()) {
    mae_.Gauge(mv, q.regression->mae);
    rmse_.Gauge(mv, q.regression->rmse);
    r2_.Gauge(mv, q.regression->r2);
    mape_.Gauge(mv, q.regression->mape);
  }
  GaugeIf(estimated_accuracy_, mv, q.estimated_accuracy);
  for (const model::ConceptDriftState& d : q.concept_drift) {
    const Labels l = With(mv, "detector", model::DetectorName(d.detector));
    drift_detections_.Counter(l, static_cast<double>(d.detections));
    drift_warning_.Gauge(l, d.warning ? 1 : 0);
  }
  for (size_t a = 0; a < q.segments.size() && a < cfg.segments.size(); ++a) {
    const config::SegmentConfig& attr = cfg.segments[a];
    const model::SegmentAttributeQuality& s = q.segments[a];
    const Labels la = With(mv, "attribute", attr.attribute);
    for (size_t v = 0; v < s.values.size(); ++v) {
      const model::SegmentValueQuality& sv = s.values[v];
      if (!sv.accuracy && !sv.positive_rate && !sv.tpr) continue;
      const Labels l = With(la, "segment",
                            v < attr.values.size() ? attr.values[v] : "other");
      GaugeIf(segment_accuracy_, l, sv.accuracy);
      GaugeIf(segment_positive_rate_, l, sv.positive_rate);
      GaugeIf(segment_tpr_, l, sv.tpr);
    }
    GaugeIf(demographic_parity_, la, s.demographic_parity_difference);
    GaugeIf(equal_opportunity_, la, s.equal_opportunity_difference);
  }
}

void QualityFamilies::Finish(std::vector<prometheus::MetricFamily>& out) && {
  for (FamilyBuilder* f : {&window_samples_,
                           &accuracy_,
                           &precision_,
                           &recall_,
                           &f1_,
                           &class_f1_,
                           &ece_,
                           &brier_,
                           &low_confidence_ratio_,
                           &confidence_,
                           &mae_,
                           &rmse_,
                           &r2_,
                           &mape_,
                           &estimated_accuracy_,
                           &drift_detections_,
                           &drift_warning_,
                           &segment_accuracy_,
                           &segment_positive_rate_,
                           &segment_tpr_,
                           &demographic_parity_,
                           &equal_opportunity_}) {
    if (!f->empty()) out.push_back(std::move(*f).Build());
  }
}

}  // namespace aiq::metrics
