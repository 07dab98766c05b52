#include "exporter/model/drift_window.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "exporter/stats/binned_drift.h"
#include "exporter/stats/numeric_drift.h"
#include "exporter/stats/sort.h"

namespace aiq::model {
namespace {

// Categories past the per-bucket cap are counted under this key, so a
// client sending unbounded distinct values cannot grow memory.
constexpr char kOverflowCategory[] = "__other__";

bool CompareByPriority(const auto& a, const auto& b) {
  return a.priority < b.priority;
}

}  // namespace

DriftWindow::DriftWindow(const config::ModelConfig& model,
                         std::shared_ptr<const ModelReference> reference,
                         int max_categories, uint64_t seed)
    : model_(model),
      reference_(std::move(reference)),
      max_categories_(max_categories),
      max_samples_(model.window.max_exact_samples),
      clock_(model.window.duration, model.window.buckets),
      buckets_(static_cast<size_t>(model.window.buckets)),
      rng_(seed) {
  const size_t channels = model.features.size() + 1;
  stored_.assign(channels, 0);
  for (const config::FeatureConfig& f : model.features) {
    channel_numeric_.push_back(f.type == stats::FeatureKind::kNumeric);
  }
  channel_numeric_.push_back(model.task == config::Task::kRegression);
}

uint32_t DriftWindow::NextRandom() {
  // splitmix64 (Steele, Lea & Flood 2014): fast, and good enough to make
  // sample priorities independent of the values.
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return static_cast<uint32_t>((z ^ (z >> 31)) >> 32);
}

const FeatureProfile* DriftWindow::ProfileOf(size_t c) const {
  if (!reference_) return nullptr;
  if (c < reference_->features().size()) return &reference_->features()[c];
  return reference_->prediction() ? &*reference_->prediction() : nullptr;
}

void DriftWindow::ClearBucket(Bucket& b) {
  for (size_t c = 0; c < b.channels.size(); ++c) {
    stored_[c] -= static_cast<int64_t>(b.channels[c].heap.size());
  }
  b = Bucket{};
}

void DriftWindow::ExpireOld(int64_t now_id) {
  for (Bucket& b : buckets_) {
    if (b.id != kNever && !clock_.IsLive(b.id, now_id)) {
      ClearBucket(b);
      ++generation_;
    }
  }
}

DriftWindow::Bucket* DriftWindow::BucketAt(absl::Time now, absl::Time at) {
  const int64_t now_id = clock_.BucketOf(now);
  ExpireOld(now_id);
  const int64_t id = clock_.BucketOf(at);
  if (!clock_.IsLive(id, now_id)) return nullptr;
  const int64_t n = static_cast<int64_t>(buckets_.size());
  Bucket& b = buckets_[static_cast<size_t>(((id % n) + n) % n)];
  if (b.id != id) {
    ClearBucket(b);
    b.id = id;
    b.channels.resize(stored_.size());
    for (size_t c = 0; c < b.channels.size(); ++c) {
      const FeatureProfile* p = ProfileOf(c);
      if (p != nullptr && channel_numeric_[c]) {
        b.channels[c].bins.assign(
            static_cast<size_t>(p->reference.numeric().bins.num_bins()), 0);
      }
    }
    ++generation_;
  }
  return &b;
}

void DriftWindow::Sample(int c, Bucket& b, double value) {
  Channel& ch = b.channels[static_cast<size_t>(c)];
  const uint32_t priority = NextRandom();
  if (priority >= ch.threshold) return;
  ch.heap.push_back({value, priority});
  std::push_heap(ch.heap.begin(), ch.heap.end(),
                 CompareByPriority<Sampled, Sampled>);
  if (++stored_[static_cast<size_t>(c)] <= max_samples_) return;
  // Over budget: drop the highest priority in the whole window, and make
  // its bucket keep only lower priorities from now on.
  Channel* victim = nullptr;
  for (Bucket& other : buckets_) {
    if (other.id == kNever) continue;
    Channel& o = other.channels[static_cast<size_t>(c)];
    if (!o.heap.empty() &&
        (victim == nullptr ||
         o.heap.front().priority > victim->heap.front().priority)) {
      victim = &o;
    }
  }
  if (victim == nullptr) return;  // unreachable: stored_ counts heap entries
  std::pop_heap(victim->heap.begin(), victim->heap.end(),
                CompareByPriority<Sampled, Sampled>);
  victim->threshold = victim->heap.back().priority;
  victim->heap.pop_back();
  --stored_[static_cast<size_t>(c)];
}

void DriftWindow::AddToChannel(int c, Bucket& b, const FeatureProfile* profile,
                               bool numeric, const DriftInput& in) {
  Channel& ch = b.channels[static_cast<size_t>(c)];
  ++ch.total;
  const bool usable = numeric ? in.kind == DriftInput::Kind::kNumber
                              : in.kind == DriftInput::Kind::kCategory;
  if (!usable) {
    ++ch.missing;
    return;
  }
  if (profile == nullptr) return;  // no reference: data quality counts only
  const stats::FeatureReference& ref = profile->reference;
  auto add_category = [&](std::string_view key) {
    if (!ref.HasCategory(key)) ++ch.new_category;
    ch.categories.AddBounded(key, max_categories_, kOverflowCategory);
  };
  if (numeric) {
    const double v = in.number;
    ++ch.bins[static_cast<size_t>(ref.numeric().bins.BinOf(v))];
    if (v < profile->min || v > profile->max) ++ch.out_of_range;
    if (ref.choice().as_categories) add_category(stats::NumericCategoryKey(v));
    Sample(c, b, v);
  } else {
    add_category(in.category);
  }
}

void DriftWindow::Add(absl::Time now, absl::Time at,
                      std::span<const DriftInput> features,
                      const DriftInput& prediction,
                      std::optional<double> pca_row_error) {
  Bucket* bucket = BucketAt(now, at);
  if (bucket == nullptr) return;
  Bucket& b = *bucket;
  ++generation_;
  ++b.predictions;
  const int num_features = static_cast<int>(model_.features.size());
  for (int f = 0; f < num_features; ++f) {
    const FeatureProfile* p =
        reference_ ? &reference_->features()[static_cast<size_t>(f)] : nullptr;
    AddToChannel(f, b, p, channel_numeric_[static_cast<size_t>(f)],
                 features[static_cast<size_t>(f)]);
  }
  if (reference_ && reference_->prediction()) {
    AddToChannel(num_features, b, &*reference_->prediction(),
                 channel_numeric_.back(), prediction);
  }
  if (pca_row_error) {
    b.pca_error_sum += *pca_row_error;
    ++b.pca_rows;
  }
}

uint64_t DriftWindow::Stamp(absl::Time now) {
  ExpireOld(clock_.BucketOf(now));
  return generation_;
}

DriftInputs DriftWindow::Collect(absl::Time now) {
  ExpireOld(clock_.BucketOf(now));
  DriftInputs out;
  const size_t channels = stored_.size();
  std::vector<ChannelInputs> merged(channels);
  std::vector<uint64_t> threshold(channels, kNoThreshold);
  for (const Bucket& b : buckets_) {
    if (b.id == kNever) continue;
    out.predictions += b.predictions;
    out.pca_error_sum += b.pca_error_sum;
    out.pca_rows += b.pca_rows;
    for (size_t c = 0; c < channels; ++c) {
      threshold[c] = std::min(threshold[c], b.channels[c].threshold);
    }
  }
  for (const Bucket& b : buckets_) {
    if (b.id == kNever) continue;
    for (size_t c = 0; c < channels; ++c) {
      const Channel& ch = b.channels[c];
      ChannelInputs& m = merged[c];
      m.total += ch.total;
      m.missing += ch.missing;
      m.out_of_range += ch.out_of_range;
      m.new_category += ch.new_category;
      if (m.bins.size() < ch.bins.size()) m.bins.resize(ch.bins.size(), 0);
      for (size_t i = 0; i < ch.bins.size(); ++i) m.bins[i] += ch.bins[i];
      m.categories.Merge(ch.categories);
      for (const Sampled& s : ch.heap) {
        if (s.priority < threshold[c]) m.values.push_back(s.value);
      }
      m.sampled = threshold[c] != kNoThreshold;
    }
  }
  out.features.assign(merged.begin(), merged.begin() + (channels - 1));
  if (reference_ && reference_->prediction()) {
    out.prediction = std::move(merged.back());
  }
  return out;
}

// ---------------------------------------------------------------------------
// Checkpoints

namespace {

std::string ChannelName(const config::ModelConfig& model, size_t c) {
  return c < model.features.size() ? model.features[c].name : "prediction";
}

}  // namespace

std::span<const double> DriftWindow::BinEdgesOf(size_t c) const {
  const FeatureProfile* p = ProfileOf(c);
  if (p == nullptr || !channel_numeric_[c]) return {};
  return p->reference.numeric().bins.edges();
}

void DriftWindow::EncodeShape(util::BinaryWriter& w) const {
  clock_.EncodeShape(w);
  w.Signed(max_samples_);
  w.Varint(stored_.size());
  for (size_t c = 0; c < stored_.size(); ++c) {
    w.String(ChannelName(model_, c));
    w.Bool(channel_numeric_[c]);
    w.Bool(ProfileOf(c) != nullptr);
    w.Doubles(BinEdgesOf(c));
  }
}

absl::Status DriftWindow::CheckShape(util::BinaryReader& r) const {
  if (absl::Status s = clock_.CheckShape(r, "drift window"); !s.ok()) {
    return s;
  }
  const int64_t max_samples = r.Signed("drift window max_exact_samples");
  // Name, two flags and an edge count: at least four bytes per channel.
  const size_t channels = r.Count("drift window channels", 4);
  if (!r.ok()) return r.status();
  if (max_samples != max_samples_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "drift window: the checkpoint was sampled with max_exact_samples ",
        max_samples, ", this window has ", max_samples_));
  }
  if (channels != stored_.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("drift window: the checkpoint has ", channels - 1,
                     " features, this model ", stored_.size() - 1));
  }
  for (size_t c = 0; c < channels; ++c) {
    const std::string name = r.String("drift window channel name");
    const bool numeric = r.Bool("drift window channel type");
    const bool has_profile = r.Bool("drift window channel reference");
    const std::vector<double> edges = r.Doubles("drift window bin edges");
    if (!r.ok()) return r.status();
    const std::string mine = ChannelName(model_, c);
    if (name != mine) {
      return absl::FailedPreconditionError(
          absl::StrCat("drift window: channel ", c, " is '", name,
                       "' in the checkpoint, '", mine, "' here"));
    }
    if (numeric != channel_numeric_[c]) {
      return absl::FailedPreconditionError(absl::StrCat(
          "drift window: '", name, "' is ", numeric ? "numeric" : "categorical",
          " in the checkpoint, ",
          channel_numeric_[c] ? "numeric" : "categorical", " here"));
    }
    if (has_profile != (ProfileOf(c) != nullptr)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "drift window: '", name, "' has ", has_profile ? "a" : "no",
          " reference profile in the checkpoint, ",
          has_profile ? "none" : "one", " here"));
    }
    const std::span<const double> my_edges = BinEdgesOf(c);
    if (!std::equal(edges.begin(), edges.end(), my_edges.begin(),
                    my_edges.end())) {
      return absl::FailedPreconditionError(
          absl::StrCat("drift window: '", name,
                       "' was binned on other reference bin "
                       "edges (",
                       edges.size(), " edges in the checkpoint, ",
                       my_edges.size(), " here): the reference was replaced"));
    }
  }
  return absl::OkStatus();
}

