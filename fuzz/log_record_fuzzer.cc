// The state log's record decoder on arbitrary bytes (a damaged log): a
// record, whose encoding decodes to the same record, or DataLoss.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "exporter/state/log_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<aiq::state::LogRecord> r = aiq::state::DecodeLogRecord(bytes);
  if (!r.ok()) {
    if (!absl::IsDataLoss(r.status())) std::abort();
    return 0;
  }
  absl::StatusOr<aiq::state::LogRecord> again =
      aiq::state::DecodeLogRecord(aiq::state::EncodeLogRecord(*r));
  if (!again.ok() || again->body != r->body ||
      again->idempotency_key != r->idempotency_key ||
      again->model != r->model || again->time != r->time) {
    std::abort();
  }
  return 0;
}
