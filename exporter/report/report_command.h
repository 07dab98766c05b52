// The `ai_quality_exporter report` subcommand: a batch drift and quality
// report of a current dataset against a reference, for CI/CD quality gates.
//
// Example:
//   #include <iostream>
//   std::vector<std::string> args = {"--reference", "ref.csv",
//                                    "--current", "cur.csv"};
//   int code = aiq::report::RunReportCommand(args, std::cout, std::cerr);
//
// Exit codes: 0 report written, 1 dataset drift detected and
// --fail-on-drift given, 2 bad arguments or bad input.
#ifndef AIQ_EXPORTER_REPORT_REPORT_COMMAND_H_
#define AIQ_EXPORTER_REPORT_REPORT_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace aiq::report {

// `args` excludes the program name and the word "report".
int RunReportCommand(const std::vector<std::string>& args, std::ostream& out,
                     std::ostream& err);

// One paragraph of usage text for --help.
const char* ReportUsage();

}  // namespace aiq::report

#endif  // AIQ_EXPORTER_REPORT_REPORT_COMMAND_H_
