// The exporter application: owns the config, the model registry and the
// self-metrics, and answers HTTP requests (routing, authentication, ingest,
// /metrics, the models API, health and the landing page). Transport-free:
// the HTTP server hands it plain HttpRequest values, so it is tested
// without sockets.
//
// Example, given `config::Config config`:
//   #include "exporter/http/server.h"
//   ExporterApp app(std::move(config), util::Clock::Real());
//   absl::StatusOr<std::unique_ptr<http::HttpServer>> server =
//       http::HttpServer::Start(
//           {.listen = "127.0.0.1:9477"},
//           [&](const http::HttpRequest& r) { return app.Handle(r); });
#ifndef AIQ_EXPORTER_APP_EXPORTER_APP_H_
#define AIQ_EXPORTER_APP_EXPORTER_APP_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "exporter/config/config.h"
#include "exporter/http/http_types.h"
#include "exporter/ingest/decoder.h"
#include "exporter/metrics/self_metrics.h"
#include "exporter/model/model_registry.h"
#include "exporter/review/review_log.h"
#include "exporter/review/review_sampler.h"
#include "exporter/util/clock.h"

namespace aiq::app {

class ExporterApp {
 public:
  ExporterApp(config::Config config, util::Clock* clock);

  // Loads every model's configured reference CSV and opens the review log.
  // Call before serving; an error names the model and the file, line and
  // column (or the review log's path).
  absl::Status Init();
  absl::Status LoadReferences();

  http::HttpResponse Handle(const http::HttpRequest& request);

  // /-/ready answers 503 until set (e.g. while references load).
  void SetReady(bool ready) { ready_.store(ready); }

  const config::Config& config() const { return *config_; }
  model::ModelRegistry& registry() { return registry_; }

 private:
  http::HttpResponse Route(const http::HttpRequest& request,
                           std::string& handler);
  http::HttpResponse Ingest(ingest::EventKind kind,
                            const http::HttpRequest& request);
  // Copies sampled accepted events to the review log.
  void SampleForReview(const ingest::DecodeResult& decoded,
                       const model::ApplyResult& applied);
  http::HttpResponse Metrics(const http::HttpRequest& request);
  http::HttpResponse Models();
  http::HttpResponse Drift(model::ModelState& state,
                           const http::HttpRequest& request);
  http::HttpResponse PutReference(model::ModelState& state,
                                  const http::HttpRequest& request);
  http::HttpResponse Landing();

  bool IngestAuthorized(const http::HttpRequest& request) const;
  bool MetricsAuthorized(const http::HttpRequest& request) const;

  // Heap-allocated so references held by the registry and decoder stay
  // valid if the app is moved.
  std::unique_ptr<const config::Config> config_;
  util::Clock* clock_;
  ingest::Decoder decoder_;
  review::ReviewSampler review_sampler_;
  std::unique_ptr<review::ReviewLog> review_log_;  // nullptr: review off
  model::ModelRegistry registry_;
  metrics::SelfMetrics self_;
  std::atomic<bool> ready_{true};
};

}  // namespace aiq::app

#endif  // AIQ_EXPORTER_APP_EXPORTER_APP_H_
