#include "exporter/review/review_sampler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace aiq::review {
namespace {

config::ReviewConfig On(double sample_fraction = 0.01) {
  config::ReviewConfig c;
  c.path = "/unused/review.jsonl";  // the sampler never touches the file
  c.sample_fraction = sample_fraction;
  return c;
}

config::ModelConfig Model(double threshold = 0.5) {
  config::ModelConfig m;
  m.name = "m";
  m.low_confidence_threshold = threshold;
  return m;
}

// Binomial(n, p) mean +- 5 standard deviations: a correct sampler misses it
// with probability < 1e-6; a sampler off by 20% of p misses it for sure.
void ExpectBinomial(int64_t hits, int64_t n, double p) {
  const double mean = static_cast<double>(n) * p;
  const double sd = std::sqrt(static_cast<double>(n) * p * (1 - p));
  EXPECT_NEAR(static_cast<double>(hits), mean, 5 * sd)
      << "n=" << n << " p=" << p;
}

TEST(ReasonTest, NamesRoundTrip) {
  for (int i = 0; i < kNumReasons; ++i) {
    const auto r = static_cast<Reason>(i);
    EXPECT_EQ(ReasonFromName(ReasonName(r)), r);
  }
  EXPECT_EQ(ReasonName(Reason::kRandom), "random");
  EXPECT_EQ(ReasonName(Reason::kSafety), "safety");
  EXPECT_EQ(ReasonName(Reason::kLowFeedback), "low_feedback");
  EXPECT_EQ(ReasonName(Reason::kLowConfidence), "low_confidence");
  EXPECT_EQ(ReasonFromName("bogus"), std::nullopt);
}

TEST(ReasonSetTest, AddHasNames) {
  ReasonSet s;
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.Names().span().size(), 0u);
  s.Add(Reason::kLowConfidence);
  s.Add(Reason::kSafety);
  s.Add(Reason::kSafety);
  EXPECT_EQ(s.size(), 2);
  EXPECT_TRUE(s.Has(Reason::kSafety));
  EXPECT_FALSE(s.Has(Reason::kRandom));
  const ReasonNames names = s.Names();
  ASSERT_EQ(names.span().size(), 2u);
  EXPECT_EQ(names.span()[0], "safety");  // Reason order
  EXPECT_EQ(names.span()[1], "low_confidence");
}

TEST(ReviewSamplerTest, OffNeverSamples) {
  config::ReviewConfig c = On(1.0);
  c.path = "";
  ReviewSampler s(c);
  EXPECT_FALSE(s.enabled());
  EXPECT_TRUE(s.SamplePrediction(Model(), true, 0.0).empty());
  EXPECT_TRUE(s.SampleFeedback(1).empty());
}

TEST(ReviewSamplerTest, SafetyWhenAnyViolation) {
  ReviewSampler s(On(0));
  EXPECT_EQ(s.SamplePrediction(Model(), true, std::nullopt).size(), 1);
  EXPECT_TRUE(
      s.SamplePrediction(Model(), true, std::nullopt).Has(Reason::kSafety));
  EXPECT_TRUE(s.SamplePrediction(Model(), false, std::nullopt).empty());
}

TEST(ReviewSamplerTest, LowConfidenceIsStrictlyBelowThreshold) {
  ReviewSampler s(On(0));
  auto low = [&](std::optional<double> c, double threshold) {
    return s.SamplePrediction(Model(threshold), false, c)
        .Has(Reason::kLowConfidence);
  };
  EXPECT_TRUE(low(0.0, 0.5));
  EXPECT_TRUE(low(0.4999, 0.5));
  EXPECT_FALSE(low(0.5, 0.5));  // exclusive
  EXPECT_FALSE(low(0.9, 0.5));
  EXPECT_FALSE(low(std::nullopt, 0.5));  // absent never qualifies
  EXPECT_TRUE(low(0.75, 0.8));           // per-model threshold
  EXPECT_FALSE(low(0.0, 0.0));
}

