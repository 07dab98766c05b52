// Exposition of the streaming quality windows (model/quality_window.h): the
// quality, calibration, confidence, concept-drift and fairness families of
// docs/metrics.md, one family per metric name across all models.
//
// Example, given `const config::Config& config`,
// `const std::vector<model::ModelSnapshot>& snapshots` (parallel to
// config.models) and `std::vector<prometheus::MetricFamily>& families`:
//   #include "exporter/model/model_state.h"
//   aiq::metrics::QualityFamilies quality;
//   for (size_t i = 0; i < snapshots.size(); ++i) {
//     const model::ModelSnapshot& m = snapshots[i];
//     quality.Append(m.name, config.models[i], m.versions, m.classes,
//                    m.quality);  // QualitySnapshots, parallel to versions
//   }
//   std::move(quality).Finish(families);  // appends to the scrape
//
// A statistic that is absent in a snapshot (below window.min_samples)
// produces no sample; a family without samples is not emitted at all.
#ifndef AIQ_EXPORTER_METRICS_QUALITY_METRICS_H_
#define AIQ_EXPORTER_METRICS_QUALITY_METRICS_H_

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "exporter/config/config.h"
#include "exporter/metrics/family_builder.h"
#include "exporter/model/quality_window.h"

namespace aiq::metrics {

class QualityFamilies {
 public:
  QualityFamilies();

  // One model. `versions` and `per_version` are parallel; `classes` names
  // class index i (declared classes, then those registered from traffic; a
  // class index without a name is not exported); `cfg` names the segment
  // attributes and values (index values.size() is "other").
  void Append(const std::string& model, const config::ModelConfig& cfg,
              const std::vector<std::string>& versions,
              const std::vector<std::string>& classes,
              const std::vector<model::QualitySnapshot>& per_version);

  // Appends every family that has samples to `out`, in a fixed order.
  void Finish(std::vector<prometheus::MetricFamily>& out) &&;

 private:
  void AppendVersion(const Labels& mv, const config::ModelConfig& cfg,
                     const std::vector<std::string>& classes,
                     const model::QualitySnapshot& q);

  FamilyBuilder window_samples_;
  FamilyBuilder accuracy_;
  FamilyBuilder precision_;
  FamilyBuilder recall_;
  FamilyBuilder f1_;
  FamilyBuilder class_f1_;
  FamilyBuilder ece_;
  FamilyBuilder brier_;
  FamilyBuilder low_confidence_ratio_;
  FamilyBuilder confidence_;
  FamilyBuilder mae_;
  FamilyBuilder rmse_;
  FamilyBuilder r2_;
  FamilyBuilder mape_;
  FamilyBuilder estimated_accuracy_;
  FamilyBuilder drift_detections_;
  FamilyBuilder drift_warning_;
  FamilyBuilder segment_accuracy_;
  FamilyBuilder segment_positive_rate_;
  FamilyBuilder segment_tpr_;
  FamilyBuilder demographic_parity_;
  FamilyBuilder equal_opportunity_;
};

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_QUALITY_METRICS_H_
