#include "tools/plot_lib.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/format.h"
#include "tools/svg_chart.h"

namespace asyncwork::tools {
namespace {

// Strategies in the order the story is told: waiting first.
constexpr absl::string_view kKnownStrategies[] = {
    "blocking", "threaded", "thread_per_request", "polling",
    "callback", "pipelined", "coroutine"};

// Okabe and Ito's palette, distinguishable with the common colour-vision
// deficiencies (its yellow left out: unreadable on white).
constexpr absl::string_view kPalette[] = {"#D55E00", "#0072B2", "#009E73",
                                          "#CC79A7", "#E69F00", "#56B4E9",
                                          "#000000"};

// StrategyOrder lists the strategies present: known ones in story order,
// then the rest alphabetically.
std::vector<std::string> StrategyOrder(const std::vector<ResultPoint>& points) {
  std::vector<std::string> names;
  for (const ResultPoint& p : points) names.push_back(p.strategy);
  const auto rank = [](const std::string& s) {
    const auto* it = std::find(std::begin(kKnownStrategies),
                               std::end(kKnownStrategies), s);
    return std::pair(it - std::begin(kKnownStrategies), s);
  };
  std::sort(names.begin(), names.end(),
            [&](const std::string& a, const std::string& b) {
              return rank(a) < rank(b);
            });
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string LatencyText(double us) {
  return us == 0 ? "0" : FormatShortDuration(FractionalMicroseconds(us));
}

std::string OptionalText(const std::optional<double>& v,
                         std::string (*format)(double)) {
  return v.has_value() ? format(*v) : "";
}

std::string BandwidthText(double kbit) { return FormatSi(kbit * 1e3, "bit/s"); }
std::string RateText(double per_s) { return FormatSi(per_s, "/s"); }
std::string CountText(double n) { return FormatSi(n); }

enum class XField { kInFlight, kLatency };

std::optional<double> XOf(const ResultPoint& p, XField field) {
  return field == XField::kInFlight ? p.in_flight : p.latency_us;
}

// The configuration a chart holds fixed: everything but the strategy and the
// x axis. Missing numbers are -1, which no real value is.
using Context = std::tuple<std::string, std::string, double, double, double>;

Context ContextOf(const ResultPoint& p, XField field) {
  const std::optional<double> other =
      field == XField::kInFlight ? p.latency_us : p.in_flight;
  return {p.server, p.op, other.value_or(-1), p.bandwidth_kbit.value_or(-1),
          p.size.value_or(-1)};
}

std::string Caption(const Context& c, XField field) {
  const auto& [server, op, other, bandwidth, size] = c;
  std::vector<std::string> parts;
  if (other >= 0) {
    parts.push_back(field == XField::kInFlight
                        ? (other == 0 ? "unshaped link (0 latency)"
                                      : "one-way latency " + LatencyText(other))
                        : "in-flight window " + CountText(other));
  }
  if (bandwidth >= 0) parts.push_back("bandwidth " + BandwidthText(bandwidth));
  if (!server.empty()) parts.push_back(server + " server");
  if (!op.empty()) parts.push_back("op " + op);
  if (size >= 0) parts.push_back(absl::StrCat(CountText(size), "-byte packets"));
  return parts.empty() ? "all results" : absl::StrJoin(parts, ", ");
}

// Average accumulates values that land on the same (strategy, x).
struct Average {
  double sum = 0;
  int count = 0;
  double Value() const { return sum / count; }
};

LineChart ChartFor(const std::vector<const ResultPoint*>& points,
                   XField field, const std::vector<std::string>& strategies,
                   std::string subtitle) {
  LineChart chart;
  chart.subtitle = std::move(subtitle);
  chart.y.label = "work packets completed per second";
  chart.y.scale = AxisScale::kAuto;
  if (field == XField::kInFlight) {
    chart.title = "Work per second vs in-flight window";
    chart.x.label = "requests in flight (log scale)";
    chart.x.tick_label = CountText;
  } else {
    chart.title = "Work per second vs one-way latency";
    chart.x.label = "one-way latency (log scale; 0 = unshaped)";
    chart.x.tick_label = LatencyText;
  }
  chart.x.scale = AxisScale::kLog;
  chart.x.data_ticks = true;
  const absl::string_view x_name =
      field == XField::kInFlight ? "in-flight" : "latency";
  const auto x_text = [&](double x) {
    return field == XField::kInFlight ? CountText(x) : LatencyText(x);
  };
  std::map<std::pair<std::string, double>, Average> work;
  std::map<double, double> bound;  // x -> highest bound reported.
  for (const ResultPoint* p : points) {
    const double x = *XOf(*p, field);
    Average& a = work[{p->strategy, x}];
    a.sum += p->work_per_s;
    ++a.count;
    if (p->bound_per_s.has_value()) {
      bound[x] = std::max(bound[x], *p->bound_per_s);
    }
  }
  for (size_t i = 0; i < strategies.size(); ++i) {
    ChartSeries series{strategies[i],
                       std::string(kPalette[i % std::size(kPalette)]),
                       {}};
    for (const auto& [key, a] : work) {
      if (key.first != strategies[i]) continue;
      const double x = key.second;
      std::string tip = absl::StrCat(strategies[i], ", ", x_name, " ",
                                     x_text(x), ": ", RateText(a.Value()));
      if (bound.count(x) > 0 && bound[x] > 0) {
        absl::StrAppendFormat(&tip, " (%.0f%% of bound)",
                              100 * a.Value() / bound[x]);
      }
      series.points.push_back({x, a.Value(), std::move(tip)});
    }
    if (!series.points.empty()) chart.series.push_back(std::move(series));
  }
  if (!bound.empty()) {
    ChartSeries line{"theoretical bound", "", {}};
    for (const auto& [x, b] : bound) {
      line.points.push_back(
          {x, b, absl::StrCat("bound at ", x_name, " ", x_text(x), ": ",
                              RateText(b))});
    }
    chart.bound = std::move(line);
  }
  return chart;
}

// ChartsAgainst draws one chart per configuration found in the data, or one
// chart saying there is nothing to draw.
std::vector<LineChart> ChartsAgainst(const std::vector<ResultPoint>& points,
                                     XField field,
                                     const std::vector<std::string>& order) {
  std::map<Context, std::vector<const ResultPoint*>> groups;
  for (const ResultPoint& p : points) {
    if (XOf(p, field).has_value()) groups[ContextOf(p, field)].push_back(&p);
  }
  std::vector<LineChart> charts;
  for (const auto& [context, members] : groups) {
    charts.push_back(ChartFor(members, field, order, Caption(context, field)));
  }
  if (charts.empty()) {
    LineChart empty = ChartFor({}, field, order, "");
    empty.empty_message = absl::StrCat(
        "no data: no result has ",
        field == XField::kInFlight ? "an in_flight" : "a latency_us",
        " value");
    charts.push_back(std::move(empty));
  }
  return charts;
}

// Column of the data table: a heading and how to print one point's cell
// ("" when the point lacks it). Columns empty for every point are left out.
struct Column {
  absl::string_view heading;
  std::string (*cell)(const ResultPoint&);
};

std::string PercentOfBound(const ResultPoint& p) {
  if (!p.bound_per_s.has_value() || *p.bound_per_s <= 0) return "";
  return absl::StrFormat("%.0f%%", 100 * p.work_per_s / *p.bound_per_s);
}

std::string LatencyUsText(double us) {
  return FormatShortDuration(FractionalMicroseconds(us));
}

constexpr Column kColumns[] = {
    {"strategy", [](const ResultPoint& p) { return p.strategy; }},
    {"server", [](const ResultPoint& p) { return p.server; }},
    {"op", [](const ResultPoint& p) { return p.op; }},
    {"size (bytes)",
     [](const ResultPoint& p) { return OptionalText(p.size, CountText); }},
    {"one-way latency",
     [](const ResultPoint& p) { return OptionalText(p.latency_us, LatencyText); }},
    {"bandwidth",
     [](const ResultPoint& p) {
       return OptionalText(p.bandwidth_kbit, BandwidthText);
     }},
    {"in flight",
     [](const ResultPoint& p) { return OptionalText(p.in_flight, CountText); }},
    {"work per second",
     [](const ResultPoint& p) { return RateText(p.work_per_s); }},
    {"bound per second",
     [](const ResultPoint& p) { return OptionalText(p.bound_per_s, RateText); }},
    {"of bound", PercentOfBound},
    {"p50 latency",
     [](const ResultPoint& p) { return OptionalText(p.p50_us, LatencyUsText); }},
    {"p99 latency",
     [](const ResultPoint& p) { return OptionalText(p.p99_us, LatencyUsText); }},
};

std::string DataTable(std::vector<ResultPoint> points,
                      const std::vector<std::string>& order) {
  const auto rank = [&](const ResultPoint& p) {
    return std::make_tuple(
        std::find(order.begin(), order.end(), p.strategy) - order.begin(),
        p.server, p.op, p.size.value_or(-1), p.bandwidth_kbit.value_or(-1),
        p.latency_us.value_or(-1), p.in_flight.value_or(-1));
  };
  std::stable_sort(points.begin(), points.end(),
                   [&](const ResultPoint& a, const ResultPoint& b) {
                     return rank(a) < rank(b);
                   });
  std::vector<const Column*> columns;
  for (const Column& c : kColumns) {
    for (const ResultPoint& p : points) {
      if (!c.cell(p).empty()) {
        columns.push_back(&c);
        break;
      }
    }
  }
  std::string out = "<table>\n<thead><tr>";
  for (const Column* c : columns) {
    absl::StrAppend(&out, "<th>", HtmlEscape(c->heading), "</th>");
  }
  out += "</tr></thead>\n<tbody>\n";
  for (const ResultPoint& p : points) {
    out += "<tr>";
    for (const Column* c : columns) {
      absl::StrAppend(&out, "<td>", HtmlEscape(c->cell(p)), "</td>");
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
  return out;
}

constexpr char kStyle[] = R"(
body { font-family: sans-serif; color: #222; margin: 24px; max-width: 1120px; }
h1 { font-size: 22px; margin-bottom: 4px; }
h2 { font-size: 17px; margin-top: 28px; }
p { line-height: 1.45; max-width: 820px; }
figure { margin: 12px 0; }
svg { border: 1px solid #ddd; max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 13px; }
th, td { padding: 3px 9px; border-bottom: 1px solid #e2e2e2; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
)";

}  // namespace

std::string RenderReport(const std::vector<ResultPoint>& points,
                         const PlotOptions& options) {
  const std::vector<std::string> order = StrategyOrder(points);
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>",
      HtmlEscape(options.title), "</title>\n<style>", kStyle,
      "</style>\n</head>\n<body>\n<h1>", HtmlEscape(options.title), "</h1>\n");
  std::vector<std::string> sources;
  for (const std::string& s : options.sources) sources.push_back(HtmlEscape(s));
  std::vector<std::string> names;
  for (const std::string& s : order) names.push_back(HtmlEscape(s));
  absl::StrAppend(
      &out, "<p class=\"summary\">", points.size(), " results",
      sources.empty() ? "" : absl::StrCat(" from ", absl::StrJoin(sources, ", ")),
      names.empty() ? ""
                    : absl::StrCat("; strategies: ", absl::StrJoin(names, ", ")),
      ".</p>\n",
      "<p>Each line is one client strategy; higher is more work done. The "
      "dashed grey line is the theoretical bound: the most work the link "
      "allows at that point, min(in-flight / round-trip time, bandwidth / "
      "bytes per request, the server's own limit). A strategy that keeps more "
      "requests in flight climbs with the window until it meets the bound; a "
      "blocking client stays flat, waiting out every round trip. Hover a "
      "point for its value.</p>\n");
  const struct {
    XField field;
    absl::string_view heading;
  } sections[] = {{XField::kInFlight, "Work per second against the in-flight "
                                      "window"},
                  {XField::kLatency, "Work per second against one-way "
                                     "latency"}};
  for (const auto& section : sections) {
    absl::StrAppend(&out, "<h2>", HtmlEscape(section.heading), "</h2>\n");
    for (const LineChart& chart : ChartsAgainst(points, section.field, order)) {
      absl::StrAppend(&out, "<figure>\n", RenderSvg(chart), "</figure>\n");
    }
  }
  absl::StrAppend(&out, "<h2>Data</h2>\n",
                  points.empty() ? "<p>No results.</p>\n"
                                 : DataTable(points, order),
                  "</body>\n</html>\n");
  return out;
}

int RunPlot(const std::vector<std::string>& inputs, const std::string& output,
            PlotOptions options, std::ostream& err) {
  std::vector<ResultPoint> points;
  for (const std::string& path : inputs) {
    int skipped = 0;
    absl::StatusOr<std::vector<ResultPoint>> loaded =
        LoadResultPoints(path, &skipped);
    if (!loaded.ok()) {
      err << "plot: " << loaded.status().message() << "\n";
      return kPlotInputError;
    }
    if (skipped > 0) {
      err << "plot: " << path << ": skipped " << skipped
          << " benchmarks without strategy: in the name or items_per_second\n";
    }
    points.insert(points.end(), loaded->begin(), loaded->end());
    options.sources.push_back(path);
  }
  if (points.empty()) {
    err << "plot: warning: no results to plot; the charts will say so\n";
  }
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  if (out) out << RenderReport(points, options);
  out.close();
  if (!out) {
    err << "plot: " << absl::ErrnoToStatus(errno, output).message() << "\n";
    return kPlotInputError;
  }
  return kPlotOk;
}

}  // namespace asyncwork::tools
