#include "exporter/report/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "exporter/util/html.h"

namespace aiq::report {
namespace {

// Debian's abseil has its own string_view type; StrCat needs it.
absl::string_view A(std::string_view s) { return {s.data(), s.size()}; }

__attribute__((format(printf, 1, 2))) std::string Fmt(const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return std::string(buf, static_cast<size_t>(std::clamp(n, 0, 255)));
}

// A statistic for people: 4 significant digits, scientific when tiny.
std::string Num(double x) {
  if (std::isnan(x)) return "n/a";
  if (x == 0) return "0";
  const double a = std::fabs(x);
  if (a < 1e-4 || a >= 1e7) return Fmt("%.3e", x);
  return Fmt("%.4g", x);
}

std::string Percent(double x) {
  if (std::isnan(x)) return "n/a";
  return Fmt("%.1f%%", 100 * x);
}

// An axis tick at a multiple of `step`: as few digits as the step needs,
// thousands and millions abbreviated.
std::string AxisLabel(double x, double step) {
  if (std::fabs(x) < step * 1e-6) x = 0;
  const char* suffix = "";
  double scale = 1;
  if (std::fabs(step) >= 1e6) {
    scale = 1e6;
    suffix = "M";
  } else if (std::fabs(step) >= 1e3) {
    scale = 1e3;
    suffix = "k";
  }
  const int decimals = std::clamp(
      static_cast<int>(-std::floor(std::log10(step / scale) + 1e-9)), 0, 6);
  return Fmt("%.*f%s", decimals, x / scale, suffix);
}

// Percent axis: "25%", "12.5%".
std::string AxisPercent(double share) { return Fmt("%.3g%%", 100 * share); }

// Tooltips: short.
std::string Tick(double x) {
  const double a = std::fabs(x);
  if (a != 0 && (a < 1e-3 || a >= 1e6)) return Fmt("%.2g", x);
  return Fmt("%.4g", x);
}

std::string Esc(std::string_view s) { return util::EscapeHtml(s); }

// At most `n` characters (bytes, backing off to a UTF-8 boundary) + "…".
std::string Shorten(const std::string& s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = n;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "\u2026";
}

bool Drifted(const FeatureReport& f) { return f.drift && f.drift->detected; }

constexpr char kStyle[] = R"css(
:root{--bg:#f4f6f9;--card:#fff;--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;
--bad:#c2410c;--bad-bg:#fff4ed;--ok:#15803d;--ok-bg:#effaf3;--ref:#64748b;
--cur:#f97316;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,
-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
.wrap{max-width:1180px;margin:0 auto;padding:0 24px}
header.top{background:#111827;color:#f9fafb;padding:22px 0 18px}
header.top h1{margin:0;font-size:22px;font-weight:650;letter-spacing:.2px}
header.top .sub{margin:6px 0 0;color:#cbd5e1;font-size:13px}
header.top code{background:#1f2937;color:#e5e7eb;padding:1px 6px;border-radius:4px}
h2{font-size:16px;margin:28px 0 10px;font-weight:650}
.verdict{margin-top:22px;border-radius:10px;padding:18px 22px;display:flex;
align-items:center;gap:18px;border:1px solid var(--line)}
.verdict.bad{background:var(--bad-bg);border-color:#fed7aa}
.verdict.good{background:var(--ok-bg);border-color:#bbf7d0}
.verdict .icon{width:44px;height:44px;border-radius:50%;display:flex;
align-items:center;justify-content:center;color:#fff;font-size:24px;
font-weight:700;flex:none}
.verdict.bad .icon{background:var(--bad)}.verdict.good .icon{background:var(--ok)}
.verdict .big{font-size:20px;font-weight:700}
.verdict.bad .big{color:var(--bad)}.verdict.good .big{color:var(--ok)}
.verdict .detail{color:#374151;margin-top:2px}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:14px;margin-top:16px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:14px 16px}
.tile .label{color:var(--muted);font-size:12px;text-transform:uppercase;
letter-spacing:.5px}
.tile .value{font-size:24px;font-weight:700;margin-top:4px}
.bar{height:6px;background:var(--line);border-radius:3px;margin-top:8px;
overflow:hidden;position:relative}
.bar span{display:block;height:100%;background:var(--bad)}
.bar.good span{background:var(--ok)}
.bar i{position:absolute;top:-2px;width:2px;height:10px;background:#111827}
table{border-collapse:collapse;width:100%;background:var(--card)}
.panel{background:var(--card);border:1px solid var(--line);border-radius:10px;
overflow:hidden}
th,td{text-align:left;padding:7px 12px;border-bottom:1px solid var(--line);
white-space:nowrap}
th{font-size:12px;color:var(--muted);font-weight:600;background:#f9fafb;
text-transform:uppercase;letter-spacing:.4px}
tr:last-child td{border-bottom:0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
th.num{text-align:right}
td a{color:var(--accent);text-decoration:none}
.pill{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12px;
font-weight:650}
.pill.bad{background:#ffedd5;color:var(--bad)}
.pill.good{background:#dcfce7;color:var(--ok)}
.pill.none{background:#f3f4f6;color:var(--muted)}
.badge{display:inline-block;padding:1px 7px;border-radius:4px;font-size:11px;
background:#eef2ff;color:#4338ca;text-transform:uppercase;letter-spacing:.4px}
.cards{display:grid;grid-template-columns:repeat(2,1fr);gap:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;
padding:14px 16px 12px;border-top:4px solid var(--ok)}
.card.drifted{border-top-color:var(--bad)}
.card.untested{border-top-color:#9ca3af}
.card h3{margin:0;font-size:16px;display:flex;align-items:center;gap:8px;
flex-wrap:wrap}
.card h3 .name{overflow-wrap:anywhere}
.card .headline{color:#374151;margin:6px 0 4px;font-size:13px}
.card svg{display:block;width:100%;height:auto;margin:4px 0}
.kv{font-size:12.5px}
.kv td{padding:4px 8px}
.kv td:first-child{color:var(--muted)}
.legend{display:flex;gap:14px;font-size:12px;color:var(--muted)}
.legend b{display:inline-block;width:10px;height:10px;border-radius:2px;
margin-right:5px;vertical-align:-1px}
.note{color:var(--muted);font-style:italic}
footer{color:var(--muted);font-size:12px;padding:28px 0 36px}
)css";

// One SVG chart: reference vs current shares per bin or category.
std::string HistogramSvg(const Histogram& h) {
  const size_t n = h.reference.size();
  if (n == 0) return "";
  const bool binned = !h.edges.empty();
  double nr = 0, nc = 0;
  for (size_t i = 0; i < n; ++i) {
    nr += static_cast<double>(h.reference[i]);
    nc += static_cast<double>(h.current[i]);
  }
  nr = std::max(nr, 1.0);
  nc = std::max(nc, 1.0);
  double ymax = 0;
  for (size_t i = 0; i < n; ++i) {
    ymax = std::max({ymax, static_cast<double>(h.reference[i]) / nr,
                     static_cast<double>(h.current[i]) / nc});
  }
  ymax = std::max(ymax, 1e-9);
  // A round top for the axis: 1, 2, 2.5 or 5 times a power of ten.
  const double mag = std::pow(10.0, std::floor(std::log10(ymax)));
  double top = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    top = m * mag;
    if (top >= ymax * 1.02) break;
  }
  const bool rotate = !binned && n > 6;
  const double W = 540, H = rotate ? 236 : 210;
  const double left = rotate ? 84 : 46, right = 16, topm = 12;
  const double bottom = rotate ? 66 : 40;
  const double pw = W - left - right, ph = H - topm - bottom;
  const auto y_of = [&](double share) { return topm + ph * (1 - share / top); };

  std::string s =
      Fmt("<svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
          "font-family=\"system-ui,sans-serif\" font-size=\"11\">",
          W, H);
  for (int g = 0; g <= 4; ++g) {
    const double v = top * g / 4.0;
    const double y = y_of(v);
    absl::StrAppend(&s,
                    Fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
                        "stroke=\"%s\"/>",
                        left, W - right, y, y, g == 0 ? "#9ca3af" : "#eef0f3"),
                    Fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
                        "fill=\"#6b7280\">%s</text>",
                        left - 6, y + 4, AxisPercent(v).c_str()));
  }
  const double slot = pw / static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) {
    const double rs = static_cast<double>(h.reference[i]) / nr;
    const double cs = static_cast<double>(h.current[i]) / nc;
    const double x0 = left + slot * static_cast<double>(i);
    std::string tip = binned ? Fmt("[%s, %s)", Tick(h.edges[i]).c_str(),
                                   Tick(h.edges[i + 1]).c_str())
                             : Esc(h.labels[i]);
    tip += Fmt(": reference %s, current %s", Percent(rs).c_str(),
               Percent(cs).c_str());
    if (binned) {
      // Overlaid bars: the shift of the distribution reads at a glance.
      const double pad = slot > 8 ? 1 : 0;
      absl::StrAppend(
          &s, "<g><title>", tip, "</title>",
          Fmt("<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
              "fill=\"#64748b\" fill-opacity=\"0.55\"/>",
              x0 + pad, y_of(rs), slot - 2 * pad, topm + ph - y_of(rs)),
          Fmt("<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
              "fill=\"#f97316\" fill-opacity=\"0.5\" stroke=\"#ea580c\" "
              "stroke-width=\"1\"/>",
              x0 + pad, y_of(cs), slot - 2 * pad, topm + ph - y_of(cs)),
          "</g>");
    } else {
      const double bw = std::min(slot * 0.36, 40.0);
      const double cx = x0 + slot / 2;
      absl::StrAppend(
          &s, "<g><title>", tip, "</title>",
          Fmt("<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
              "rx=\"2\" fill=\"#64748b\"/>",
              cx - bw - 1, y_of(rs), bw, topm + ph - y_of(rs)),
          Fmt("<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
              "rx=\"2\" fill=\"#f97316\"/>",
              cx + 1, y_of(cs), bw, topm + ph - y_of(cs)),
          "</g>");
      const std::string label = Esc(Shorten(h.labels[i], rotate ? 13 : 16));
      if (rotate) {
        absl::StrAppend(
            &s,
            Fmt("<text transform=\"translate(%.1f,%.1f) rotate(-35)\" "
                "text-anchor=\"end\" fill=\"#374151\">",
                cx + 3, topm + ph + 14),
            label, "</text>");
      } else {
        absl::StrAppend(
            &s,
            Fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "fill=\"#374151\">",
                cx, topm + ph + 16),
            label, "</text>");
      }
    }
  }
  if (binned) {
    // Round tick values (1, 2 or 5 times a power of ten) inside the range.
    const double lo = h.edges.front(), hi = h.edges.back();
    const double raw = (hi - lo) / 5;
    const double pow10 = std::pow(10.0, std::floor(std::log10(raw)));
    const double norm = raw / pow10;
    const double step = (norm < 1.5 ? 1
                         : norm < 3 ? 2
                         : norm < 7 ? 5
                                    : 10) *
                        pow10;
    for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9;
         t += step) {
      const double x = left + pw * (t - lo) / (hi - lo);
      absl::StrAppend(
          &s,
          Fmt("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" "
              "stroke=\"#9ca3af\"/>",
              x, x, topm + ph, topm + ph + 4),
          Fmt("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
              "fill=\"#374151\">%s</text>",
              x, topm + ph + 17, AxisLabel(t, step).c_str()));
    }
  }
  s += "</svg>";
  return s;
}

std::string VerdictPill(const FeatureReport& f) {
  if (!f.drift) return "<span class=\"pill none\">not tested</span>";
  return Drifted(f) ? "<span class=\"pill bad\">drift</span>"
                    : "<span class=\"pill good\">no drift</span>";
}

// "ks p-value 1.3e-14 · drift when p ≤ 0.05".
std::string TestHeadline(const stats::DriftDecision& d) {
  const std::string name(stats::DriftTestName(d.test));
  if (stats::IsPValueTest(d.test)) {
    return absl::StrCat(
        name, " test: p-value <b>", Num(d.score), "</b> &middot; drift when p ",
        d.test == stats::DriftTest::kKs ? "\u2264 " : "< ", Num(d.threshold));
  }
  return absl::StrCat(
      d.test == stats::DriftTest::kWasserstein ? "normed wasserstein" : name,
      " <b>", Num(d.score), "</b> &middot; drift when \u2265 ",
      Num(d.threshold));
}

std::string Row(const std::string& k, const std::string& v) {
  return absl::StrCat("<tr><td>", k, "</td><td class=\"num\">", v,
                      "</td></tr>");
}

std::string FeatureCard(const FeatureReport& f, size_t index) {
  const char* cls = !f.drift     ? "card untested"
                    : Drifted(f) ? "card drifted"
                                 : "card";
  std::string s = Fmt("<article class=\"%s\" id=\"f%zu\">", cls, index);
  absl::StrAppend(&s, "<h3><span class=\"name\">", Esc(f.name),
                  "</span><span class=\"badge\">",
                  A(stats::FeatureKindName(f.type)), "</span>", VerdictPill(f),
                  "</h3>");
  if (f.drift) {
    absl::StrAppend(&s, "<div class=\"headline\">", TestHeadline(*f.drift),
                    "</div>");
  } else {
    absl::StrAppend(
        &s, "<div class=\"headline note\">Not tested: ", Esc(f.note), "</div>");
  }
  absl::StrAppend(&s,
                  "<div class=\"legend\"><span><b style=\"background:#64748b\">"
                  "</b>reference</span><span><b style=\"background:#f97316\">"
                  "</b>current</span></div>",
                  HistogramSvg(f.histogram));
  std::string rows;
  rows += Row("values (ref / cur)",
              absl::StrCat(f.reference_values, " / ", f.current_values));
  rows += Row("missing in current", Percent(f.missing_ratio));
  if (f.numeric) {
    const stats::NumericDrift& n = *f.numeric;
    rows += Row("KS statistic", Num(n.ks.statistic));
    rows +=
        Row(absl::StrCat("KS p-value (",
                         n.ks.mode == stats::KsMode::kExact ? "exact" : "asymp",
                         ")"),
            Num(n.ks.p_value));
    rows += Row("PSI", Num(n.psi));
    rows += Row("Jensen\u2013Shannon", Num(n.jensen_shannon));
    rows += Row("Wasserstein", Num(n.wasserstein));
    rows += Row("Wasserstein (normed)", Num(n.wasserstein_normed));
  }
  if (f.categorical) {
    const stats::CategoricalDrift& c = *f.categorical;
    rows += Row(Fmt("chi-square (dof %d)", c.chi_square.dof),
                Num(c.chi_square.statistic));
    rows += Row("chi-square p-value", Num(c.chi_square.p_value));
    rows += Row("PSI", Num(c.psi));
    rows += Row("Jensen\u2013Shannon", Num(c.jensen_shannon));
    std::string news;
    for (size_t i = 0; i < c.new_categories.size() && i < 8; ++i) {
      absl::StrAppend(&news, i ? ", " : "",
                      Esc(Shorten(c.new_categories[i], 24)));
    }
    if (c.new_categories.size() > 8) {
      absl::StrAppend(&news, " \u2026 (", c.new_categories.size(), ")");
    }
    rows += Row("new categories", news.empty() ? "none" : news);
  }
  absl::StrAppend(&s, "<table class=\"kv\">", rows, "</table></article>");
  return s;
}

std::string QualitySection(const QualityReport& q, const Report& r) {
  std::string s = absl::StrCat(
      "<h2>Quality on the current data</h2><p class=\"note\">",
      q.task == QualityTask::kRegression ? "Regression" : "Classification",
      ": <code>", Esc(r.prediction), "</code> against <code>", Esc(r.target),
      "</code>, ", q.rows, " rows with both.</p>");
  const auto metric = [](const char* name, double v) {
    return absl::StrCat("<div class=\"tile\"><div class=\"label\">", name,
                        "</div><div class=\"value\">", Num(v), "</div></div>");
  };
  if (q.task == QualityTask::kRegression) {
    const stats::RegressionMetrics& m = q.regression;
    absl::StrAppend(&s,
                    "<div class=\"tiles\" style=\"grid-template-columns:"
                    "repeat(5,1fr)\">",
                    metric("MAE", m.mae), metric("RMSE", m.rmse),
                    metric("MSE", m.mse), metric("R\u00b2", m.r2),
                    metric("MAPE", m.mape), "</div>");
    return s;
  }
  const stats::ClassificationMetrics& m = q.classification;
  absl::StrAppend(&s, "<div class=\"tiles\">", metric("Accuracy", m.accuracy),
                  metric("F1 macro", m.f1_macro),
                  metric("Precision macro", m.precision_macro),
                  metric("Recall macro", m.recall_macro), "</div>");
  absl::StrAppend(
      &s,
      "<div class=\"panel\" style=\"margin-top:14px\"><table><tr><th>class"
      "</th><th class=\"num\">precision</th><th class=\"num\">recall</th>"
      "<th class=\"num\">F1</th><th class=\"num\">support</th></tr>");
  for (const stats::ClassMetrics& c : m.per_class) {
    const std::string label =
        static_cast<size_t>(c.class_index) < q.labels.size()
            ? q.labels[static_cast<size_t>(c.class_index)]
            : absl::StrCat(c.class_index);
    absl::StrAppend(&s, "<tr><td>", Esc(Shorten(label, 40)),
                    "</td><td class=\"num\">", Num(c.precision),
                    "</td><td class=\"num\">", Num(c.recall),
                    "</td><td class=\"num\">", Num(c.f1),
                    "</td><td class=\"num\">", c.support, "</td></tr>");
  }
  absl::StrAppend(&s, "<tr><td><b>weighted avg</b></td><td class=\"num\">",
                  Num(m.precision_weighted), "</td><td class=\"num\">",
                  Num(m.recall_weighted), "</td><td class=\"num\">",
                  Num(m.f1_weighted), "</td><td class=\"num\">", m.count,
                  "</td></tr></table></div>");
  return s;
}

}  // namespace

std::string RenderHtml(const Report& r) {
  const stats::DatasetDrift& d = r.dataset_drift;
  std::string s = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<title>Drift report: ",
      Esc(r.current), " vs ", Esc(r.reference), "</title><style>", kStyle,
      "</style></head><body>");
  absl::StrAppend(&s,
                  "<header class=\"top\"><div class=\"wrap\"><h1>Data drift "
                  "and quality report</h1><p class=\"sub\">current <code>",
                  Esc(r.current), "</code> against reference <code>",
                  Esc(r.reference),
                  "</code></p></div></header><main "
                  "class=\"wrap\">");

  const bool bad = d.detected;
  absl::StrAppend(&s, "<section class=\"verdict ", bad ? "bad" : "good",
                  "\"><div class=\"icon\">", bad ? "!" : "\u2713",
                  "</div><div><div class=\"big\">",
                  bad ? "Dataset drift detected" : "No dataset drift",
                  "</div><div class=\"detail\">", d.drifted_features, " of ",
                  d.total_features, " features drifted (", Percent(d.share),
                  "); the dataset drifts when at least ",
                  Percent(r.dataset_drift_share),
                  " of its features do.</div></div></section>");

  const double fill = std::clamp(d.share, 0.0, 1.0);
  absl::StrAppend(
      &s, "<section class=\"tiles\">",
      "<div class=\"tile\"><div class=\"label\">Reference rows</div>"
      "<div class=\"value\">",
      r.reference_rows,
      "</div></div><div class=\"tile\"><div class=\"label\">Current rows"
      "</div><div class=\"value\">",
      r.current_rows,
      "</div></div><div class=\"tile\"><div class=\"label\">Drifted "
      "features</div><div class=\"value\">",
      d.drifted_features, " / ", d.total_features,
      "</div></div><div class=\"tile\"><div class=\"label\">Drift share"
      "</div><div class=\"value\">",
      Percent(d.share), "</div>",
      Fmt("<div class=\"bar%s\"><span style=\"width:%.1f%%\"></span>"
          "<i style=\"left:%.1f%%\"></i></div>",
          bad ? "" : " good", 100 * fill,
          100 * std::clamp(r.dataset_drift_share, 0.0, 1.0)),
      "</div></section>");

  if (r.quality) absl::StrAppend(&s, QualitySection(*r.quality, r));

  // Drifted first, then the rest, each in column order.
  std::vector<size_t> order;
  for (size_t i = 0; i < r.features.size(); ++i) {
    if (Drifted(r.features[i])) order.push_back(i);
  }
  for (size_t i = 0; i < r.features.size(); ++i) {
    if (!Drifted(r.features[i])) order.push_back(i);
  }

  absl::StrAppend(
      &s,
      "<h2>Features</h2><div class=\"panel\"><table><tr><th>feature</th>"
      "<th>type</th><th>test</th><th class=\"num\">score</th>"
      "<th class=\"num\">threshold</th><th>verdict</th>"
      "<th class=\"num\">missing</th></tr>");
  for (size_t i : order) {
    const FeatureReport& f = r.features[i];
    absl::StrAppend(
        &s, Fmt("<tr><td><a href=\"#f%zu\">", i), Esc(Shorten(f.name, 48)),
        "</a></td><td>", A(stats::FeatureKindName(f.type)), "</td><td>",
        A(f.drift ? stats::DriftTestName(f.drift->test) : ""),
        "</td><td class=\"num\">", f.drift ? Num(f.drift->score) : "",
        "</td><td class=\"num\">", f.drift ? Num(f.drift->threshold) : "",
        "</td><td>", VerdictPill(f), "</td><td class=\"num\">",
        Percent(f.missing_ratio), "</td></tr>");
  }
  absl::StrAppend(&s, "</table></div><h2>Distributions</h2>",
                  "<section class=\"cards\">");
  for (size_t i : order) absl::StrAppend(&s, FeatureCard(r.features[i], i));
  absl::StrAppend(&s,
                  "</section></main><footer class=\"wrap\">Generated by "
                  "ai-quality-exporter <code>report</code>. Histograms show "
                  "each sample's share per bin; numeric bins span the central "
                  "99% of both samples, outliers fall in the end bins."
                  "</footer></body></html>\n");
  return s;
}

}  // namespace aiq::report