void DriftWindow::EncodeTo(util::BinaryWriter& w) const {
  EncodeShape(w);
  w.Fixed64(rng_);
  w.Varint(generation_);
  for (const Bucket& b : buckets_) {
    w.Signed(b.id);
    if (b.id == kNever) continue;
    w.Signed(b.predictions);
    w.Double(b.pca_error_sum);
    w.Signed(b.pca_rows);
    for (const Channel& ch : b.channels) {
      w.Signed(ch.total);
      w.Signed(ch.missing);
      w.Signed(ch.out_of_range);
      w.Signed(ch.new_category);
      for (int64_t n : ch.bins) w.Signed(n);  // their number is in the shape
      ch.categories.EncodeTo(w);
      w.Varint(ch.threshold);
      // In heap order, so later pushes and pops act on the same layout.
      w.Varint(ch.heap.size());
      for (const Sampled& s : ch.heap) {
        w.Double(s.value);
        w.Fixed32(s.priority);
      }
    }
  }
}

absl::Status DriftWindow::DecodeBucket(util::BinaryReader& r, Bucket& b) const {
  b.id = r.Signed("drift window bucket number");
  if (!r.ok() || b.id == kNever) return r.status();
  b.predictions = r.Int("drift window predictions", 0, INT64_MAX);
  b.pca_error_sum = r.Double("drift window pca error sum");
  b.pca_rows = r.Int("drift window pca rows", 0, INT64_MAX);
  b.channels.resize(stored_.size());
  for (size_t c = 0; c < b.channels.size() && r.ok(); ++c) {
    Channel& ch = b.channels[c];
    ch.total = r.Int("drift window channel total", 0, INT64_MAX);
    ch.missing = r.Int("drift window channel missing", 0, ch.total);
    ch.out_of_range = r.Int("drift window channel out of range", 0, ch.total);
    ch.new_category = r.Int("drift window channel new categories", 0, ch.total);
    const size_t edges = BinEdgesOf(c).size();
    ch.bins.assign(edges > 0 ? edges - 1 : 0, 0);
    for (int64_t& n : ch.bins)
      n = r.Int("drift window bin count", 0, INT64_MAX);
    if (!r.ok() || !ch.categories.DecodeFrom(r).ok()) break;
    const uint64_t threshold = r.Varint("drift window sample threshold");
    if (r.ok() && threshold > kNoThreshold) {
      r.Fail("drift window sample threshold", "above 2^32");
    }
    ch.threshold = threshold;
    const size_t samples = r.Count("drift window samples", 12);
    ch.heap.reserve(samples);
    for (size_t i = 0; i < samples && r.ok(); ++i) {
      const double value = r.Double("drift window sample value");
      const uint32_t priority = r.Fixed32("drift window sample priority");
      ch.heap.push_back({value, priority});
    }
    if (r.ok() && !std::is_heap(ch.heap.begin(), ch.heap.end(),
                                CompareByPriority<Sampled, Sampled>)) {
      r.Fail("drift window samples", "not in heap order");
    }
  }
  return r.status();
}

