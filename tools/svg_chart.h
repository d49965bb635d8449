// svg_chart.h: a line chart as a self-contained inline SVG element.
//
// plot draws its charts with this: axes with ticks and labels, a title, one
// polyline per series with a marker and tooltip at every point, an optional
// dashed reference line (the theoretical bound), and a legend. Nothing refers
// outside the SVG (no fonts, scripts or links), so a page embedding it stands
// alone.
//
//   LineChart chart;
//   chart.title = "Work per second vs in-flight window";
//   chart.x.label = "in-flight window";
//   chart.x.scale = AxisScale::kLog;
//   chart.series.push_back(
//       {"callback", "#0072B2", {{1, 480, "1: 480/s"}, {64, 29000, "..."}}});
//   std::string svg = RenderSvg(chart);
//
// Log axes show zero, which a log scale cannot, one decade below the
// smallest positive value, labelled "0" (an unshaped link has zero latency).
// AxisScale::kAuto is logarithmic when every value is positive and the
// largest is at least 30 times the smallest, and linear from zero otherwise.
// When an axis has at most kMaxDataTicks distinct values, its ticks sit at
// exactly those values (the configurations measured); otherwise at round
// numbers. All text is HTML-escaped.
#ifndef ASYNCWORK_TOOLS_SVG_CHART_H_
#define ASYNCWORK_TOOLS_SVG_CHART_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace asyncwork::tools {

inline constexpr int kMaxDataTicks = 10;

// HtmlEscape replaces & < > " ' with entities, for text and attribute values.
std::string HtmlEscape(absl::string_view text);

enum class AxisScale { kLinear, kLog, kAuto };

struct ChartAxis {
  std::string label;
  AxisScale scale = AxisScale::kLinear;
  // tick_label formats a tick's value; FormatSi when unset.
  std::function<std::string(double)> tick_label;
  // data_ticks: put ticks at the data's own values when there are few.
  bool data_ticks = false;
};

struct ChartPoint {
  double x = 0;
  double y = 0;
  std::string tooltip;  // Shown on hover; plain text.
};

struct ChartSeries {
  std::string name;
  std::string color;  // A CSS colour such as "#0072B2".
  std::vector<ChartPoint> points;
};

struct LineChart {
  std::string title;
  std::string subtitle;
  ChartAxis x;
  ChartAxis y;
  std::vector<ChartSeries> series;
  // bound is drawn dashed, in grey whatever its color, and is named in the
  // legend.
  std::optional<ChartSeries> bound;
  // empty_message is shown instead of lines when there is no point at all.
  std::string empty_message = "no data";
};

// RenderSvg returns one <svg> element. Each series is a
// <polyline class="series"> and the bound a <polyline class="bound">.
std::string RenderSvg(const LineChart& chart);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_SVG_CHART_H_
