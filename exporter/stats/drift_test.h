// Forwarding header: the drift-test selection API lives in drift_policy.h
// (a drift_test.cc would be picked up by the build as a test binary).
//
//   #include "exporter/stats/drift_policy.h"   // prefer this
//
// Kept so that existing includes of drift_test.h keep compiling.
#ifndef AIQ_EXPORTER_STATS_DRIFT_TEST_H_
#define AIQ_EXPORTER_STATS_DRIFT_TEST_H_

#include "exporter/stats/drift_policy.h"  // IWYU pragma: export

#endif  // AIQ_EXPORTER_STATS_DRIFT_TEST_H_
