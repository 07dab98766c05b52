#include "exporter/metrics/self_metrics.h"

#include <prometheus/gauge.h>

namespace aiq::metrics {

const char* BuildVersion() { return AIQ_VERSION; }
const char* BuildRevision() { return AIQ_REVISION; }

SelfMetrics::SelfMetrics(int configured_models)
    : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::BuildGauge()
      .Name("aiq_exporter_build_info")
      .Help("Build identity; the value is always 1.")
      .Register(*registry_)
      .Add({{"version", BuildVersion()}, {"revision", BuildRevision()}})
      .Set(1);
  prometheus::BuildGauge()
      .Name("aiq_exporter_models")
      .Help("Models in the configuration.")
      .Register(*registry_)
      .Add({})
      .Set(configured_models);
  http_requests_ = &prometheus::BuildCounter()
                        .Name("aiq_exporter_http_requests_total")
                        .Help("HTTP requests served, by handler and code.")
                        .Register(*registry_);
  auto& received = prometheus::BuildCounter()
                       .Name("aiq_exporter_events_received_total")
                       .Help("Events found in request bodies, by kind.")
                       .Register(*registry_);
  auto& rejected = prometheus::BuildCounter()
                       .Name("aiq_exporter_events_rejected_total")
                       .Help("Events rejected, by kind and reason.")
                       .Register(*registry_);
  for (int k = 0; k < kKinds; ++k) {
    const std::string kind =
        ingest::EventKindName(static_cast<ingest::EventKind>(k));
    received_[k] = &received.Add({{"kind", kind}});
    for (int r = 0; r < ingest::kNumRejectReasons; ++r) {
      rejected_[k][r] = &rejected.Add(
          {{"kind", kind},
           {"reason",
            ingest::RejectReasonName(static_cast<ingest::RejectReason>(r))}});
    }
  }
  scrape_duration_ = &prometheus::BuildGauge()
                          .Name("aiq_exporter_scrape_duration_seconds")
                          .Help(
                              "Time the previous /metrics scrape took to "
                              "collect and serialize.")
                          .Register(*registry_)
                          .Add({});
}

void SelfMetrics::CountRequest(const std::string& handler, int code) {
  http_requests_->Add({{"handler", handler}, {"code", std::to_string(code)}})
      .Increment();
}

void SelfMetrics::CountReceived(ingest::EventKind kind, int64_t n) {
  received_[static_cast<int>(kind)]->Increment(static_cast<double>(n));
}

void SelfMetrics::CountRejected(ingest::EventKind kind,
                                ingest::RejectReason reason) {
  rejected_[static_cast<int>(kind)][static_cast<int>(reason)]->Increment();
}

void SelfMetrics::SetScrapeDuration(double seconds) {
  scrape_duration_->Set(seconds);
}

std::vector<prometheus::MetricFamily> SelfMetrics::Collect() const {
  return registry_->Collect();
}

}  // namespace aiq::metrics