absl::Status DriftWindow::DecodeFrom(util::BinaryReader& r) {
  if (absl::Status s = CheckShape(r); !s.ok()) return s;
  const uint64_t rng = r.Fixed64("drift window random state");
  const uint64_t generation = r.Varint("drift window generation");
  std::vector<Bucket> buckets(buckets_.size());
  std::vector<int64_t> stored(stored_.size(), 0);
  const int64_t n = static_cast<int64_t>(buckets.size());
  for (size_t i = 0; i < buckets.size() && r.ok(); ++i) {
    Bucket& b = buckets[i];
    if (!DecodeBucket(r, b).ok()) break;
    if (b.id == kNever) continue;
    if (((b.id % n) + n) % n != static_cast<int64_t>(i)) {
      r.Fail("drift window bucket number",
             absl::StrCat(b.id, " does not belong in slot ", i));
      break;
    }
    for (size_t c = 0; c < stored.size(); ++c) {
      stored[c] += static_cast<int64_t>(b.channels[c].heap.size());
    }
  }
  for (size_t c = 0; c < stored.size() && r.ok(); ++c) {
    if (stored[c] > max_samples_) {
      r.Fail("drift window samples",
             absl::StrCat("'", ChannelName(model_, c), "' holds ", stored[c],
                          ", more than max_exact_samples"));
    }
  }
  if (!r.ok()) return r.status();
  buckets_ = std::move(buckets);
  stored_ = std::move(stored);
  rng_ = rng;
  generation_ = generation;
  return absl::OkStatus();
}

