#include "exporter/review/review_sampler.h"

#include <atomic>
#include <bit>
#include <cmath>
#include <random>

#include "exporter/util/enum_names.h"

namespace aiq::review {
namespace {

constexpr auto kReasonNames = util::MakeEnumNames<Reason>({
    {Reason::kRandom, "random"},
    {Reason::kSafety, "safety"},
    {Reason::kLowFeedback, "low_feedback"},
    {Reason::kLowConfidence, "low_confidence"},
});
static_assert(kReasonNames.size() == kNumReasons);

// splitmix64 (Steele, Lea, Flood 2014): one word of state, passes BigCrush,
// a handful of instructions per draw.
constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

// splitmix64's output function: a bijection that mixes every input bit
// into every output bit.
uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t SplitMix64(uint64_t& state) { return Mix64(state += kGolden); }

// A counter-based draw: splitmix64 run from the seed to position `record`,
// then, from there, to position `event`. Mixing in two steps keeps keys
// (r, e) and (r', e') with r + e == r' + e' apart.
uint64_t KeyedDraw(uint64_t seed, DrawKey key) {
  const uint64_t per_record = Mix64(seed + (key.record + 1) * kGolden);
  return Mix64(per_record + (key.event + 1) * kGolden);
}

struct ThreadRng {
  uint64_t state = 0;
  bool seeded = false;
};

ThreadRng& LocalRng() {
  thread_local ThreadRng rng;
  return rng;
}

uint64_t NextRandom() {
  ThreadRng& rng = LocalRng();
  if (!rng.seeded) {
    // Distinct per thread even if random_device were deterministic.
    static std::atomic<uint64_t> thread_counter{0};
    std::random_device rd;
    uint64_t seed = (uint64_t{rd()} << 32) ^ uint64_t { rd() };
    seed ^= thread_counter.fetch_add(1, std::memory_order_relaxed) *
            0xd1b54a32d192ed03ULL;
    rng.state = seed;
    rng.seeded = true;
  }
  return SplitMix64(rng.state);
}

}  // namespace

std::string_view ReasonName(Reason reason) { return kReasonNames.Name(reason); }

std::optional<Reason> ReasonFromName(std::string_view name) {
  return kReasonNames.Parse(name);
}

int ReasonSet::size() const { return std::popcount(bits_); }

ReasonNames ReasonSet::Names() const {
  ReasonNames out;
  for (int i = 0; i < kNumReasons; ++i) {
    if (Has(static_cast<Reason>(i))) {
      out.names[static_cast<size_t>(out.size++)] =
          kReasonNames.Name(static_cast<Reason>(i));
    }
  }
  return out;
}

ReviewSampler::ReviewSampler(const config::ReviewConfig& config)
    : enabled_(!config.path.empty()),
      low_feedback_score_(config.low_feedback_score) {
  const double p = config.sample_fraction;
  if (!enabled_ || !(p > 0)) {  // also catches NaN
    random_mode_ = RandomMode::kNever;
  } else if (p >= 1) {
    random_mode_ = RandomMode::kAlways;
  } else {
    // p < 1, so p * 2^64 < 2^64 and fits (ldexp is exact).
    random_mode_ = RandomMode::kThreshold;
    threshold_ = static_cast<uint64_t>(std::ldexp(p, 64));
    if (threshold_ == 0) random_mode_ = RandomMode::kNever;
  }
}

ReasonSet ReviewSampler::SamplePrediction(const config::ModelConfig& model,
                                          bool has_safety_violation,
                                          std::optional<double> confidence,
                                          std::optional<DrawKey> key) const {
  ReasonSet reasons;
  if (!enabled_) return reasons;
  if (has_safety_violation) reasons.Add(Reason::kSafety);
  if (confidence.has_value() && *confidence < model.low_confidence_threshold) {
    reasons.Add(Reason::kLowConfidence);
  }
  switch (random_mode_) {
    case RandomMode::kNever:
      break;
    case RandomMode::kAlways:
      reasons.Add(Reason::kRandom);
      break;
    case RandomMode::kThreshold:
      if ((key ? KeyedDraw(seed_, *key) : NextRandom()) < threshold_) {
        reasons.Add(Reason::kRandom);
      }
      break;
  }
  return reasons;
}

ReasonSet ReviewSampler::SampleFeedback(double score) const {
  ReasonSet reasons;
  if (enabled_ && score <= low_feedback_score_) {
    reasons.Add(Reason::kLowFeedback);
  }
  return reasons;
}

void ReviewSampler::SeedThisThreadForTesting(uint64_t seed) {
  ThreadRng& rng = LocalRng();
  rng.state = seed;
  rng.seeded = true;
}

}  // namespace aiq::review
