#include "exporter/stats/drift_policy.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "absl/strings/str_cat.h"

namespace aiq::stats {
namespace {

bool IsNumericOnly(DriftTest t) {
  return t == DriftTest::kKs || t == DriftTest::kWasserstein;
}

CategoryCounts NumericCategories(std::span<const double> values) {
  CategoryCounts c;
  for (double v : values) c.Add(NumericCategoryKey(v));
  return c;
}

}  // namespace

std::string_view DriftTestName(DriftTest test) {
  return kDriftTestNames.Name(test);
}

absl::StatusOr<DriftTest> ParseDriftTest(std::string_view name) {
  if (std::optional<DriftTest> t = kDriftTestNames.Parse(name)) return *t;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown drift test \"", std::string(name),
                   "\" (expected one of ", kDriftTestNames.List(), ")"));
}

bool IsPValueTest(DriftTest test) {
  return test == DriftTest::kKs || test == DriftTest::kZ ||
         test == DriftTest::kChiSquare;
}

double DefaultThreshold(DriftTest test) {
  return IsPValueTest(test) ? 0.05 : 0.1;
}

// Evidently: KS detects at p <= threshold, Z and chi-square at p <
// threshold, distances at >= threshold.
bool IsDrift(DriftTest test, double score, double threshold) {
  switch (test) {
    case DriftTest::kKs:
      return score <= threshold;
    case DriftTest::kZ:
    case DriftTest::kChiSquare:
      return score < threshold;
    case DriftTest::kWasserstein:
    case DriftTest::kJensenShannon:
    case DriftTest::kPsi:
      return score >= threshold;
  }
  return false;
}

absl::StatusOr<DriftTestChoice> ChooseDriftTest(
    FeatureKind kind, int64_t reference_rows, int64_t reference_unique,
    const DriftTestOverride& override_spec) {
  const bool numeric = IsNumeric(kind);  // booleans are tested as categories
  const bool few_values = reference_unique <= kMaxCategoricalUnique;
  DriftTestChoice c;
  if (override_spec.test.has_value()) {
    c.test = *override_spec.test;
    if (!numeric && IsNumericOnly(c.test)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "drift test \"", std::string(DriftTestName(c.test)),
          "\" needs a numeric feature; this one is ", FeatureKindName(kind)));
    }
  } else if (reference_rows <= kSmallReferenceRows) {
    if (numeric && !few_values) {
      c.test = DriftTest::kKs;
    } else if (reference_unique <= kMaxBinaryUnique) {
      c.test = DriftTest::kZ;
    } else {
      c.test = DriftTest::kChiSquare;
    }
  } else {
    c.test = numeric && !few_values ? DriftTest::kWasserstein
                                    : DriftTest::kJensenShannon;
  }
  c.threshold = override_spec.threshold.value_or(DefaultThreshold(c.test));
  if (!numeric) {
    c.as_categories = true;
  } else {
    c.as_categories = c.test == DriftTest::kZ ||
                      c.test == DriftTest::kChiSquare ||
                      (few_values && !IsNumericOnly(c.test));
  }
  return c;
}

absl::StatusOr<FeatureReference> FeatureReference::Numeric(
    std::span<const double> values, const DriftTestOverride& ovr) {
  absl::StatusOr<NumericReference> num = MakeNumericReference(values);
  if (!num.ok()) return num.status();
  FeatureReference ref;
  ref.type_ = FeatureKind::kNumeric;
  absl::StatusOr<DriftTestChoice> choice = ChooseDriftTest(
      FeatureKind::kNumeric, num->size(), num->unique_count, ovr);
  if (!choice.ok()) return choice.status();
  ref.choice_ = *choice;
  if (ref.choice_.as_categories) ref.categories_ = NumericCategories(values);
  ref.IndexCategories();
  ref.numeric_ = *std::move(num);
  return ref;
}

absl::StatusOr<FeatureReference> FeatureReference::Categorical(
    const CategoryCounts& counts, const DriftTestOverride& ovr) {
  if (counts.empty()) {
    return absl::InvalidArgumentError("categorical reference: empty input");
  }
  FeatureReference ref;
  ref.type_ = FeatureKind::kCategorical;
  absl::StatusOr<DriftTestChoice> choice = ChooseDriftTest(
      FeatureKind::kCategorical, counts.total(), counts.num_categories(), ovr);
  if (!choice.ok()) return choice.status();
  ref.choice_ = *choice;
  ref.categories_ = counts;
  ref.IndexCategories();
  return ref;
}

