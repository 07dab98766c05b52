// ai_quality_exporter: see `ai_quality_exporter --help` and docs/cli.md.
#include <iostream>
#include <string>
#include <vector>

#include "exporter/cli/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return aiq::cli::Main(args, std::cout, std::cerr);
}
