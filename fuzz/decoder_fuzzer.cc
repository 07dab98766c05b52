// The event decoder on arbitrary request bodies: every kind, both formats,
// against models of every task. Each event is decoded or refused with a
// reason and a message naming a field; nothing else may happen.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "exporter/config/config_loader.h"
#include "exporter/ingest/decoder.h"

namespace {

const aiq::config::Config& FuzzConfig() {
  static const aiq::config::Config config = [] {
    std::vector<aiq::config::ConfigError> errors;
    std::optional<aiq::config::Config> c =
        aiq::config::ParseConfig(R"(
limits: {max_string_bytes: 64, max_events_per_request: 1000}
models:
  - name: clf
    classes: [a, b]
    features: [{name: x}, {name: c, type: categorical}, {name: f, type: boolean}]
    segments: [{attribute: r, values: [eu, us]}]
  - name: reg
    task: regression
    features: [{name: x}]
  - name: llm
    task: generation
)",
                                 "fuzz", errors);
    if (!c) std::abort();
    return *std::move(c);
  }();
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const aiq::ingest::Decoder decoder(FuzzConfig());
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const absl::Time now = absl::FromUnixSeconds(1'800'000'000);
  for (aiq::ingest::EventKind kind :
       {aiq::ingest::EventKind::kPrediction, aiq::ingest::EventKind::kLabel,
        aiq::ingest::EventKind::kFeedback}) {
    for (aiq::ingest::BodyFormat format :
         {aiq::ingest::BodyFormat::kJson, aiq::ingest::BodyFormat::kNdjson}) {
      absl::StatusOr<aiq::ingest::DecodeResult> r =
          decoder.Decode(kind, format, body, now);
      if (!r.ok()) continue;
      // Every event is either decoded or refused, once.
      if (static_cast<int64_t>(r->events.size() + r->errors.size()) !=
          r->total) {
        std::abort();
      }
      for (const auto& e : r->errors) {
        if (e.message.empty() || e.message.size() > 4096) std::abort();
      }
    }
  }
  return 0;
}
