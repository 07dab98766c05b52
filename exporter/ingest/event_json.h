// Serializes decoded events back to JSON, in the request schema
// (docs/api.md), for the review log: what is written is the event as the
// exporter understood it (normalized types, resolved defaults).
//
// Example, given `const Event& event` and `const config::Config& config`:
//   std::string line = aiq::ingest::EventToJson(event, config);
#ifndef AIQ_EXPORTER_INGEST_EVENT_JSON_H_
#define AIQ_EXPORTER_INGEST_EVENT_JSON_H_

#include <string>

#include "exporter/config/config.h"
#include "exporter/ingest/event.h"

namespace aiq::ingest {

std::string EventToJson(const Event& event, const config::Config& config);

}  // namespace aiq::ingest

#endif  // AIQ_EXPORTER_INGEST_EVENT_JSON_H_
