#include "exporter/report/report_command.h"

namespace aiq::report {

// Placeholder until the statistics library and report land.
int RunReportCommand(const std::vector<std::string>&, std::ostream&,
                     std::ostream& err) {
  err << "report: not built yet\n";
  return 2;
}

const char* ReportUsage() { return "report (not built yet)\n"; }

}  // namespace aiq::report
