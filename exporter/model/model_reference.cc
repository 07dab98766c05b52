#include "exporter/model/model_reference.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "exporter/config/config_loader.h"
#include "exporter/stats/categorical.h"
#include "exporter/stats/drift_calibration.h"

namespace aiq::model {
namespace {

stats::DriftTestOverride OverrideOf(const config::FeatureConfig& f) {
  return {f.drift_test, f.drift_threshold};
}

// `drift_threshold: auto`: chunks of the configured size, else of
// window.min_samples, the smallest window that gets a decision. Distances
// fall as windows grow, so a threshold calibrated on the smallest decided
// window holds for every larger one (p-values do not depend on the size).
// KS and Wasserstein never see more than max_exact_samples values of a
// window (beyond, a sample of that size), so their chunks are no larger.
int64_t CalibrationChunk(const config::ModelConfig& model,
                         stats::DriftTest test) {
  int64_t chunk =
      model.drift_calibration_chunk > 0
          ? model.drift_calibration_chunk
          : std::max(model.window.min_samples, stats::kMinCalibrationChunk);
  if (test == stats::DriftTest::kKs || test == stats::DriftTest::kWasserstein) {
    chunk = std::min(chunk, model.window.max_exact_samples);
  }
  return chunk;
}

// Errors name the model and the feature, and what to change.
absl::Status Calibrate(const config::ModelConfig& model,
                       const data::Dataset& ds, const char* what,
                       FeatureProfile& p) {
  const int64_t chunk = CalibrationChunk(model, p.reference.choice().test);
  absl::Status s = p.reference.CalibrateThreshold(chunk);
  if (s.ok()) return s;
  return absl::InvalidArgumentError(absl::StrCat(
      ds.source(), ": model \"", model.name, "\" ", what, " \"", p.name,
      "\": ", s.message(),
      " (use a smaller drift_calibration_chunk, a larger reference or a "
      "fixed drift_threshold)"));
}

std::vector<double> PresentNumbers(const data::Column& c) {
  std::vector<double> out;
  out.reserve(c.numbers.size());
  for (double v : c.numbers) {
    if (!std::isnan(v)) out.push_back(v);
  }
  return out;
}

stats::CategoryCounts CategoriesOf(const data::Column& c) {
  stats::CategoryCounts counts;
  if (c.type == stats::FeatureKind::kCategorical) {
    std::vector<int64_t> per_code(c.categories.size(), 0);
    for (int32_t code : c.codes) {
      if (code != data::kMissingCode) ++per_code[static_cast<size_t>(code)];
    }
    for (size_t i = 0; i < per_code.size(); ++i) {
      if (per_code[i] > 0) counts.Add(c.categories[i], per_code[i]);
    }
  } else {
    for (double v : c.numbers) {
      if (!std::isnan(v)) counts.Add(stats::NumericCategoryKey(v));
    }
  }
  return counts;
}

absl::StatusOr<FeatureProfile> Profile(const std::string& name,
                                       const data::Column& column, bool numeric,
                                       const stats::DriftTestOverride& ovr) {
  FeatureProfile p;
  p.name = name;
  absl::StatusOr<stats::FeatureReference> ref;
  if (numeric) {
    std::vector<double> values = PresentNumbers(column);
    if (values.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("column \"", name, "\" has no values"));
    }
    ref = stats::FeatureReference::Numeric(values, ovr);
  } else {
    stats::CategoryCounts counts = CategoriesOf(column);
    if (counts.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("column \"", name, "\" has no values"));
    }
    ref = stats::FeatureReference::Categorical(counts, ovr);
  }
  if (!ref.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("column \"", name, "\": ", ref.status().message()));
  }
  p.reference = *std::move(ref);
  if (numeric) {
    p.min = p.reference.numeric().sorted.front();
    p.max = p.reference.numeric().sorted.back();
  }
  return p;
}

const data::Column* Require(const data::Dataset& ds, const std::string& name,
                            const char* role, absl::Status& error) {
  const data::Column* c = ds.Find(name);
  if (c == nullptr && error.ok()) {
    error = absl::InvalidArgumentError(
        absl::StrCat(ds.source(), ": no column \"", name, "\" (", role, ")"));
  }
  return c;
}

}  // namespace

