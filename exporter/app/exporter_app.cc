#include "exporter/app/exporter_app.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exporter/app/drift_report.h"
#include "exporter/data/csv.h"
#include "exporter/ingest/event_json.h"
#include "exporter/metrics/exposition.h"
#include "exporter/metrics/scrape.h"
#include "exporter/otlp/otlp_decoder.h"
#include "exporter/report/report_json.h"
#include "exporter/util/absl_compat.h"
#include "exporter/util/binary_codec.h"
#include "exporter/util/gzip.h"
#include "exporter/util/html.h"

namespace aiq::app {
namespace {

using http::HttpRequest;
using http::HttpResponse;
using nlohmann::json;

// The ingest response lists at most this many errors; counts are complete.
constexpr size_t kMaxReportedErrors = 50;

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

HttpResponse Error(int status, std::string message) {
  return Json(status, json{{"error", std::move(message)}});
}

constexpr size_t kMaxIdempotencyKeyBytes = 255;

metrics::StateCounts StateCountsOf(const DurableStateStats& s) {
  metrics::StateCounts c;
  c.log_bytes = s.store.log_bytes_appended;
  c.log_records = s.store.records_appended;
  c.fsyncs = s.store.syncs;
  c.write_errors = s.store.append_errors + s.store.sync_errors;
  c.store_bytes = s.store.store_bytes;
  c.join_memory_bytes = s.join.memtable_bytes + s.join.block_cache_bytes;
  c.join_disk_bytes = s.join.live_sst_bytes;
  c.disk_free_bytes = s.store.disk_free_bytes;
  c.checkpoints = s.checkpoints;
  c.checkpoint_failures = s.checkpoint_failures;
  c.checkpoint_duration_seconds = s.last_checkpoint_seconds;
  const absl::Time since = s.last_checkpoint_time == absl::InfinitePast()
                               ? s.started
                               : s.last_checkpoint_time;
  c.checkpoint_age_seconds = absl::ToDoubleSeconds(absl::Now() - since);
  c.checkpoint_bytes = s.last_checkpoint_bytes;
  c.recovered_records = s.recovery.records_replayed;
  c.corrupt_records =
      s.recovery.records_corrupt +
      static_cast<int64_t>(s.recovery.skipped_checkpoints.size());
  c.restore_duration_seconds =
      absl::ToDoubleSeconds(s.recovery.log_open + s.recovery.took);
  c.idempotent_replays = s.idempotent_replays;
  return c;
}

// A remembered answer: its status and body (always JSON).
std::string EncodeAnswer(const HttpResponse& r) {
  util::BinaryWriter w;
  w.Signed(r.status);
  w.String(r.body);
  return w.Release();
}

HttpResponse StillProcessing() {
  return Error(409,
               "a request with this Idempotency-Key is still being "
               "processed; retry after it has been answered");
}

// The stored answer to a retry, once the first attempt is durable.
// `held`: ingest waits for a checkpoint after a failed fsync.
HttpResponse AnsweredBefore(const state::StoredAnswer& a, bool held) {
  if (!a.durable) {
    if (!held) return StillProcessing();
    HttpResponse r =
        Error(503,
              "state: the request with this Idempotency-Key was applied but "
              "is not durable yet (an fdatasync of the state log failed); "
              "retry with the same key once ingest resumes");
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  util::BinaryReader rd(a.answer);
  HttpResponse r;
  r.status = static_cast<int>(rd.Int("answer status", 100, 599));
  r.body = rd.String("answer body");
  if (!rd.Finish().ok()) {
    return Error(500,
                 "the answer remembered for this Idempotency-Key is "
                 "damaged; nothing was applied now");
  }
  r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

// Compares without an early exit, so timing does not reveal a prefix.
bool SecretEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace

ExporterApp::ExporterApp(config::Config config, util::Clock* clock)
    : config_(std::make_unique<const config::Config>(std::move(config))),
      clock_(clock),
      decoder_(*config_),
      genai_mapper_(*config_),
      review_sampler_(config_->review),
      registry_(*config_, config_->state.dir.empty() ? clock : &model_clock_),
      self_(static_cast<int>(config_->models.size())),
      routes_(BuildRoutes()) {
  readiness_.Add(kReferencesCondition,
                 "the models' reference data is not loaded yet");
  readiness_.Add(kReviewLogCondition, "the review log is not open yet");
  readiness_.Add(kServerCondition, "the HTTP server is not listening yet");
  if (!config_->state.dir.empty()) {
    readiness_.Add(kStateCondition,
                   "the durable state is not restored yet (checkpoint and "
                   "log replay)");
  }
}

std::vector<ExporterApp::Route> ExporterApp::BuildRoutes() {
  using ingest::EventKind;
  auto ingest = [this](EventKind kind) {
    return [this, kind](const HttpRequest& req, const RouteContext& c) {
      return Ingest(kind, c.format, req);
    };
  };
  auto otlp_ingest = [this](otlp::Signal signal) {
    return [this, signal](const HttpRequest& req, const RouteContext& c) {
      return IngestOtlp(signal, c.encoding, req);
    };
  };
  // Every route of docs/api.md; the order is the label order of docs.
  return {
      {"/api/v1/predictions", "POST", AuthPolicy::kBearer, BodyPolicy::kEvents,
       ingest(EventKind::kPrediction)},
      {"/api/v1/labels", "POST", AuthPolicy::kBearer, BodyPolicy::kEvents,
       ingest(EventKind::kLabel)},
      {"/api/v1/feedback", "POST", AuthPolicy::kBearer, BodyPolicy::kEvents,
       ingest(EventKind::kFeedback)},
      {"/api/v1/evaluations", "POST", AuthPolicy::kBearer, BodyPolicy::kEvents,
       ingest(EventKind::kEvaluation)},
      {"/v1/traces", "POST", AuthPolicy::kBearer, BodyPolicy::kOtlp,
       otlp_ingest(otlp::Signal::kTraces)},
      {"/v1/logs", "POST", AuthPolicy::kBearer, BodyPolicy::kOtlp,
       otlp_ingest(otlp::Signal::kLogs)},
      {"/v1/metrics", "POST", AuthPolicy::kBearer, BodyPolicy::kOtlp,
       otlp_ingest(otlp::Signal::kMetrics)},
      {"/api/v1/models", "GET", AuthPolicy::kBearer, BodyPolicy::kAny,
       [this](const HttpRequest&, const RouteContext&) { return Models(); }},
      {"/metrics", "GET", AuthPolicy::kBasic, BodyPolicy::kAny,
       [this](const HttpRequest& req, const RouteContext&) {
         return Metrics(req);
       }},
      {"/-/healthy", "GET", AuthPolicy::kNone, BodyPolicy::kAny,
       [](const HttpRequest&, const RouteContext&) {
         return HttpResponse{200, "text/plain; charset=utf-8", "Healthy\n", {}};
       }},
      {"/-/ready", "GET", AuthPolicy::kNone, BodyPolicy::kAny,
       [this](const HttpRequest&, const RouteContext&) { return Ready(); }},
      {"/", "GET", AuthPolicy::kNone, BodyPolicy::kAny,
       [this](const HttpRequest&, const RouteContext&) { return Landing(); }},
      {"/api/v1/models/{model}/drift", "GET", AuthPolicy::kBearer,
       BodyPolicy::kAny,
       [this](const HttpRequest& req, const RouteContext& c) {
         return Drift(*c.model, req);
       }},
      {"/api/v1/models/{model}/reference", "PUT", AuthPolicy::kBearer,
       BodyPolicy::kAny,
       [this](const HttpRequest& req, const RouteContext& c) {
         return PutReference(*c.model, req);
       }},
  };
}

absl::Status ExporterApp::Init() {
  if (absl::Status st = LoadReferences(); !st.ok()) return st;
  absl::StatusOr<std::unique_ptr<review::ReviewLog>> log =
      review::ReviewLog::Open(*config_);
  if (!log.ok()) return log.status();
  review_log_ = *std::move(log);
  readiness_.SetMet(kReviewLogCondition);
  if (config_->state.dir.empty()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<DurableState>> durable =
      DurableState::Open(*config_, registry_, model_clock_, clock_);
  if (!durable.ok()) return durable.status();
  durable_ = *std::move(durable);
  review_sampler_.SetSeed(durable_->stream_seed());
  absl::StatusOr<RecoveryReport> report = durable_->Recover(
      [this](const state::LogRecord& r) { return ApplyRecord(r); });
  if (!report.ok()) return report.status();
  for (const std::string& s : report->skipped_checkpoints) {
    std::cerr << "state: damaged checkpoint skipped: " << s << std::endl;
  }
  for (const std::string& s : report->log_repairs) {
    std::cerr << "state: log repaired: " << s << std::endl;
  }
  for (const std::string& s : report->dropped) {
    std::cerr << "state: dropped (config changed): " << s << std::endl;
  }
  std::cerr << "state: restored from "
            << (report->checkpoint_path.empty() ? std::string("no checkpoint")
                                                : report->checkpoint_path)
            << " + " << report->records_replayed << " log records ("
            << report->records_corrupt << " corrupt) in "
            << absl::FormatDuration(report->took) << " (log opened in "
            << absl::FormatDuration(report->log_open)
            << " before; checkpoint read "
            << absl::FormatDuration(report->checkpoint_read) << ", decode "
            << absl::FormatDuration(report->checkpoint_decode) << ")"
            << std::endl;
  durable_->Start();
  readiness_.SetMet(kStateCondition);
  return absl::OkStatus();
}

absl::Status ExporterApp::ApplyRecord(const state::LogRecord& r) {
  if (r.type == state::LogRecord::Type::kReference) {
    model::ModelState* state = registry_.Find(r.model);
    if (state == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("model \"", r.model, "\" is no longer configured"));
    }
    absl::StatusOr<std::shared_ptr<const model::ModelReference>> ref =
        ParseReference(state->config(), r.body);
    if (!ref.ok()) return ref.status();
    state->SetReference(*std::move(ref));
    durable_->NoteReference(r.model, r.body);
    return absl::OkStatus();
  }
  if (r.type == state::LogRecord::Type::kOtlp) {
    absl::StatusOr<otlp::MappedRequest> mapped =
        MapOtlp(r.signal, r.encoding, r.body, r.decode_time);
    if (!mapped.ok()) return mapped.status();
    model_clock_.Set(r.time);
    registry_.Apply(mapped->decoded);
    return absl::OkStatus();
  }
  absl::StatusOr<ingest::DecodeResult> decoded =
      decoder_.Decode(r.kind, r.format, r.body, r.decode_time);
  if (!decoded.ok()) return decoded.status();
  model_clock_.Set(r.time);
  model::ApplyResult applied = registry_.Apply(*decoded);
  // The answer may not have reached the store before a crash: recompute it
  // (replay reaches the same result) so a retry still gets it.
  if (!r.idempotency_key.empty() &&
      !durable_->FindAnswer(r.idempotency_key, /*count=*/false)) {
    const HttpResponse answer = IngestAnswer(r.kind, applied, /*count=*/false);
    durable_->RememberAnswer(r.idempotency_key, EncodeAnswer(answer), r.seq);
  }
  return absl::OkStatus();
}

absl::Status ExporterApp::LoadReferences() {
  if (absl::Status st = registry_.LoadReferences(); !st.ok()) return st;
  readiness_.SetMet(kReferencesCondition);
  return absl::OkStatus();
}

HttpResponse ExporterApp::Handle(const HttpRequest& request) {
  std::string_view handler = "other";
  const Route* route = nullptr;
  RouteContext context;
  std::optional<HttpResponse> refusal = Check(request, handler, route, context);
  HttpResponse r =
      refusal ? *std::move(refusal) : route->handle(request, context);
  if (refusal && route != nullptr && route->body == BodyPolicy::kOtlp) {
    r = OtlpRefusal(std::move(r), request);
  }
  self_.CountRequest(std::string(handler), r.status);
  return r;
}

std::optional<HttpResponse> ExporterApp::Screen(const HttpRequest& request) {
  std::string_view handler = "other";
  const Route* route = nullptr;
  RouteContext context;
  std::optional<HttpResponse> refusal = Check(request, handler, route, context);
  if (!refusal) return refusal;
  self_.CountRequest(std::string(handler), refusal->status);
  if (route != nullptr && route->body == BodyPolicy::kOtlp) {
    return OtlpRefusal(*std::move(refusal), request);
  }
  return refusal;
}

const ExporterApp::Route* ExporterApp::Match(
    std::string_view path, std::string_view& model_name) const {
  constexpr std::string_view kModel = "{model}";
  for (const Route& route : routes_) {
    const size_t at = route.pattern.find(kModel);
    if (at == std::string_view::npos) {
      if (path == route.pattern) return &route;
      continue;
    }
    // prefix{model}suffix; a name may contain '/', so the suffix is
    // matched at the end of the path.
    const std::string_view prefix = route.pattern.substr(0, at);
    const std::string_view suffix = route.pattern.substr(at + kModel.size());
    if (path.size() > prefix.size() + suffix.size() &&
        path.substr(0, prefix.size()) == prefix &&
        path.substr(path.size() - suffix.size()) == suffix) {
      model_name = path.substr(prefix.size(),
                               path.size() - prefix.size() - suffix.size());
      return &route;
    }
  }
  return nullptr;
}

std::optional<HttpResponse> ExporterApp::Check(const HttpRequest& req,
                                               std::string_view& handler,
                                               const Route*& route,
                                               RouteContext& context) {
  std::string_view model_name;
  route = Match(req.path, model_name);
  if (route == nullptr) {
    return Error(404, absl::StrCat("no such endpoint: ", req.path,
                                   " (see / for the list)"));
  }
  handler = route->pattern;

  // The checks every route shares, authentication before the body (an
  // unauthenticated client learns nothing else).
  const bool head = req.method == "HEAD" && route->method == "GET";
  if (req.method != route->method && !head) {
    HttpResponse r =
        Error(405, absl::StrCat(req.method, " not allowed on ", req.path,
                                "; use ", util::ToAbsl(route->method)));
    r.headers.emplace_back("Allow", route->method);
    return r;
  }
  if (!Authorized(route->auth, req)) {
    const bool basic = route->auth == AuthPolicy::kBasic ||
                       (web_users_ != nullptr && web_users_->enabled());
    HttpResponse r =
        route->auth == AuthPolicy::kBearer
            ? Error(401, "missing or invalid bearer token")
            : Error(401, route->auth == AuthPolicy::kBasic
                             ? "metrics require basic authentication"
                             : "basic authentication required "
                               "(web config basic_auth_users)");
    if (basic)
      r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"aiq\"");
    if (route->auth == AuthPolicy::kBearer) {
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
    }
    return r;
  }
  if (req.body_too_large) {
    return Error(413, absl::StrCat("request body larger than "
                                   "limits.max_body_bytes (",
                                   config_->limits.max_body_bytes, " bytes)"));
  }
  if (req.overloaded) {
    HttpResponse r =
        Error(429, absl::StrCat("request bodies in flight would exceed "
                                "limits.max_inflight_bytes (",
                                config_->limits.max_inflight_bytes,
                                " bytes); nothing was read or applied, retry "
                                "later (with the same Idempotency-Key)"));
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }
  if (route->body == BodyPolicy::kEvents) {
    std::optional<ingest::BodyFormat> format =
        ingest::FormatFromContentType(req.header("Content-Type"));
    if (!format) {
      const std::string type(req.header("Content-Type"));
      // curl -d sends this by default: say how to fix it.
      const char* hint = type.rfind("application/x-www-form-urlencoded", 0) == 0
                             ? " (curl -d sends it by default: add -H "
                               "'Content-Type: application/json')"
                             : "";
      return Error(415, absl::StrCat("unsupported Content-Type \"", type,
                                     "\"; use application/json or "
                                     "application/x-ndjson",
                                     hint));
    }
    context.format = *format;
  }
  if (route->body == BodyPolicy::kOtlp) {
    std::optional<otlp::Encoding> encoding =
        otlp::EncodingFromContentType(req.header("Content-Type"));
    if (!encoding) {
      return Error(415, absl::StrCat("unsupported Content-Type \"",
                                     util::ToAbsl(req.header("Content-Type")),
                                     "\"; OTLP/HTTP is application/x-protobuf "
                                     "or application/json"));
    }
    context.encoding = *encoding;
  }
  if (route->pattern.find("{model}") != std::string_view::npos) {
    context.model = registry_.Find(std::string(model_name));
    if (context.model == nullptr) {
      return Error(404, absl::StrCat("unknown model \"",
                                     util::ToAbsl(model_name), "\""));
    }
  }
  return std::nullopt;
}

bool ExporterApp::Authorized(AuthPolicy auth, const HttpRequest& req) const {
  if (web_users_ != nullptr && web_users_->enabled()) {
    // Every endpoint needs a web config user (as the exporter-toolkit
    // guards every path), or the route's own credentials where they are
    // configured, so existing ingest tokens and metrics_auth keep working.
    if (web_users_->Verify(req.header("Authorization"))) return true;
    switch (auth) {
      case AuthPolicy::kNone:
        return false;
      case AuthPolicy::kBearer:
        return !config_->server.ingest_tokens.empty() && IngestAuthorized(req);
      case AuthPolicy::kBasic:
        return config_->server.metrics_auth.has_value() &&
               MetricsAuthorized(req);
    }
  }
  switch (auth) {
    case AuthPolicy::kNone:
      return true;
    case AuthPolicy::kBearer:
      return IngestAuthorized(req);
    case AuthPolicy::kBasic:
      return MetricsAuthorized(req);
  }
  return false;
}

bool ExporterApp::IngestAuthorized(const HttpRequest& req) const {
  const auto& tokens = config_->server.ingest_tokens;
  if (tokens.empty()) return true;
  std::string_view auth = req.header("Authorization");
  // Auth schemes are case-insensitive (RFC 9110, section 11.1).
  constexpr std::string_view kBearer = "Bearer ";
  if (!absl::StartsWithIgnoreCase(util::ToAbsl(auth), util::ToAbsl(kBearer))) {
    return false;
  }
  auth.remove_prefix(kBearer.size());
  bool ok = false;
  for (const std::string& t : tokens) ok |= SecretEquals(auth, t);
  return ok;
}

bool ExporterApp::MetricsAuthorized(const HttpRequest& req) const {
  const auto& basic = config_->server.metrics_auth;
  if (!basic) return true;
  std::string_view auth = req.header("Authorization");
  constexpr std::string_view kBasic = "Basic ";
  if (!absl::StartsWithIgnoreCase(util::ToAbsl(auth), util::ToAbsl(kBasic))) {
    return false;
  }
  auth.remove_prefix(kBasic.size());
  std::string decoded;
  if (!absl::Base64Unescape(util::ToAbsl(auth), &decoded)) {
    return false;
  }
  return SecretEquals(decoded,
                      absl::StrCat(basic->username, ":", basic->password));
}

HttpResponse ExporterApp::Ingest(ingest::EventKind kind,
                                 ingest::BodyFormat format,
                                 const HttpRequest& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    return Json(400, json{{"accepted", 0},
                          {"rejected", 0},
                          {"error", "body contains no events"},
                          {"errors", json::array()}});
  }
  const absl::Time decode_time = clock_->Now();
  absl::StatusOr<ingest::DecodeResult> decoded =
      decoder_.Decode(kind, format, req.body, decode_time);
  if (!decoded.ok()) {
    self_.CountRejected(kind, ingest::RejectReason::kInvalidJson);
    return Json(400, json{{"accepted", 0},
                          {"rejected", 0},
                          {"error", std::string(decoded.status().message())},
                          {"errors", json::array()}});
  }
  const int64_t total = decoded->total;
  self_.CountReceived(kind, total);
  if (total == 0) {
    return Json(400, json{{"accepted", 0},
                          {"rejected", 0},
                          {"error", "body contains no events"},
                          {"errors", json::array()}});
  }
  if (durable_ != nullptr) {
    return IngestDurably(kind, format, req, *decoded, decode_time);
  }
  model::ApplyResult applied = registry_.Apply(*decoded);
  if (review_log_ != nullptr) SampleForReview(*decoded, applied);
  return IngestAnswer(kind, applied, /*count=*/true);
}

HttpResponse ExporterApp::IngestAnswer(ingest::EventKind kind,
                                       const model::ApplyResult& applied,
                                       bool count) {
  json errors = json::array();
  for (const ingest::EventError& e : applied.errors) {
    if (count) self_.CountRejected(kind, e.reason);
    if (errors.size() < kMaxReportedErrors) {
      errors.push_back({{"index", e.index},
                        {"reason", ingest::RejectReasonName(e.reason)},
                        {"error", e.message}});
    }
  }
  const int64_t rejected = static_cast<int64_t>(applied.errors.size());
  // All rejected: the request as a whole failed. Partial: 200, with errors.
  const int status = applied.accepted == 0 ? 400 : 200;
  return Json(status, json{{"accepted", applied.accepted},
                           {"rejected", rejected},
                           {"errors", std::move(errors)}});
}

HttpResponse ExporterApp::IngestDurably(ingest::EventKind kind,
                                        ingest::BodyFormat format,
                                        const HttpRequest& req,
                                        ingest::DecodeResult& decoded,
                                        absl::Time decode_time) {
  const std::string_view key_header = req.header("Idempotency-Key");
  std::string key;
  if (!key_header.empty()) {
    if (key_header.size() > kMaxIdempotencyKeyBytes ||
        std::any_of(key_header.begin(), key_header.end(),
                    [](char c) { return c < 0x21 || c > 0x7e; })) {
      return Error(400, absl::StrCat("Idempotency-Key: must be 1 to ",
                                     kMaxIdempotencyKeyBytes,
                                     " visible ASCII characters"));
    }
    // Scoped by endpoint: the same key on another endpoint is another
    // request.
    key = absl::StrCat(util::ToAbsl(req.path), "\n", util::ToAbsl(key_header));
    if (std::optional<state::StoredAnswer> a = durable_->FindAnswer(key)) {
      return AnsweredBefore(*a, durable_->needs_checkpoint());
    }
    if (!durable_->BeginKey(key)) return StillProcessing();
  }
  struct EndKey {
    DurableState* durable;
    const std::string& key;
    ~EndKey() {
      if (!key.empty()) durable->EndKey(key);
    }
  } end_key{durable_.get(), key};
  // A retry that raced the first attempt's answer being stored.
  if (!key.empty()) {
    if (std::optional<state::StoredAnswer> a = durable_->FindAnswer(key)) {
      return AnsweredBefore(*a, durable_->needs_checkpoint());
    }
  }

  state::LogRecord record;
  record.type = state::LogRecord::Type::kIngest;
  record.kind = kind;
  record.format = format;
  record.decode_time = decode_time;
  record.idempotency_key = key;
  record.body = req.body;
  model::ApplyResult applied;
  absl::StatusOr<uint64_t> seq = CommitEvents(record, decoded, applied);
  if (!seq.ok()) {
    // Nothing was applied: the client may retry as it is.
    HttpResponse r =
        Error(503, absl::StrCat("state: ", seq.status().message()));
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  if (review_log_ != nullptr) SampleForReview(decoded, applied, *seq);
  HttpResponse answer = IngestAnswer(kind, applied, /*count=*/true);
  if (!key.empty()) durable_->RememberAnswer(key, EncodeAnswer(answer), *seq);
  if (absl::Status st = durable_->WaitDurable(*seq); !st.ok()) {
    // Applied in memory but perhaps not on disk: not acknowledged. A
    // retry with the same Idempotency-Key gets the answer above once the
    // disk recovers, or is applied afresh if the record was lost.
    HttpResponse r = Error(503, absl::StrCat("state: ", st.message()));
    r.headers.emplace_back("Retry-After", "5");
    return r;
  }
  return answer;
}

absl::StatusOr<uint64_t> ExporterApp::CommitEvents(
    state::LogRecord& record, ingest::DecodeResult& decoded,
    model::ApplyResult& applied) {
  // The join lookups' reads happen here, in parallel across requests,
  // rather than under the commit lock.
  registry_.WarmJoins(decoded);
  return durable_->Commit(record, [&] { applied = registry_.Apply(decoded); });
}

void ExporterApp::SampleForReview(const ingest::DecodeResult& decoded,
                                  const model::ApplyResult& applied,
                                  std::optional<uint64_t> record_seq) {
  const absl::Time now = clock_->Now();
  applied.ForEachAccepted(decoded, [&](const ingest::DecodedEvent& e) {
    review::ReasonSet reasons;
    const config::ModelConfig* model = nullptr;
    const char* kind = "";
    if (const auto* p = std::get_if<ingest::PredictionEvent>(&e.event)) {
      model = &config_->models[static_cast<size_t>(p->model)];
      std::optional<review::DrawKey> key;
      if (record_seq) {
        key = review::DrawKey{.record = *record_seq,
                              .event = static_cast<uint64_t>(e.index)};
      }
      reasons = review_sampler_.SamplePrediction(*model, !p->safety.empty(),
                                                 p->confidence, key);
      kind = "prediction";
    } else if (const auto* f = std::get_if<ingest::FeedbackEvent>(&e.event)) {
      model = &config_->models[static_cast<size_t>(f->model)];
      reasons = review_sampler_.SampleFeedback(f->score);
      kind = "feedback";
    }
    if (model == nullptr || reasons.empty()) return;
    // Write failures are counted by the log (aiq_review_write_errors_total)
    // and must not fail ingest.
    review_log_
        ->Append(model->name, reasons, kind,
                 ingest::EventToJson(e.event, *config_), now)
        .IgnoreError();
  });
}

HttpResponse ExporterApp::Metrics(const HttpRequest& req) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<model::ModelSnapshot> snapshots = registry_.Snapshot();
  std::optional<review::ReviewCounts> review;
  if (review_log_ != nullptr) review = review_log_->Counts();
  std::optional<metrics::StateCounts> state;
  if (durable_ != nullptr) state = StateCountsOf(durable_->Stats());
  const std::vector<prometheus::MetricFamily> families =
      metrics::Scrape({.self = self_,
                       .config = *config_,
                       .models = snapshots,
                       .review = review ? &*review : nullptr,
                       .state = state ? &*state : nullptr});
  HttpResponse r;
  r.content_type = metrics::kTextContentType;
  r.body = metrics::RenderText(families);
  if (metrics::AcceptsGzip(req.header("Accept-Encoding"))) {
    if (absl::StatusOr<std::string> z = util::Gzip(r.body); z.ok()) {
      r.body = *std::move(z);
      r.headers.emplace_back("Content-Encoding", "gzip");
    }
  }
  self_.SetScrapeDuration(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count());
  return r;
}

HttpResponse ExporterApp::Models() {
  json models = json::array();
  for (const model::ModelSnapshot& s :
       registry_.Snapshot(model::ModelState::SnapshotScope::kCountersOnly)) {
    const config::ModelConfig& mc = *config_->FindModel(s.name);
    json features = json::array();
    for (const config::FeatureConfig& f : mc.features) {
      features.push_back(
          {{"name", f.name}, {"type", stats::FeatureKindName(f.type)}});
    }
    uint64_t predictions = 0, errors = 0, labels = 0, feedback = 0;
    for (const model::VersionStats& v : s.per_version) {
      predictions += v.predictions;
      for (uint64_t e : v.errors_by_reason) errors += e;
      labels += v.labels;
      feedback += v.feedback.count();
    }
    feedback += s.unmatched_feedback.feedback.count();
    models.push_back({{"name", s.name},
                      {"task", config::TaskName(s.task)},
                      {"versions", s.versions},
                      {"default_version", mc.default_version},
                      {"classes", s.classes},
                      {"features", std::move(features)},
                      {"predictions", predictions},
                      {"errors", errors},
                      {"labels", labels},
                      {"labels_unmatched", s.labels_unmatched},
                      {"feedback", feedback},
                      {"join_pending", s.join_pending}});
  }
  return Json(200, json{{"models", std::move(models)}});
}

HttpResponse ExporterApp::Drift(model::ModelState& state,
                                const HttpRequest& req) {
  const config::ModelConfig& m = state.config();
  std::string version = m.default_version;
  constexpr std::string_view kVersionParam = "version=";
  for (std::string_view q = req.query; !q.empty();) {
    const size_t amp = q.find('&');
    std::string_view kv = q.substr(0, amp);
    if (kv.rfind(kVersionParam, 0) == 0) {
      version = std::string(kv.substr(kVersionParam.size()));
    }
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
  }
  std::shared_ptr<const model::ModelReference> reference = state.reference();
  if (!reference) {
    return Error(409, absl::StrCat("model \"", m.name,
                                   "\" has no reference; configure "
                                   "models[].reference or PUT one to "
                                   "/api/v1/models/",
                                   m.name, "/reference"));
  }
  std::shared_ptr<const model::WindowDrift> drift = state.Drift(version);
  std::optional<model::QualitySnapshot> quality = state.Quality(version);
  if (!drift) {
    return Error(
        404, absl::StrCat("model \"", m.name,
                          "\" has no traffic for version \"", version, "\""));
  }
  HttpResponse r;
  r.body = report::RenderJson(DriftReport(m, version, *reference, *drift,
                                          quality ? &*quality : nullptr));
  return r;
}

absl::StatusOr<std::shared_ptr<const model::ModelReference>>
ExporterApp::ParseReference(const config::ModelConfig& m,
                            std::string_view body) const {
  absl::StatusOr<data::Dataset> csv =
      data::ParseCsv(body, absl::StrCat("reference upload for ", m.name),
                     model::ReferenceCsvOptions(m));
  if (!csv.ok()) return csv.status();
  if (absl::Status st = model::CheckReferenceUpload(m, config_->limits, *csv);
      !st.ok()) {
    return st;
  }
  return model::ModelReference::Build(m, *csv);
}

HttpResponse ExporterApp::PutReference(model::ModelState& state,
                                       const HttpRequest& req) {
  const config::ModelConfig& m = state.config();
  absl::StatusOr<std::shared_ptr<const model::ModelReference>> ref =
      ParseReference(m, req.body);
  if (!ref.ok()) return Error(400, std::string(ref.status().message()));
  const int64_t rows = (*ref)->rows();
  // Validated in full above; only now does it replace the old one.
  if (durable_ != nullptr) {
    state::LogRecord record;
    record.type = state::LogRecord::Type::kReference;
    record.model = m.name;
    record.body = req.body;
    absl::StatusOr<uint64_t> seq = durable_->Commit(record, [&] {
      state.SetReference(*std::move(ref));
      durable_->NoteReference(m.name, req.body);
    });
    absl::Status st = seq.ok() ? durable_->WaitDurable(*seq) : seq.status();
    if (!st.ok()) {
      HttpResponse r = Error(503, absl::StrCat("state: ", st.message()));
      r.headers.emplace_back("Retry-After", "5");
      return r;
    }
  } else {
    state.SetReference(*std::move(ref));
  }
  return Json(200, json{{"model", m.name},
                        {"rows", rows},
                        {"status",
                         "reference replaced; drift windows "
                         "restarted"}});
}

HttpResponse ExporterApp::Ready() const {
  const std::vector<std::string> unmet = readiness_.Unmet();
  if (unmet.empty()) {
    return HttpResponse{200, "text/plain; charset=utf-8", "Ready\n", {}};
  }
  std::string body = "Not ready\n";
  for (const std::string& u : unmet) absl::StrAppend(&body, u, "\n");
  return HttpResponse{503, "text/plain; charset=utf-8", std::move(body), {}};
}

HttpResponse ExporterApp::Landing() const {
  // Every name and value is escaped: model names may contain '<', '&', '\''.
  using util::EscapeHtml;
  std::string models;
  for (const config::ModelConfig& m : config_->models) {
    absl::StrAppend(&models, "<li>", EscapeHtml(m.name), " (",
                    EscapeHtml(config::TaskName(m.task)), ")</li>");
  }
  HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.body = absl::StrCat(
      "<!doctype html><html><head><title>ai-quality-exporter</title>"
      "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}"
      "code{background:#eee;padding:0 .3em}</style></head><body>"
      "<h1>ai-quality-exporter ",
      EscapeHtml(metrics::BuildVersion()),
      "</h1><p>Prometheus exporter for AI quality, drift and LLM usage.</p>"
      "<h2>Endpoints</h2><ul>"
      "<li><a href=\"/metrics\">/metrics</a> &mdash; Prometheus metrics</li>"
      "<li><a href=\"/api/v1/models\">/api/v1/models</a> &mdash; models</li>"
      "<li><code>POST /api/v1/predictions</code>, "
      "<code>POST /api/v1/labels</code>, <code>POST /api/v1/feedback</code>, "
      "<code>POST /api/v1/evaluations</code>"
      " &mdash; JSON object, array or NDJSON</li>"
      "<li><code>POST /v1/traces</code>, <code>POST /v1/logs</code>, "
      "<code>POST /v1/metrics</code> &mdash; OTLP/HTTP (protobuf or JSON)</li>"
      "<li><a href=\"/-/healthy\">/-/healthy</a>, "
      "<a href=\"/-/ready\">/-/ready</a></li></ul>"
      "<h2>Models</h2><ul>",
      models, "</ul></body></html>\n");
  return r;
}

}  // namespace aiq::app
