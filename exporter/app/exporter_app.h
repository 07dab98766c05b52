// The exporter application: owns the config, the model registry and the
// self-metrics, and answers HTTP requests (routing, authentication, ingest,
// /metrics, the models API, health, readiness and the landing page).
// Transport-free: the HTTP server hands it plain HttpRequest values, so it
// is tested without sockets.
//
// Example, given `config::Config config`:
//   #include "exporter/http/server.h"
//   ExporterApp app(std::move(config), util::Clock::Real());
//   if (absl::Status st = app.Init(); !st.ok()) return;
//   absl::StatusOr<std::unique_ptr<http::HttpServer>> server =
//       http::HttpServer::Start(
//           {.listen = "127.0.0.1:9477"},
//           [&](const http::HttpRequest& r) { return app.Handle(r); });
//   app.readiness().SetMet(ExporterApp::kServerCondition);  // /-/ready: 200
#ifndef AIQ_EXPORTER_APP_EXPORTER_APP_H_
#define AIQ_EXPORTER_APP_EXPORTER_APP_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "exporter/app/durable_state.h"
#include "exporter/app/readiness.h"
#include "exporter/config/config.h"
#include "exporter/http/basic_auth.h"
#include "exporter/http/http_types.h"
#include "exporter/ingest/decoder.h"
#include "exporter/metrics/self_metrics.h"
#include "exporter/model/model_registry.h"
#include "exporter/otlp/genai_mapping.h"
#include "exporter/otlp/otlp_request.h"
#include "exporter/review/review_log.h"
#include "exporter/review/review_sampler.h"
#include "exporter/util/clock.h"

namespace aiq::app {

class ExporterApp {
 public:
  // The start-up conditions /-/ready waits for (docs/api.md): the models'
  // references loaded and the review log opened (both by Init), and the
  // HTTP server listening (set by whoever starts it).
  static constexpr std::string_view kReferencesCondition = "references";
  static constexpr std::string_view kReviewLogCondition = "review_log";
  static constexpr std::string_view kServerCondition = "http_server";
  // With state.dir: the checkpoint loaded and the log replayed (by Init).
  static constexpr std::string_view kStateCondition = "state";

  ExporterApp(config::Config config, util::Clock* clock);
  ExporterApp(const ExporterApp&) = delete;
  ExporterApp& operator=(const ExporterApp&) = delete;

  // Loads every model's configured reference CSV, opens the review log
  // and, with state.dir, restores the durable state and starts its
  // checkpoints. Call before serving; an error names the model and the
  // file, line and column (or the review log's or state file's path).
  // FailedPrecondition from the state means it was written by an
  // incompatible version (or is not a state directory).
  absl::Status Init();
  absl::Status LoadReferences();

  http::HttpResponse Handle(const http::HttpRequest& request);
  // The answer to a request refused on its headers alone (404, 405, 401,
  // 415, 413, 429), or nullopt when its body is wanted: the server asks
  // before reading a large body (http::ServerOptions::screen).
  std::optional<http::HttpResponse> Screen(const http::HttpRequest& request);
  // The same for the OTLP-only listener (server.otlp_listen): the OTLP/HTTP
  // endpoints, and 404 for every other path.
  http::HttpResponse HandleOtlpListener(const http::HttpRequest& request);
  std::optional<http::HttpResponse> ScreenOtlpListener(
      const http::HttpRequest& request);

  // The web config's basic_auth_users (--web.config.file): with users, every
  // endpoint requires one of them (or the route's own token or
  // metrics_auth). Call before serving.
  void SetWebUsers(std::unique_ptr<http::BasicAuthUsers> users) {
    web_users_ = std::move(users);
  }

  // What /-/ready reports; more conditions may be added (e.g. state being
  // restored) and marked met when done.
  Readiness& readiness() { return readiness_; }

  const config::Config& config() const { return *config_; }
  model::ModelRegistry& registry() { return registry_; }
  // nullptr without state.dir.
  DurableState* durable() { return durable_.get(); }

 private:
  // What the router resolved for a route's handler.
  struct RouteContext {
    model::ModelState* model = nullptr;  // routes with {model}
    ingest::BodyFormat format{};         // routes with BodyPolicy::kEvents
    otlp::Encoding encoding{};           // routes with BodyPolicy::kOtlp
  };
  enum class AuthPolicy {
    kNone,
    kBearer,  // server.ingest_tokens (401 + WWW-Authenticate: Bearer)
    kBasic,   // server.metrics_auth (401 + WWW-Authenticate: Basic)
  };
  enum class BodyPolicy {
    kAny,     // any body (or none); only its size is checked
    kEvents,  // a JSON or NDJSON Content-Type, else 415
    // OTLP/HTTP: a protobuf or JSON Content-Type, else 415; refusals are
    // google.rpc.Status bodies.
    kOtlp,
  };
  // One endpoint. A request is matched against the table once; the checks
  // every route shares (method, authentication, body size, content type,
  // model lookup) run from the route's policy, then its handler answers.
  struct Route {
    // The path; "{model}" stands for a model name (which may not be
    // empty). Also the `handler` label of aiq_exporter_http_requests_total.
    std::string_view pattern;
    std::string_view method;  // a GET route also answers HEAD
    AuthPolicy auth;
    BodyPolicy body;
    std::function<http::HttpResponse(const http::HttpRequest&,
                                     const RouteContext&)>
        handle;
  };
  std::vector<Route> BuildRoutes();
  // The route whose pattern matches `path`, with the {model} text in
  // `model_name`; nullptr when none does.
  const Route* Match(std::string_view path, std::string_view& model_name) const;
  // The checks every route shares, on the headers alone; the refusal, or
  // nullopt with `route` and `context` set for its handler. `handler` is
  // set to the matched route's pattern.
  std::optional<http::HttpResponse> Check(const http::HttpRequest& request,
                                          std::string_view& handler,
                                          const Route*& route,
                                          RouteContext& context);

