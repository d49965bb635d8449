#include "tools/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/format.h"

namespace asyncwork::tools {
namespace {

// Layout in SVG user units; the legend sits right of the plot area.
constexpr double kWidth = 780;
constexpr double kHeight = 440;
constexpr double kLeft = 84;
constexpr double kRight = kWidth - 190;
constexpr double kTop = 58;
constexpr double kBottom = kHeight - 58;
constexpr int kMaxTicks = 20;
constexpr char kBoundColor[] = "#555555";

// Axis maps values to [0, 1] along one axis, linearly or in log10.
struct Axis {
  bool log = false;
  double lo = 0;  // Domain, in transformed units.
  double hi = 1;
  double zero_at = 0;  // Log axes: where 0 goes, in transformed units.
  std::vector<double> ticks;

  double Transform(double v) const {
    if (!log) return v;
    return v > 0 ? std::log10(v) : zero_at;
  }
  double Fraction(double v) const {
    return (Transform(v) - lo) / (hi - lo);
  }
};

// NiceStep rounds span/5 to 1, 2 or 5 times a power of ten.
double NiceStep(double span) {
  const double raw = span / 5;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  const double nice = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return nice * magnitude;
}

std::vector<double> Distinct(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

// PadDomain widens [lo, hi] a little so markers at the ends stay visible.
void PadDomain(Axis& axis) {
  const double span = axis.hi - axis.lo;
  const double pad = span > 0 ? span * 0.06 : 0.5;
  axis.lo -= pad;
  axis.hi += pad;
}

Axis LogAxis(const std::vector<double>& distinct, bool data_ticks) {
  Axis axis;
  axis.log = true;
  std::vector<double> positive;
  for (double v : distinct) {
    if (v > 0) positive.push_back(v);
  }
  const bool has_zero = positive.size() < distinct.size();
  if (positive.empty()) {
    axis.lo = -1;
    axis.hi = 1;
    axis.ticks = {0};
    return axis;
  }
  const double pmin = std::log10(positive.front());
  const double pmax = std::log10(positive.back());
  axis.zero_at = pmin - 1;
  if (data_ticks && distinct.size() <= kMaxDataTicks) {
    axis.lo = has_zero ? axis.zero_at : pmin;
    axis.hi = pmax;
    axis.ticks = distinct;
    PadDomain(axis);
    return axis;
  }
  axis.lo = std::floor(has_zero ? axis.zero_at : pmin);
  axis.hi = std::max(std::ceil(pmax), axis.lo + 1);
  if (has_zero) axis.ticks.push_back(0);
  const bool fine = axis.hi - axis.lo <= 2;
  for (int e = static_cast<int>(axis.lo); e <= static_cast<int>(axis.hi);
       ++e) {
    for (double m : {1.0, 2.0, 5.0}) {
      const double v = m * std::pow(10.0, e);
      // Near zero's position a tick would collide with zero's label.
      const double floor = has_zero ? axis.zero_at + 0.5 : axis.lo;
      if ((m == 1 || fine) && std::log10(v) <= axis.hi + 1e-9 &&
          std::log10(v) >= floor - 1e-9) {
        axis.ticks.push_back(v);
      }
    }
  }
  return axis;
}

Axis LinearAxis(const std::vector<double>& distinct, bool data_ticks) {
  Axis axis;
  const double vmin = std::min(0.0, distinct.front());
  const double vmax = std::max(distinct.back(), vmin + 1e-12);
  if (data_ticks && distinct.size() <= kMaxDataTicks) {
    axis.lo = distinct.front();
    axis.hi = distinct.back();
    axis.ticks = distinct;
    PadDomain(axis);
    return axis;
  }
  const double step = NiceStep(vmax - vmin);
  axis.lo = std::floor(vmin / step) * step;
  axis.hi = std::ceil(vmax / step) * step;
  for (int i = 0; i <= kMaxTicks && axis.lo + i * step <= axis.hi + step / 2;
       ++i) {
    axis.ticks.push_back(axis.lo + i * step);
  }
  return axis;
}

Axis MakeAxis(const std::vector<double>& values, const ChartAxis& spec) {
  if (values.empty()) return Axis{};
  const std::vector<double> distinct = Distinct(values);
  bool log = spec.scale == AxisScale::kLog;
  if (spec.scale == AxisScale::kAuto) {
    log = distinct.front() > 0 && distinct.back() >= 30 * distinct.front();
  }
  return log ? LogAxis(distinct, spec.data_ticks)
             : LinearAxis(distinct, spec.data_ticks);
}

double PixelX(const Axis& axis, double v) {
  return kLeft + axis.Fraction(v) * (kRight - kLeft);
}
double PixelY(const Axis& axis, double v) {
  return kBottom - axis.Fraction(v) * (kBottom - kTop);
}

std::string TickLabel(const ChartAxis& spec, double v) {
  return spec.tick_label ? spec.tick_label(v) : FormatSi(v);
}

std::string Polyline(const ChartSeries& s, const Axis& x, const Axis& y,
                     absl::string_view css_class, absl::string_view dash) {
  std::vector<ChartPoint> points = s.points;
  std::sort(points.begin(), points.end(),
            [](const ChartPoint& a, const ChartPoint& b) { return a.x < b.x; });
  std::string coords;
  for (const ChartPoint& p : points) {
    absl::StrAppendFormat(&coords, "%s%.1f,%.1f", coords.empty() ? "" : " ",
                          PixelX(x, p.x), PixelY(y, p.y));
  }
  std::string out = absl::StrFormat(
      "<polyline class=\"%s\" data-name=\"%s\" points=\"%s\" fill=\"none\" "
      "stroke=\"%s\" stroke-width=\"%s\"%s/>\n",
      css_class, HtmlEscape(s.name), coords, HtmlEscape(s.color),
      dash.empty() ? "2.2" : "1.6",
      dash.empty() ? "" : absl::StrCat(" stroke-dasharray=\"", dash, "\""));
  for (const ChartPoint& p : points) {
    absl::StrAppendFormat(
        &out,
        "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"><title>%s"
        "</title></circle>\n",
        PixelX(x, p.x), PixelY(y, p.y), dash.empty() ? "3.5" : "2.5",
        HtmlEscape(s.color), HtmlEscape(p.tooltip));
  }
  return out;
}

void AppendAxes(const LineChart& chart, const Axis& x, const Axis& y,
                std::string& out) {
  out += "<g class=\"grid\" stroke=\"#e4e4e4\" stroke-width=\"1\">\n";
  for (double t : y.ticks) {
    absl::StrAppendFormat(&out,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                          "y2=\"%.1f\"/>\n",
                          kLeft, PixelY(y, t), kRight, PixelY(y, t));
  }
  for (double t : x.ticks) {
    absl::StrAppendFormat(&out,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
                          "y2=\"%.1f\"/>\n",
                          PixelX(x, t), kTop, PixelX(x, t), kBottom);
  }
  out += "</g>\n";
  absl::StrAppendFormat(&out,
                        "<g class=\"axes\" stroke=\"#333\" stroke-width=\"1\">"
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                        "</g>\n",
                        kLeft, kBottom, kRight, kBottom, kLeft, kTop, kLeft,
                        kBottom);
  out += "<g class=\"ticks\" font-size=\"11\" fill=\"#333\">\n";
  for (double t : x.ticks) {
    absl::StrAppendFormat(
        &out,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
        "stroke=\"#333\"/><text x=\"%.1f\" y=\"%.1f\" "
        "text-anchor=\"middle\">%s</text>\n",
        PixelX(x, t), kBottom, PixelX(x, t), kBottom + 5, PixelX(x, t),
        kBottom + 18, HtmlEscape(TickLabel(chart.x, t)));
  }
  for (double t : y.ticks) {
    absl::StrAppendFormat(
        &out,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
        "stroke=\"#333\"/><text x=\"%.1f\" y=\"%.1f\" dy=\"0.35em\" "
        "text-anchor=\"end\">%s</text>\n",
        kLeft - 5, PixelY(y, t), kLeft, PixelY(y, t), kLeft - 8, PixelY(y, t),
        HtmlEscape(TickLabel(chart.y, t)));
  }
  out += "</g>\n";
  absl::StrAppendFormat(
      &out,
      "<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" font-size=\"12\" "
      "text-anchor=\"middle\">%s</text>\n"
      "<text class=\"axis-label\" transform=\"translate(%.1f %.1f) "
      "rotate(-90)\" font-size=\"12\" text-anchor=\"middle\">%s</text>\n",
      (kLeft + kRight) / 2, kBottom + 40, HtmlEscape(chart.x.label), 20.0,
      (kTop + kBottom) / 2, HtmlEscape(chart.y.label));
}

void AppendLegend(const std::vector<ChartSeries>& series,
                  const std::optional<ChartSeries>& bound, std::string& out) {
  out += "<g class=\"legend\" font-size=\"12\">\n";
  double y = kTop + 8;
  const auto entry = [&](const ChartSeries& s, absl::string_view dash) {
    absl::StrAppendFormat(
        &out,
        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
        "stroke-width=\"2.2\"%s/><text x=\"%.1f\" y=\"%.1f\" "
        "dy=\"0.35em\">%s</text>\n",
        kRight + 18, y, kRight + 44, y, HtmlEscape(s.color),
        dash.empty() ? "" : absl::StrCat(" stroke-dasharray=\"", dash, "\""),
        kRight + 52, y, HtmlEscape(s.name));
    y += 20;
  };
  for (const ChartSeries& s : series) entry(s, "");
  if (bound.has_value()) entry(*bound, "6 4");
  out += "</g>\n";
}

}  // namespace

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string RenderSvg(const LineChart& chart) {
  std::vector<double> xs, ys;
  for (const ChartSeries& s : chart.series) {
    for (const ChartPoint& p : s.points) {
      xs.push_back(p.x);
      ys.push_back(p.y);
    }
  }
  if (chart.bound.has_value()) {
    for (const ChartPoint& p : chart.bound->points) {
      xs.push_back(p.x);
      ys.push_back(p.y);
    }
  }
  std::string out = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
      "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
      "aria-label=\"%s\" font-family=\"sans-serif\">\n"
      "<rect width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n"
      "<text class=\"title\" x=\"%.1f\" y=\"24\" font-size=\"16\" "
      "font-weight=\"bold\">%s</text>\n"
      "<text class=\"subtitle\" x=\"%.1f\" y=\"43\" font-size=\"12\" "
      "fill=\"#555\">%s</text>\n",
      kWidth, kHeight, kWidth, kHeight, HtmlEscape(chart.title), kWidth,
      kHeight, kLeft, HtmlEscape(chart.title), kLeft,
      HtmlEscape(chart.subtitle));
  if (xs.empty()) {
    absl::StrAppendFormat(
        &out,
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
        "fill=\"#fafafa\" stroke=\"#ccc\"/>\n<text class=\"empty\" "
        "x=\"%.1f\" y=\"%.1f\" font-size=\"14\" text-anchor=\"middle\" "
        "fill=\"#555\">%s</text>\n</svg>\n",
        kLeft, kTop, kRight - kLeft, kBottom - kTop, (kLeft + kRight) / 2,
        (kTop + kBottom) / 2, HtmlEscape(chart.empty_message));
    return out;
  }
  const Axis x = MakeAxis(xs, chart.x);
  const Axis y = MakeAxis(ys, chart.y);
  AppendAxes(chart, x, y, out);
  for (const ChartSeries& s : chart.series) {
    out += Polyline(s, x, y, "series", "");
  }
  // The bound goes on top: strategies that reach it would hide it, and its
  // dashes leave their colours visible.
  std::optional<ChartSeries> bound = chart.bound;
  if (bound.has_value()) {
    bound->color = kBoundColor;
    out += Polyline(*bound, x, y, "bound", "6 4");
  }
  AppendLegend(chart.series, bound, out);
  out += "</svg>\n";
  return out;
}

}  // namespace asyncwork::tools