data::CsvOptions ReferenceCsvOptions(const config::ModelConfig& model) {
  data::CsvOptions o;
  for (const config::FeatureConfig& f : model.features) {
    o.column_types[f.name] = f.type;
  }
  // Class labels are categories even when they look like numbers.
  if (model.task == config::Task::kClassification) {
    for (const std::string* c :
         {&model.reference_target_column, &model.reference_prediction_column}) {
      if (!c->empty()) o.column_types[*c] = stats::FeatureKind::kCategorical;
    }
  } else if (model.task == config::Task::kRegression) {
    for (const std::string* c :
         {&model.reference_target_column, &model.reference_prediction_column}) {
      if (!c->empty()) o.column_types[*c] = stats::FeatureKind::kNumeric;
    }
  }
  if (!model.reference_confidence_column.empty()) {
    o.column_types[model.reference_confidence_column] =
        stats::FeatureKind::kNumeric;
  }
  o.types_from = "the model's config";
  return o;
}

absl::StatusOr<std::shared_ptr<const ModelReference>> ModelReference::Build(
    const config::ModelConfig& model, const data::Dataset& ds) {
  auto ref = std::shared_ptr<ModelReference>(new ModelReference());
  ref->source_ = ds.source();
  ref->rows_ = static_cast<int64_t>(ds.num_rows());
  if (ds.num_rows() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(ds.source(), ": the reference has no rows"));
  }
  absl::Status missing = absl::OkStatus();
  for (const config::FeatureConfig& f : model.features) {
    const data::Column* c = Require(ds, f.name, "a declared feature", missing);
    if (c == nullptr) continue;
    const bool numeric = f.type == stats::FeatureKind::kNumeric;
    absl::StatusOr<FeatureProfile> p =
        Profile(f.name, *c, numeric, OverrideOf(f));
    if (!p.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(ds.source(), ": ", p.status().message()));
    }
    if (f.drift_threshold_auto) {
      if (absl::Status s = Calibrate(model, ds, "feature", *p); !s.ok()) {
        return s;
      }
    }
    ref->features_.push_back(*std::move(p));
  }
  const data::Column* target = model.reference_target_column.empty()
                                   ? nullptr
                                   : Require(ds, model.reference_target_column,
                                             "reference.target", missing);
  const data::Column* prediction =
      model.reference_prediction_column.empty()
          ? nullptr
          : Require(ds, model.reference_prediction_column,
                    "reference.prediction", missing);
  const data::Column* confidence =
      model.reference_confidence_column.empty()
          ? nullptr
          : Require(ds, model.reference_confidence_column,
                    "reference.confidence", missing);
  if (!missing.ok()) return missing;

  const bool regression = model.task == config::Task::kRegression;
  if (prediction != nullptr) {
    absl::StatusOr<FeatureProfile> p =
        Profile(prediction->name, *prediction, regression, {});
    if (!p.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(ds.source(), ": ", p.status().message()));
    }
    if (model.drift_threshold_auto) {
      if (absl::Status s = Calibrate(model, ds, "prediction", *p); !s.ok()) {
        return s;
      }
    }
    ref->prediction_ = *std::move(p);
  }
  if (target != nullptr && prediction != nullptr) {
    // Baseline quality over rows that have both.
    if (regression) {
      std::vector<double> y, y_hat;
      for (size_t i = 0; i < ds.num_rows(); ++i) {
        if (target->IsMissing(i) || prediction->IsMissing(i)) continue;
        y.push_back(target->numbers[i]);
        y_hat.push_back(prediction->numbers[i]);
      }
      if (!y.empty()) {
        absl::StatusOr<stats::RegressionMetrics> m =
            stats::EvaluateRegression(y, y_hat);
        if (m.ok()) ref->baseline_regression_ = *m;
      }
    } else {
      std::vector<std::string> y, y_hat;
      for (size_t i = 0; i < ds.num_rows(); ++i) {
        if (target->IsMissing(i) || prediction->IsMissing(i)) continue;
        y.push_back(target->ValueAsString(i));
        y_hat.push_back(prediction->ValueAsString(i));
        if (confidence != nullptr && !confidence->IsMissing(i)) {
          const double c = confidence->numbers[i];
          if (c < 0 || c > 1) {
            return absl::InvalidArgumentError(absl::StrCat(
                ds.source(), ": column \"", confidence->name, "\" row ", i + 1,
                ": confidence must be in [0, 1]"));
          }
          ref->calibration_confidence_.push_back(c);
          ref->calibration_correct_.push_back(y.back() == y_hat.back());
        }
      }
      if (!y.empty()) {
        absl::StatusOr<stats::ClassificationReport> m =
            stats::EvaluateClassification(y, y_hat);
        if (m.ok()) ref->baseline_classification_ = *std::move(m);
      }
    }
  }

  // PCA over the numeric features, on rows where all of them are present.
  for (size_t f = 0; f < model.features.size(); ++f) {
    if (model.features[f].type == stats::FeatureKind::kNumeric) {
      ref->pca_features_.push_back(static_cast<int>(f));
    }
  }
  if (ref->pca_features_.size() >= 2) {
    std::vector<const data::Column*> cols;
    for (int f : ref->pca_features_)
      cols.push_back(ds.Find(model.features[f].name));
    std::vector<size_t> rows;
    for (size_t i = 0; i < ds.num_rows(); ++i) {
      bool complete = true;
      for (const data::Column* c : cols) complete &= !c->IsMissing(i);
      if (complete) rows.push_back(i);
    }
    std::vector<double> m;  // row-major, rows x cols
    m.reserve(rows.size() * cols.size());
    for (size_t r : rows) {
      for (const data::Column* c : cols) m.push_back(c->numbers[r]);
    }
    if (rows.size() >= 20) {  // enough rows for 10 threshold chunks
      absl::StatusOr<stats::PcaDriftModel> pca =
          stats::PcaDriftModel::Fit({m, static_cast<int64_t>(rows.size()),
                                     static_cast<int64_t>(cols.size())});
      if (pca.ok()) ref->pca_ = *std::move(pca);
    }
  } else {
    ref->pca_features_.clear();
  }
  return std::shared_ptr<const ModelReference>(std::move(ref));
}

