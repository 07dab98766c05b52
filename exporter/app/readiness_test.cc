#include "exporter/app/readiness.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

namespace aiq::app {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(ReadinessTest, ReadyWhenEveryConditionIsMet) {
  Readiness r;
  EXPECT_TRUE(r.ready());  // nothing to wait for
  r.Add("references", "loading");
  r.Add("state", "restoring from /var/lib/aiq");
  EXPECT_FALSE(r.ready());
  EXPECT_THAT(r.Unmet(), ElementsAre("references: loading",
                                     "state: restoring from /var/lib/aiq"));
  r.SetWaiting("state", "restoring from /var/lib/aiq (40%)");
  r.SetMet("references");
  EXPECT_THAT(r.Unmet(),
              ElementsAre("state: restoring from /var/lib/aiq (40%)"));
  r.SetMet("state");
  EXPECT_THAT(r.Unmet(), IsEmpty());
  EXPECT_TRUE(r.ready());
}

TEST(ReadinessTest, UnknownNamesAndMetConditions) {
  Readiness r;
  r.Add("a", "waiting");
  r.SetMet("nope");  // ignored
  r.SetWaiting("nope", "x");
  EXPECT_THAT(r.Unmet(), ElementsAre("a: waiting"));
  r.SetMet("a");
  r.SetWaiting("a", "again");  // a met condition stays met
  EXPECT_TRUE(r.ready());
  r.Add("a", "lost the partition");  // re-adding makes it unmet again
  EXPECT_THAT(r.Unmet(), ElementsAre("a: lost the partition"));
}

TEST(ReadinessTest, ConcurrentUpdatesAndReads) {
  Readiness r;
  for (int i = 0; i < 8; ++i) r.Add("c" + std::to_string(i), "waiting");
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&r, i] {
      for (int k = 0; k < 200; ++k) {
        r.SetWaiting("c" + std::to_string(i), "step " + std::to_string(k));
        (void)r.Unmet();
      }
      r.SetMet("c" + std::to_string(i));
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(r.ready());
}

}  // namespace
}  // namespace aiq::app
