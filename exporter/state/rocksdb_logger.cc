#include "exporter/state/rocksdb_logger.h"

#include <unistd.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <utility>

namespace aiq::state::detail {
namespace {

class StderrLogger final : public rocksdb::Logger {
 public:
  explicit StderrLogger(std::string name)
      : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL),
        prefix_("state: rocksdb " + std::move(name) + ": ") {}

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char text[1024];
    va_list copy;
    va_copy(copy, ap);
    // RocksDB's own format strings (its Logger interface is printf-like).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    const int n = std::vsnprintf(text, sizeof(text), format, copy);
#pragma GCC diagnostic pop
    va_end(copy);
    if (n < 0) return;
    std::string line = prefix_;
    line.append(text,
                std::min<size_t>(static_cast<size_t>(n), sizeof(text) - 1));
    line.push_back('\n');
    // One write per line, so lines from several threads do not interleave.
    [[maybe_unused]] const ssize_t w =
        ::write(STDERR_FILENO, line.data(), line.size());
  }

 private:
  const std::string prefix_;
};

}  // namespace

std::shared_ptr<rocksdb::Logger> StderrRocksDbLogger(std::string name) {
  return std::make_shared<StderrLogger>(std::move(name));
}

}  // namespace aiq::state::detail