TEST(ReviewSamplerTest, LowFeedbackIsAtOrBelowScore) {
  config::ReviewConfig c = On(1.0);  // random never applies to feedback
  ReviewSampler s(c);
  auto low = [&](double score) {
    ReasonSet r = s.SampleFeedback(score);
    EXPECT_FALSE(r.Has(Reason::kRandom));
    return r.Has(Reason::kLowFeedback);
  };
  EXPECT_TRUE(low(1));
  EXPECT_TRUE(low(2));  // inclusive, default low_feedback_score = 2
  EXPECT_FALSE(low(2.5));
  EXPECT_FALSE(low(5));

  c.low_feedback_score = 3;
  ReviewSampler s3(c);
  EXPECT_TRUE(s3.SampleFeedback(3).Has(Reason::kLowFeedback));
  EXPECT_FALSE(s3.SampleFeedback(4).Has(Reason::kLowFeedback));
}

TEST(ReviewSamplerTest, FractionZeroAndOne) {
  ReviewSampler never(On(0));
  ReviewSampler always(On(1));
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(never.SamplePrediction(Model(), false, 0.9).empty());
    EXPECT_TRUE(
        always.SamplePrediction(Model(), false, 0.9).Has(Reason::kRandom));
  }
}

TEST(ReviewSamplerTest, SeveralReasonsAtOnce) {
  ReviewSampler s(On(1));
  ReasonSet r = s.SamplePrediction(Model(), true, 0.1);
  EXPECT_EQ(r.size(), 3);
  EXPECT_TRUE(r.Has(Reason::kSafety));
  EXPECT_TRUE(r.Has(Reason::kLowConfidence));
  EXPECT_TRUE(r.Has(Reason::kRandom));
}

// Over 100k predictions the random share is 1% within 5 binomial standard
// deviations (1000 +- 157), for a fixed seed and for several seeds.
TEST(ReviewSamplerTest, RandomShareMatchesFraction) {
  ReviewSampler s(On(0.01));
  constexpr int64_t kN = 100000;
  for (uint64_t seed : {1ull, 2ull, 42ull, 0xdeadbeefull, 12345678901ull}) {
    ReviewSampler::SeedThisThreadForTesting(seed);
    int64_t hits = 0;
    for (int64_t i = 0; i < kN; ++i) {
      // Confident, safe predictions: only the random reason can apply.
      ReasonSet r = s.SamplePrediction(Model(), false, 0.99);
      if (!r.empty()) {
        EXPECT_EQ(r.size(), 1);
        ++hits;
      }
    }
    ExpectBinomial(hits, kN, 0.01);
  }
}

TEST(ReviewSamplerTest, SeedMakesDrawsReproducible) {
  ReviewSampler s(On(0.5));
  auto draw = [&] {
    std::vector<bool> v;
    for (int i = 0; i < 200; ++i) {
      v.push_back(s.SamplePrediction(Model(), false, 0.9).Has(Reason::kRandom));
    }
    return v;
  };
  ReviewSampler::SeedThisThreadForTesting(7);
  const std::vector<bool> a = draw();
  ReviewSampler::SeedThisThreadForTesting(7);
  EXPECT_EQ(draw(), a);
  ReviewSampler::SeedThisThreadForTesting(8);
  EXPECT_NE(draw(), a);
}

// Keyed draws (state.dir): a function of the seed and the key alone, so a
// restarted process draws what the first would have; the thread's generator
// plays no part.
TEST(ReviewSamplerTest, KeyedDrawsDependOnSeedAndKeyOnly) {
  ReviewSampler s(On(0.5));
  auto draw = [&](uint64_t seed) {
    s.SetSeed(seed);
    std::vector<bool> v;
    for (uint64_t r = 0; r < 20; ++r) {
      for (uint64_t e = 0; e < 10; ++e) {
        v.push_back(s.SamplePrediction(Model(), false, 0.9, DrawKey{r, e})
                        .Has(Reason::kRandom));
      }
    }
    return v;
  };
  ReviewSampler::SeedThisThreadForTesting(1);
  const std::vector<bool> a = draw(7);
  ReviewSampler::SeedThisThreadForTesting(2);
  EXPECT_EQ(draw(7), a);
  EXPECT_NE(draw(8), a);
}

