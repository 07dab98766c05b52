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

DriftWindow::Bucket& DriftWindow::CurrentBucket(absl::Time now) {
  const int64_t id = clock_.BucketOf(now);
  ExpireOld(id);
  const int64_t n = static_cast<int64_t>(buckets_.size());
  Bucket& b = buckets_[static_cast<size_t>(((id % n) + n) % n)];
  if (b.id != id) {
    ClearBucket(b);
    b.id = id;
    b.channels.resize(stored_.size());
    for (size_t c = 0; c < b.channels.size(); ++c) {
      const FeatureProfile* p = nullptr;
      if (reference_) {
        p = c < reference_->features().size()
                ? &reference_->features()[c]
                : (reference_->prediction() ? &*reference_->prediction()
                                            : nullptr);
      }
      if (p != nullptr && channel_numeric_[c]) {
        b.channels[c].bins.assign(
            static_cast<size_t>(p->reference.numeric().bins.num_bins()), 0);
      }
    }
    ++generation_;
  }
  return b;
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
  auto add_category = [&](const std::string& key) {
    if (ref.categories().count(key) == 0) ++ch.new_category;
    if (ch.categories.count(key) > 0 ||
        ch.categories.num_categories() < max_categories_) {
      ch.categories.Add(key);
    } else {
      ch.categories.Add(kOverflowCategory);
    }
  };
  if (numeric) {
    const double v = in.number;
    ++ch.bins[static_cast<size_t>(ref.numeric().bins.BinOf(v))];
    if (v < profile->min || v > profile->max) ++ch.out_of_range;
    if (ref.choice().as_categories) add_category(stats::NumericCategoryKey(v));
    Sample(c, b, v);
  } else {
    add_category(std::string(in.category));
  }
}

void DriftWindow::Add(absl::Time now, std::span<const DriftInput> features,
                      const DriftInput& prediction,
                      std::optional<double> pca_row_error) {
  Bucket& b = CurrentBucket(now);
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
