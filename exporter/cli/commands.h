// The subcommands of the ai_quality_exporter binary. Each takes its
// arguments (without the program and command names) and output streams,
// and returns the process exit code (see docs/cli.md):
//   0 success, 1 runtime failure (cannot listen; drift with
//   --fail-on-drift), 2 usage or configuration error.
//
// Example:
//   #include <iostream>
//   int code = aiq::cli::Main({"validate-config", "aiq.yaml"}, std::cout,
//                             std::cerr);
#ifndef AIQ_EXPORTER_CLI_COMMANDS_H_
#define AIQ_EXPORTER_CLI_COMMANDS_H_

#include <ostream>
#include <string>
#include <vector>

namespace aiq::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Dispatches on args[0]; no arguments means `serve` on the embedded config.
int Main(const std::vector<std::string>& args, std::ostream& out,
         std::ostream& err);

int ValidateConfig(const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err);

// Serves until SIGTERM or SIGINT.
int Serve(const std::vector<std::string>& args, std::ostream& out,
          std::ostream& err);

const char* Usage();

}  // namespace aiq::cli

#endif  // AIQ_EXPORTER_CLI_COMMANDS_H_