// Over 100 records x 1000 events the keyed share matches the fraction, and
// neighbouring keys ((r, e) against (r + 1, e), (r, e + 1) and the diagonal
// (r + 1, e - 1), which a sum-based key would confuse) agree as often as
// independent draws do.
TEST(ReviewSamplerTest, KeyedDrawsMatchFractionAndAreIndependent) {
  constexpr uint64_t kRecords = 100, kEvents = 1000;
  constexpr int64_t kN = kRecords * kEvents;
  for (double p : {0.01, 0.5}) {
    for (uint64_t seed : {0ull, 42ull, 0xdeadbeefull}) {
      ReviewSampler s(On(p));
      s.SetSeed(seed);
      auto hit = [&](uint64_t r, uint64_t e) {
        return s.SamplePrediction(Model(), false, 0.99, DrawKey{r, e})
            .Has(Reason::kRandom);
      };
      int64_t hits = 0;
      for (uint64_t r = 0; r < kRecords; ++r) {
        for (uint64_t e = 0; e < kEvents; ++e) hits += hit(r, e) ? 1 : 0;
      }
      ExpectBinomial(hits, kN, p);
      if (p != 0.5) continue;
      int64_t same_event = 0, same_record = 0, diagonal = 0, n = 0;
      for (uint64_t r = 0; r + 1 < kRecords; ++r) {
        for (uint64_t e = 1; e + 1 < kEvents; ++e) {
          const bool h = hit(r, e);
          same_event += h == hit(r + 1, e) ? 1 : 0;
          same_record += h == hit(r, e + 1) ? 1 : 0;
          diagonal += h == hit(r + 1, e - 1) ? 1 : 0;
          ++n;
        }
      }
      ExpectBinomial(same_event, n, 0.5);
      ExpectBinomial(same_record, n, 0.5);
      ExpectBinomial(diagonal, n, 0.5);
    }
  }
}

TEST(ReviewSamplerTest, OtherFractions) {
  constexpr int64_t kN = 100000;
  for (double p : {0.001, 0.1, 0.3, 0.9}) {
    ReviewSampler s(On(p));
    ReviewSampler::SeedThisThreadForTesting(99);
    int64_t hits = 0;
    for (int64_t i = 0; i < kN; ++i) {
      hits += s.SamplePrediction(Model(), false, 0.99).empty() ? 0 : 1;
    }
    ExpectBinomial(hits, kN, p);
  }
}

// Unseeded threads get their own generators: the total over all threads is
// still binomial, and no two threads draw the same stream.
TEST(ReviewSamplerTest, ThreadsDrawIndependently) {
  ReviewSampler s(On(0.01));
  constexpr int kThreads = 4;
  constexpr int64_t kPerThread = 100000;
  std::atomic<int64_t> hits{0};
  std::vector<std::vector<int64_t>> first_hits(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      int64_t local = 0;
      for (int64_t i = 0; i < kPerThread; ++i) {
        if (!s.SamplePrediction(Model(), false, 0.99).empty()) {
          ++local;
          if (first_hits[static_cast<size_t>(t)].size() < 20) {
            first_hits[static_cast<size_t>(t)].push_back(i);
          }
        }
      }
      hits += local;
    });
  }
  for (std::thread& t : threads) t.join();
  ExpectBinomial(hits.load(), kThreads * kPerThread, 0.01);
  for (int a = 0; a < kThreads; ++a) {
    for (int b = a + 1; b < kThreads; ++b) {
      EXPECT_NE(first_hits[static_cast<size_t>(a)],
                first_hits[static_cast<size_t>(b)]);
    }
  }
}

}  // namespace
}  // namespace aiq::review
