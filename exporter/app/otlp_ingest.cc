// ExporterApp's OTLP/HTTP receiver (docs/otlp.md): POST /v1/traces,
// /v1/logs and /v1/metrics, as the OTLP specification's "OTLP/HTTP"
// section says a server answers
// (https://opentelemetry.io/docs/specs/otlp/#otlphttp): 200 with the
// Export*ServiceResponse, whose partial_success counts what was refused;
// 400 with a google.rpc.Status for a body that cannot be decoded (nothing
// applied); the shared refusals (401, 413, 415, 429) as Status bodies too.
#include <array>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "exporter/app/exporter_app.h"
#include "exporter/otlp/otlp_decoder.h"
#include "exporter/otlp/otlp_response.h"
#include "exporter/util/absl_compat.h"
#include "exporter/util/gzip.h"

namespace aiq::app {
namespace {

using http::HttpRequest;
using http::HttpResponse;

// google.rpc.Code values of the Status bodies.
constexpr int kInvalidArgument = 3;
constexpr int kResourceExhausted = 8;
constexpr int kUnauthenticated = 16;
constexpr int kUnavailable = 14;
constexpr int kNotFound = 5;
constexpr int kUnimplemented = 12;

const char* ContentType(otlp::Encoding e) {
  return e == otlp::Encoding::kProtobuf ? "application/x-protobuf"
                                        : "application/json";
}

HttpResponse StatusReply(int http_status, otlp::Encoding e, int code,
                         std::string_view message) {
  HttpResponse r;
  r.status = http_status;
  r.content_type = ContentType(e);
  r.body = otlp::EncodeStatus(e, code, message);
  return r;
}

// The state could not log or sync the request: retry later (the record
// may have been applied: see docs/otlp.md on retries).
HttpResponse Unavailable(otlp::Encoding e, const absl::Status& st) {
  HttpResponse r =
      StatusReply(503, e, kUnavailable, absl::StrCat("state: ", st.message()));
  r.headers.emplace_back("Retry-After", "5");
  return r;
}

// partial_success.error_message: how many were refused and why, and the
// first refusal in full (the rest are counted in
// aiq_exporter_events_rejected_total).
std::string PartialSuccessMessage(const otlp::MappedRequest& m,
                                  const std::vector<ingest::EventError>& e) {
  std::map<std::string_view, int64_t> by_reason;
  for (const ingest::EventError& err : e) {
    ++by_reason[ingest::RejectReasonName(err.reason)];
  }
  std::string reasons;
  for (const auto& [reason, n] : by_reason) {
    absl::StrAppend(&reasons, reasons.empty() ? "" : ", ", util::ToAbsl(reason),
                    " ", n);
  }
  return absl::StrCat(e.size(), " of ", m.decoded.total, " rejected (", reasons,
                      "); first: ", m.Describe(e.front()));
}

bool IsOtlpPath(std::string_view path) {
  return path == "/v1/traces" || path == "/v1/logs" || path == "/v1/metrics";
}

HttpResponse NotOnThisListener(const HttpRequest& req) {
  return StatusReply(
      404,
      otlp::EncodingFromContentType(req.header("Content-Type"))
          .value_or(otlp::Encoding::kJson),
      kNotFound,
      absl::StrCat("no such endpoint: ", util::ToAbsl(req.path),
                   "; this listener (server.otlp_listen) serves OTLP/HTTP "
                   "only: /v1/traces, /v1/logs, /v1/metrics"));
}

}  // namespace

HttpResponse ExporterApp::HandleOtlpListener(const HttpRequest& req) {
  if (!IsOtlpPath(req.path)) {
    self_.CountRequest("other", 404);
    return NotOnThisListener(req);
  }
  return Handle(req);
}

std::optional<HttpResponse> ExporterApp::ScreenOtlpListener(
    const HttpRequest& req) {
  if (!IsOtlpPath(req.path)) {
    self_.CountRequest("other", 404);
    return NotOnThisListener(req);
  }
  return Screen(req);
}

HttpResponse ExporterApp::OtlpRefusal(HttpResponse refusal,
                                      const HttpRequest& request) {
  const otlp::Encoding e =
      otlp::EncodingFromContentType(request.header("Content-Type"))
          .value_or(otlp::Encoding::kJson);
  std::string message;
  if (nlohmann::json j = nlohmann::json::parse(refusal.body, nullptr, false);
      j.is_object() && j.contains("error") && j["error"].is_string()) {
    message = j["error"].get<std::string>();
  }
  int code = kInvalidArgument;
  switch (refusal.status) {
    case 401:
      code = kUnauthenticated;
      break;
    case 404:
      code = kNotFound;
      break;
    case 405:
      code = kUnimplemented;
      break;
    case 413:
    case 429:
      code = kResourceExhausted;
      break;
    case 503:
      code = kUnavailable;
      break;
  }
  refusal.content_type = ContentType(e);
  refusal.body = otlp::EncodeStatus(e, code, message);
  return refusal;
}

absl::StatusOr<otlp::MappedRequest> ExporterApp::MapOtlp(
    otlp::Signal signal, otlp::Encoding encoding, std::string_view body,
    absl::Time now) const {
  const otlp::DecodeLimits limits{.max_items =
                                      config_->limits.max_events_per_request};
  switch (signal) {
    case otlp::Signal::kTraces: {
      absl::StatusOr<otlp::TracesRequest> r =
          otlp::DecodeTraces(encoding, body, limits);
      if (!r.ok()) return r.status();
      return genai_mapper_.MapTraces(*r, now);
    }
    case otlp::Signal::kLogs: {
      absl::StatusOr<otlp::LogsRequest> r =
          otlp::DecodeLogs(encoding, body, limits);
      if (!r.ok()) return r.status();
      return genai_mapper_.MapLogs(*r, now);
    }
    case otlp::Signal::kMetrics: {
      absl::StatusOr<otlp::MetricsRequest> r =
          otlp::DecodeMetrics(encoding, body, limits);
      if (!r.ok()) return r.status();
      return genai_mapper_.MapMetrics(*r, now);
    }
  }
  return absl::InvalidArgumentError("unknown OTLP signal");
}

HttpResponse ExporterApp::IngestOtlp(otlp::Signal signal,
                                     otlp::Encoding encoding,
                                     const HttpRequest& req) {
  // Content-Encoding: gzip (the SDKs' OTEL_EXPORTER_OTLP_COMPRESSION), up
  // to the same limit as a plain body.
  std::string inflated;
  std::string_view body = req.body;
  std::string coding(
      absl::StripAsciiWhitespace(util::ToAbsl(req.header("Content-Encoding"))));
  absl::AsciiStrToLower(&coding);
  if (coding == "gzip") {
    absl::StatusOr<std::string> out = util::Gunzip(
        req.body, static_cast<size_t>(config_->limits.max_body_bytes));
    if (!out.ok()) {
      const bool big =
          out.status().code() == absl::StatusCode::kResourceExhausted;
      return StatusReply(
          big ? 413 : 400, encoding,
          big ? kResourceExhausted : kInvalidArgument,
          big ? absl::StrCat("gzip body inflates to more than "
                             "limits.max_body_bytes (",
                             config_->limits.max_body_bytes, " bytes)")
              : absl::StrCat("Content-Encoding gzip: ",
                             std::string(out.status().message())));
    }
    inflated = *std::move(out);
    body = inflated;
  } else if (!coding.empty() && coding != "identity") {
    return StatusReply(415, encoding, kInvalidArgument,
                       absl::StrCat("unsupported Content-Encoding \"", coding,
                                    "\"; use gzip or none"));
  }

  const absl::Time decode_time = clock_->Now();
  absl::StatusOr<otlp::MappedRequest> mapped =
      MapOtlp(signal, encoding, body, decode_time);
  if (!mapped.ok()) {
    // Nothing was applied; the OTLP clients do not retry a 400.
    return StatusReply(400, encoding, kInvalidArgument,
                       std::string(mapped.status().message()));
  }
  std::array<int64_t, ingest::kNumEventKinds> received{};
  for (const otlp::ItemRef& item : mapped->items) {
    ++received[static_cast<size_t>(item.kind)];
  }
  for (int k = 0; k < ingest::kNumEventKinds; ++k) {
    if (received[k] > 0) {
      self_.CountReceived(static_cast<ingest::EventKind>(k), received[k]);
    }
  }
  self_.CountOtlpIgnored(signal, mapped->ignored);

  model::ApplyResult applied;
  if (mapped->decoded.total > 0) {
    if (durable_ != nullptr) {
      state::LogRecord record;
      record.type = state::LogRecord::Type::kOtlp;
      record.signal = signal;
      record.encoding = encoding;
      record.decode_time = decode_time;
      record.body = std::string(body);
      absl::StatusOr<uint64_t> seq =
          CommitEvents(record, mapped->decoded, applied);
      if (!seq.ok()) return Unavailable(encoding, seq.status());
      if (review_log_ != nullptr) {
        SampleForReview(mapped->decoded, applied, *seq);
      }
      if (absl::Status st = durable_->WaitDurable(*seq); !st.ok()) {
        return Unavailable(encoding, st);
      }
    } else {
      applied = registry_.Apply(mapped->decoded);
      if (review_log_ != nullptr) SampleForReview(mapped->decoded, applied);
    }
  }
  for (const ingest::EventError& e : applied.errors) {
    self_.CountRejected(mapped->items[static_cast<size_t>(e.index)].kind,
                        e.reason);
  }
  HttpResponse r;
  r.content_type = ContentType(encoding);
  r.body = otlp::EncodeExportResponse(
      encoding, signal, static_cast<int64_t>(applied.errors.size()),
      applied.errors.empty() ? ""
                             : PartialSuccessMessage(*mapped, applied.errors));
  return r;
}

}  // namespace aiq::app
