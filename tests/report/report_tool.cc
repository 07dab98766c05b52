// `aiq_report_tool ARGS...` == `ai_quality_exporter report ARGS...`, for the
// script tests in this directory.
#include <iostream>
#include <string>
#include <vector>

#include "exporter/report/report_command.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return aiq::report::RunReportCommand(args, std::cout, std::cerr);
}
