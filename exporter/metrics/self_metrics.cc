#include "exporter/metrics/self_metrics.h"

#include <prometheus/gauge.h>

#include "exporter/metrics/catalogue.h"

namespace aiq::metrics {
namespace {

// A prometheus-cpp family builder named and described by its catalogue entry.
template <typename Builder>
Builder& Describe(Builder&& builder, const MetricDef& def) {
  return builder.Name(std::string(def.name)).Help(std::string(def.help));
}

}  // namespace

const char* BuildVersion() { return AIQ_VERSION; }
const char* BuildRevision() { return AIQ_REVISION; }

SelfMetrics::SelfMetrics(int configured_models)
    : registry_(std::make_shared<prometheus::Registry>()) {
  Describe(prometheus::BuildGauge(), kExporterBuildInfo)
      .Register(*registry_)
      .Add({{"version", BuildVersion()}, {"revision", BuildRevision()}})
      .Set(1);
  Describe(prometheus::BuildGauge(), kExporterModels)
      .Register(*registry_)
      .Add({})
      .Set(configured_models);
  http_requests_ =
      &Describe(prometheus::BuildCounter(), kExporterHttpRequestsTotal)
           .Register(*registry_);
  auto& received =
      Describe(prometheus::BuildCounter(), kExporterEventsReceivedTotal)
          .Register(*registry_);
  auto& rejected =
      Describe(prometheus::BuildCounter(), kExporterEventsRejectedTotal)
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
  auto& ignored =
      Describe(prometheus::BuildCounter(), kExporterOtlpIgnoredTotal)
          .Register(*registry_);
  for (int s = 0; s < otlp::kNumSignals; ++s) {
    otlp_ignored_[s] = &ignored.Add(
        {{"signal", otlp::SignalName(static_cast<otlp::Signal>(s))}});
  }
  scrape_duration_ =
      &Describe(prometheus::BuildGauge(), kExporterScrapeDurationSeconds)
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

void SelfMetrics::CountOtlpIgnored(otlp::Signal signal, int64_t n) {
  otlp_ignored_[static_cast<int>(signal)]->Increment(static_cast<double>(n));
}

void SelfMetrics::SetScrapeDuration(double seconds) {
  scrape_duration_->Set(seconds);
}

std::vector<prometheus::MetricFamily> SelfMetrics::Collect() const {
  return registry_->Collect();
}

}  // namespace aiq::metrics
