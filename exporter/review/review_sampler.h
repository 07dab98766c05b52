// Decides which accepted events are copied to the review log (review_log.h)
// and why. A prediction is sampled for every reason that applies:
//
//   safety          its safety list is non-empty
//   low_confidence  confidence < the model's low_confidence_threshold
//                   (strict; an absent confidence never qualifies)
//   random          with probability review.sample_fraction, drawn for every
//                   prediction independently of the other reasons, so the
//                   random share is an unbiased sample of all traffic
//
// and a feedback event when score <= review.low_feedback_score (inclusive):
//
//   low_feedback
//
// An event with several reasons is written once with all of them. With
// review off (review.path empty) nothing is ever sampled and no random number
// is drawn.
//
// Where the random draws come from: with a DrawKey (the app passes one when
// state.dir is set: the log record's sequence number and the event's index
// in it), the draw is a hash of the key and the stream's seed (SetSeed, kept
// in the state directory), so which events are sampled is a function of
// the durable state and a restart continues the stream where it was rather
// than starting a new one. Without a key, each draw comes from a per-thread
// splitmix64 generator (thread_local, seeded once per thread from
// std::random_device and a process-wide counter).
//
// Thread safety: const methods may be called from any number of threads;
// there is no shared lock or shared atomic on the hot path. SetSeed must
// happen before the sampler is shared.
//
// Example, given `const config::Config& config`,
// `const config::ModelConfig& model_config`,
// `const ingest::PredictionEvent& event`, `ReviewLog* log`,
// `std::string_view raw_json` and `absl::Time now`:
//   #include "exporter/ingest/event.h"
//   #include "exporter/review/review_log.h"
//   aiq::review::ReviewSampler sampler(config.review);
//   sampler.SetSeed(0x5eed);  // with state.dir: StateStore::stream_seed()
//   aiq::review::ReasonSet why = sampler.SamplePrediction(
//       model_config, !event.safety.empty(), event.confidence,
//       aiq::review::DrawKey{.record = 42, .event = 0});
//   if (!why.empty()) {
//     log->Append(model_config.name, why, "prediction", raw_json, now)
//         .IgnoreError();  // counted in ReviewLog::Counts()
//   }
#ifndef AIQ_EXPORTER_REVIEW_REVIEW_SAMPLER_H_
#define AIQ_EXPORTER_REVIEW_REVIEW_SAMPLER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "exporter/config/config.h"

namespace aiq::review {

// Why an event was sampled; the `reason` label of aiq_review_samples_total.
enum class Reason : uint8_t {
  kRandom = 0,
  kSafety = 1,
  kLowFeedback = 2,
  kLowConfidence = 3,
};
inline constexpr int kNumReasons = 4;

// "random", "safety", "low_feedback", "low_confidence".
std::string_view ReasonName(Reason reason);
// Inverse of ReasonName; nullopt for an unknown name.
std::optional<Reason> ReasonFromName(std::string_view name);

// The names of a ReasonSet, in Reason order; view them with span().
struct ReasonNames {
  std::array<std::string_view, kNumReasons> names{};
  int size = 0;
  std::span<const std::string_view> span() const {
    return {names.data(), static_cast<size_t>(size)};
  }
};

// A small set of Reasons (a bit mask); cheap to copy.
class ReasonSet {
 public:
  constexpr ReasonSet() = default;

  void Add(Reason r) { bits_ |= Bit(r); }
  bool Has(Reason r) const { return (bits_ & Bit(r)) != 0; }
  bool empty() const { return bits_ == 0; }
  int size() const;
  ReasonNames Names() const;

  friend bool operator==(ReasonSet a, ReasonSet b) = default;

 private:
  static constexpr uint8_t Bit(Reason r) {
    return static_cast<uint8_t>(1u << static_cast<unsigned>(r));
  }
  uint8_t bits_ = 0;
};

// Identifies one random draw: the same key and seed always draw the same.
struct DrawKey {
  uint64_t record = 0;  // the state log's sequence number of the request
  uint64_t event = 0;   // the event's index in the request's body
};

class ReviewSampler {
 public:
  // Copies what it needs from `config`; review is on iff config.path is
  // non-empty. sample_fraction is clamped to [0, 1].
  explicit ReviewSampler(const config::ReviewConfig& config);

  bool enabled() const { return enabled_; }

  // The seed of keyed draws (default 0).
  void SetSeed(uint64_t seed) { seed_ = seed; }

  // Reasons to review an accepted prediction of `model` (uses
  // model.low_confidence_threshold). Empty when review is off. The random
  // reason is drawn from `key` when given, else from the thread's
  // generator.
  ReasonSet SamplePrediction(const config::ModelConfig& model,
                             bool has_safety_violation,
                             std::optional<double> confidence,
                             std::optional<DrawKey> key = std::nullopt) const;

  // Reasons to review an accepted feedback event with this score (1..5).
  // Empty when review is off.
  ReasonSet SampleFeedback(double score) const;

  // Resets the calling thread's generator so random draws are reproducible
  // (tests). Other threads are unaffected.
  static void SeedThisThreadForTesting(uint64_t seed);

 private:
  bool enabled_ = false;
  double low_feedback_score_ = 0;
  // Random sampling: never (kNever), always (kAlways), or when the next
  // 64-bit draw is < threshold_ (probability threshold_ / 2^64).
  enum class RandomMode : uint8_t { kNever, kAlways, kThreshold };
  RandomMode random_mode_ = RandomMode::kNever;
  uint64_t threshold_ = 0;
  uint64_t seed_ = 0;
};

}  // namespace aiq::review

#endif  // AIQ_EXPORTER_REVIEW_REVIEW_SAMPLER_H_