namespace {

ChannelDrift ComputeChannel(const FeatureProfile& profile, bool numeric,
                            const ChannelInputs& in, int64_t min_samples) {
  ChannelDrift cd;
  cd.name = profile.name;
  cd.numeric = numeric;
  cd.total = in.total;
  cd.present = in.total - in.missing;
  cd.sampled = in.sampled;
  cd.sample_size = static_cast<int64_t>(in.values.size());
  if (in.total >= min_samples && in.total > 0) {
    cd.missing_ratio =
        static_cast<double>(in.missing) / static_cast<double>(in.total);
  }
  if (cd.present < min_samples || cd.present == 0) return cd;
  const double present = static_cast<double>(cd.present);
  const stats::FeatureReference& ref = profile.reference;
  absl::StatusOr<stats::DriftDecision> decision;
  if (numeric) {
    cd.out_of_range_ratio = static_cast<double>(in.out_of_range) / present;
    std::vector<double> sorted = in.values;
    stats::SortFinite(sorted);
    // PSI and Jensen-Shannon from the window's exact bin counts, even when
    // KS and Wasserstein use a sample; a sample's exact KS p-value is no more
    // meaningful than kstwo's and costs up to O(n*m) (docs/streaming.md).
    absl::StatusOr<stats::NumericDrift> nd = stats::CompareNumericSorted(
        ref.numeric(), sorted,
        in.sampled ? stats::KsMethod::kAsymptotic : stats::KsMethod::kAuto,
        in.bins);
    if (!nd.ok()) {
      cd.error = std::string(nd.status().message());
      return cd;
    }
    cd.numeric_stats = *nd;
    if (ref.choice().as_categories) {
      absl::StatusOr<stats::CategoricalDrift> cat = stats::CompareCategories(
          ref.categories(), in.categories, ref.category_order());
      if (cat.ok()) cd.categorical_stats = *std::move(cat);
      decision = stats::DecideDrift(ref, &*cd.numeric_stats, &in.categories);
    } else {
      decision = stats::DecideDrift(ref, &*cd.numeric_stats, nullptr);
    }
  } else {
    cd.new_category_ratio = static_cast<double>(in.new_category) / present;
    absl::StatusOr<stats::CategoricalDrift> cat = stats::CompareCategories(
        ref.categories(), in.categories, ref.category_order());
    if (!cat.ok()) {
      cd.error = std::string(cat.status().message());
      return cd;
    }
    cd.categorical_stats = *std::move(cat);
    decision = stats::DecideDrift(ref, nullptr, &in.categories);
  }
  if (!decision.ok()) {
    cd.error = std::string(decision.status().message());
    return cd;
  }
  cd.decision = *decision;
  if (decision->test == stats::DriftTest::kZ) {
    absl::StatusOr<stats::ZTestResult> z = stats::ZTestCategories(
        ref.categories(), in.categories, ref.category_order());
    if (z.ok()) cd.z = *z;
  }
  return cd;
}

}  // namespace