  http::HttpResponse Ingest(ingest::EventKind kind, ingest::BodyFormat format,
                            const http::HttpRequest& request);
  // The durable path of Ingest: Idempotency-Key, log, apply, fsync.
  http::HttpResponse IngestDurably(ingest::EventKind kind,
                                   ingest::BodyFormat format,
                                   const http::HttpRequest& request,
                                   ingest::DecodeResult& decoded,
                                   absl::Time decode_time);
  // The answer to an ingest request once its events were applied; also
  // what replay recomputes for a remembered Idempotency-Key.
  http::HttpResponse IngestAnswer(ingest::EventKind kind,
                                  const model::ApplyResult& applied,
                                  bool count);
  // OTLP/HTTP ingest (otlp_ingest.cc): decode, map (docs/otlp.md), apply
  // as the JSON API does, answer with partial_success.
  http::HttpResponse IngestOtlp(otlp::Signal signal, otlp::Encoding encoding,
                                const http::HttpRequest& request);
  // Decodes and maps an OTLP body; serving and replay alike.
  absl::StatusOr<otlp::MappedRequest> MapOtlp(otlp::Signal signal,
                                              otlp::Encoding encoding,
                                              std::string_view body,
                                              absl::Time now) const;
  // An OTLP route's refusal (404 ... 429) as the google.rpc.Status the
  // OTLP/HTTP spec answers with, in the request's encoding when known.
  static http::HttpResponse OtlpRefusal(http::HttpResponse refusal,
                                        const http::HttpRequest& request);
  // Logs `record` and applies `decoded` under the state's commit lock:
  // the record's sequence number, or the 503 to answer (nothing applied).
  absl::StatusOr<uint64_t> CommitEvents(state::LogRecord& record,
                                        ingest::DecodeResult& decoded,
                                        model::ApplyResult& applied);
  // Replays one state log record (DurableState::Recover).
  absl::Status ApplyRecord(const state::LogRecord& record);
  // Parses and validates a reference CSV for `m` (the PUT body).
  absl::StatusOr<std::shared_ptr<const model::ModelReference>> ParseReference(
      const config::ModelConfig& m, std::string_view csv) const;
  // Copies sampled accepted events to the review log. `record_seq`: the
  // request's state log record (with state.dir), which keys the random
  // draws so the sampled set continues across restarts.
  void SampleForReview(const ingest::DecodeResult& decoded,
                       const model::ApplyResult& applied,
                       std::optional<uint64_t> record_seq = std::nullopt);
  http::HttpResponse Metrics(const http::HttpRequest& request);
  http::HttpResponse Models();
  http::HttpResponse Drift(model::ModelState& state,
                           const http::HttpRequest& request);
  http::HttpResponse PutReference(model::ModelState& state,
                                  const http::HttpRequest& request);
  http::HttpResponse Ready() const;
  http::HttpResponse Landing() const;

  bool Authorized(AuthPolicy auth, const http::HttpRequest& request) const;
  bool IngestAuthorized(const http::HttpRequest& request) const;
  bool MetricsAuthorized(const http::HttpRequest& request) const;

  // Heap-allocated so the references the registry and decoder hold stay
  // valid however the app is stored.
  std::unique_ptr<const config::Config> config_;
  util::Clock* clock_;
  // With state.dir, the models run on this clock (see durable_state.h).
  util::FakeClock model_clock_{absl::UnixEpoch()};
  ingest::Decoder decoder_;
  otlp::GenAiMapper genai_mapper_;
  review::ReviewSampler review_sampler_;
  std::unique_ptr<review::ReviewLog> review_log_;  // nullptr: review off
  model::ModelRegistry registry_;
  std::unique_ptr<DurableState> durable_;  // nullptr without state.dir
  metrics::SelfMetrics self_;
  std::unique_ptr<http::BasicAuthUsers> web_users_;  // nullptr: none
  Readiness readiness_;
  // Built once by the constructor; handlers capture `this`, so the app is
  // neither copied nor moved.
  std::vector<Route> routes_;
};

}  // namespace aiq::app

#endif  // AIQ_EXPORTER_APP_EXPORTER_APP_H_
