// Writes the OTLP loopback benchmark's request bodies (bench/run_benchmarks.sh
// otlp): the same chat calls as an OTLP/HTTP protobuf and JSON traces body
// and as JSON API NDJSON (exporter/testing/otlp_bodies.h; golden_bodies_test
// proves the three map to the same events), without response ids so each
// body can be posted again and again. The calls end an hour before now.
//
//   otlp_bodies OUT_DIR N...   writes OUT_DIR/traces_N.pb, traces_N.json,
//                              calls_N.ndjson for each N
#include "exporter/testing/otlp_bodies.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"

namespace {

bool Write(const std::string& path, const std::string& body) {
  std::ofstream out(path, std::ios::binary);
  out << body;
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR N...\n", argv[0]);
    return 2;
  }
  namespace b = aiq::testing::otlp_bodies;
  const std::string dir = argv[1];
  const auto start =
      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now() - absl::Hours(1)));
  for (int i = 2; i < argc; ++i) {
    const int n = std::atoi(argv[i]);
    if (n <= 0) {
      std::fprintf(stderr, "N must be a positive integer: %s\n", argv[i]);
      return 2;
    }
    const std::vector<b::ChatCall> calls =
        b::ChatCalls(n, start, /*response_ids=*/false);
    const std::string stem = dir + "/";
    const std::string suffix = std::to_string(n);
    if (!Write(stem + "traces_" + suffix + ".pb",
               b::ChatSpansBody("chatbot", calls)) ||
        !Write(stem + "traces_" + suffix + ".json",
               b::ChatSpansJsonBody("chatbot", calls)) ||
        !Write(stem + "calls_" + suffix + ".ndjson",
               b::ChatCallsNdjson("chatbot", calls))) {
      std::fprintf(stderr, "cannot write into %s\n", dir.c_str());
      return 1;
    }
  }
  return 0;
}