WindowDrift ComputeDrift(const ModelReference& reference,
                         const config::ModelConfig& model,
                         const DriftInputs& inputs) {
  WindowDrift out;
  out.predictions = inputs.predictions;
  out.min_samples = model.window.min_samples;
  int64_t drifted = 0, evaluated = 0;
  for (size_t f = 0; f < inputs.features.size(); ++f) {
    out.features.push_back(
        ComputeChannel(reference.features()[f],
                       model.features[f].type == stats::FeatureKind::kNumeric,
                       inputs.features[f], out.min_samples));
    if (const auto& d = out.features.back().decision) {
      ++evaluated;
      drifted += d->detected ? 1 : 0;
    }
  }
  if (evaluated > 0) {
    out.dataset = stats::ComputeDatasetDrift(drifted, evaluated);
  }
  if (reference.prediction() && inputs.prediction) {
    out.prediction = ComputeChannel(*reference.prediction(),
                                    model.task == config::Task::kRegression,
                                    *inputs.prediction, out.min_samples);
  }
  if (reference.pca() && inputs.pca_rows >= out.min_samples &&
      inputs.pca_rows > 0) {
    out.reconstruction_error =
        inputs.pca_error_sum / static_cast<double>(inputs.pca_rows);
  }
  return out;
}

}  // namespace aiq::model
