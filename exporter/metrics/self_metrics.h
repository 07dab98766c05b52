// The exporter's own metrics: build info, HTTP requests, events received and
// rejected, scrape duration. Kept in a prometheus-cpp Registry (these are
// few and low-rate compared to model events); label sets with fixed values
// are resolved once, so hot-path updates are a single atomic add.
//
// Example:
//   SelfMetrics self(/*configured_models=*/3);
//   self.CountRequest("/metrics", 200);
//   self.CountRejected(ingest::EventKind::kLabel,
//                      ingest::RejectReason::kUnknownModel);
#ifndef AIQ_EXPORTER_METRICS_SELF_METRICS_H_
#define AIQ_EXPORTER_METRICS_SELF_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "exporter/ingest/event.h"
#include "exporter/otlp/otlp_request.h"

namespace aiq::metrics {

class SelfMetrics {
 public:
  explicit SelfMetrics(int configured_models);

  void CountRequest(const std::string& handler, int code);
  void CountReceived(ingest::EventKind kind, int64_t n);
  void CountRejected(ingest::EventKind kind, ingest::RejectReason reason);
  // OTLP spans and log records that are not GenAI telemetry (docs/otlp.md).
  void CountOtlpIgnored(otlp::Signal signal, int64_t n);
  void SetScrapeDuration(double seconds);

  std::vector<prometheus::MetricFamily> Collect() const;

 private:
  static constexpr int kKinds = ingest::kNumEventKinds;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* http_requests_;
  std::array<prometheus::Counter*, kKinds> received_{};
  std::array<std::array<prometheus::Counter*, ingest::kNumRejectReasons>,
             kKinds>
      rejected_{};
  std::array<prometheus::Counter*, otlp::kNumSignals> otlp_ignored_{};
  prometheus::Gauge* scrape_duration_;
};

// The exporter's version and the git revision it was built from.
const char* BuildVersion();
const char* BuildRevision();

}  // namespace aiq::metrics

#endif  // AIQ_EXPORTER_METRICS_SELF_METRICS_H_
