#include "exporter/metrics/scrape.h"

#include <utility>

#include "exporter/metrics/drift_metrics.h"
#include "exporter/metrics/model_metrics.h"
#include "exporter/metrics/process_metrics.h"
#include "exporter/metrics/quality_metrics.h"
#include "exporter/metrics/review_metrics.h"
#include "exporter/metrics/state_metrics.h"

namespace aiq::metrics {
namespace {

void Append(std::vector<prometheus::MetricFamily>& out,
            std::vector<prometheus::MetricFamily> more) {
  for (auto& f : more) out.push_back(std::move(f));
}

}  // namespace

std::vector<prometheus::MetricFamily> Scrape(const ScrapeSources& sources) {
  std::vector<prometheus::MetricFamily> families = sources.self.Collect();
  if (sources.process) Append(families, ProcessFamilies());
  Append(families, ModelFamilies(sources.models));
  Append(families, DriftFamilies(sources.models));
  QualityFamilies quality;
  for (const model::ModelSnapshot& s : sources.models) {
    quality.Append(s.name, *sources.config.FindModel(s.name), s.versions,
                   s.classes, s.quality);
  }
  std::move(quality).Finish(families);
  if (sources.review != nullptr) {
    AppendReviewFamilies(*sources.review, families);
  }
  if (sources.state != nullptr) AppendStateFamilies(*sources.state, families);
  return families;
}

}  // namespace aiq::metrics