absl::StatusOr<std::shared_ptr<const ModelReference>> LoadReference(
    const config::ModelConfig& model) {
  std::optional<std::string_view> builtin =
      config::BuiltinReferenceCsv(model.reference_csv);
  absl::StatusOr<data::Dataset> ds =
      builtin
          ? data::ParseCsv(*builtin, model.reference_csv,
                           ReferenceCsvOptions(model))
          : data::ReadCsvFile(model.reference_csv, ReferenceCsvOptions(model));
  if (!ds.ok()) return ds.status();
  return ModelReference::Build(model, *ds);
}

absl::Status CheckReferenceUpload(const config::ModelConfig& model,
                                  const config::LimitsConfig& limits,
                                  const data::Dataset& ds) {
  if (static_cast<int64_t>(ds.num_rows()) < model.window.min_samples) {
    return absl::InvalidArgumentError(
        absl::StrCat(ds.source(), ": ", ds.num_rows(),
                     " rows; a reference needs at least "
                     "window.min_samples (",
                     model.window.min_samples,
                     ") rows, or every drift statistic stays absent"));
  }
  for (const data::Column& c : ds.columns()) {
    for (const std::string& value : c.categories) {
      if (static_cast<int64_t>(value.size()) > limits.max_string_bytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            ds.source(), ": column \"", c.name, "\": a value of ", value.size(),
            " bytes, longer than limits.max_string_bytes (",
            limits.max_string_bytes, ")"));
      }
    }
  }
  if (model.task != config::Task::kClassification || model.classes.empty()) {
    return absl::OkStatus();
  }
  for (const std::string* column :
       {&model.reference_target_column, &model.reference_prediction_column}) {
    const data::Column* c = column->empty() ? nullptr : ds.Find(*column);
    if (c == nullptr) continue;  // Build names what is missing
    for (size_t row = 0; row < ds.num_rows(); ++row) {
      if (c->IsMissing(row)) continue;
      const std::string value = c->ValueAsString(row);
      if (std::find(model.classes.begin(), model.classes.end(), value) ==
          model.classes.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(ds.source(), ": column \"", c->name, "\" row ",
                         row + 1, ": class \"", value.substr(0, 64),
                         "\" is not declared for this model"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace aiq::model