void FeatureReference::IndexCategories() {
  category_set_.clear();
  category_set_.reserve(categories_.counts().size());
  for (const auto& [key, n] : categories_.counts()) category_set_.insert(key);
}

absl::StatusOr<DriftDecision> DecideDrift(
    const FeatureReference& reference, const NumericDrift* numeric,
    const CategoryCounts* current_categories) {
  const DriftTestChoice& c = reference.choice();
  DriftDecision d;
  d.test = c.test;
  d.threshold = c.threshold;
  if (c.as_categories) {
    if (current_categories == nullptr) {
      return absl::InvalidArgumentError(
          "drift decision: current category counts required");
    }
    if (c.test == DriftTest::kZ) {
      absl::StatusOr<ZTestResult> z =
          ZTestCategories(reference.categories(), *current_categories,
                          reference.category_order());
      if (!z.ok()) return z.status();
      d.score = z->p_value;
    } else {
      absl::StatusOr<CategoricalDrift> cat =
          CompareCategories(reference.categories(), *current_categories,
                            reference.category_order());
      if (!cat.ok()) return cat.status();
      switch (c.test) {
        case DriftTest::kChiSquare:
          d.score = cat->chi_square.p_value;
          break;
        case DriftTest::kJensenShannon:
          d.score = cat->jensen_shannon;
          break;
        case DriftTest::kPsi:
          d.score = cat->psi;
          break;
        default:
          return absl::InternalError(
              "drift decision: numeric test on categories");
      }
    }
  } else {
    if (numeric == nullptr) {
      return absl::InvalidArgumentError(
          "drift decision: numeric statistics required");
    }
    switch (c.test) {
      case DriftTest::kKs:
        d.score = numeric->ks.p_value;
        break;
      case DriftTest::kWasserstein:
        d.score = numeric->wasserstein_normed;
        break;
      case DriftTest::kJensenShannon:
        d.score = numeric->jensen_shannon;
        break;
      case DriftTest::kPsi:
        d.score = numeric->psi;
        break;
      default:
        return absl::InternalError(
            "drift decision: categorical test on numbers");
    }
  }
  d.detected = IsDrift(d.test, d.score, d.threshold);
  return d;
}

absl::StatusOr<FeatureDrift> CompareFeature(const FeatureReference& reference,
                                            std::span<const double> current) {
  if (reference.type() != FeatureKind::kNumeric) {
    return absl::InvalidArgumentError(
        "feature drift: numeric current data for a categorical feature");
  }
  absl::StatusOr<NumericDrift> num =
      CompareNumeric(reference.numeric(), current);
  if (!num.ok()) return num.status();
  FeatureDrift out;
  out.type = FeatureKind::kNumeric;
  out.numeric = *num;
  absl::StatusOr<DriftDecision> d;
  if (reference.choice().as_categories) {
    const CategoryCounts cur = NumericCategories(current);
    d = DecideDrift(reference, &*out.numeric, &cur);
  } else {
    d = DecideDrift(reference, &*out.numeric, nullptr);
  }
  if (!d.ok()) return d.status();
  out.drift = *d;
  return out;
}

absl::StatusOr<FeatureDrift> CompareFeature(const FeatureReference& reference,
                                            const CategoryCounts& current) {
  if (reference.type() != FeatureKind::kCategorical) {
    return absl::InvalidArgumentError(
        "feature drift: category counts for a numeric feature");
  }
  absl::StatusOr<CategoricalDrift> cat = CompareCategories(
      reference.categories(), current, reference.category_order());
  if (!cat.ok()) return cat.status();
  FeatureDrift out;
  out.type = FeatureKind::kCategorical;
  out.categorical = *std::move(cat);
  absl::StatusOr<DriftDecision> d = DecideDrift(reference, nullptr, &current);
  if (!d.ok()) return d.status();
  out.drift = *d;
  return out;
}

DatasetDrift ComputeDatasetDrift(int64_t drifted_features,
                                 int64_t total_features,
                                 double share_threshold) {
  DatasetDrift d;
  d.drifted_features = drifted_features;
  d.total_features = total_features;
  if (total_features > 0) {
    d.share = static_cast<double>(drifted_features) /
              static_cast<double>(total_features);
    d.detected = d.share >= share_threshold;
  }
  return d;
}

}  // namespace aiq::stats
