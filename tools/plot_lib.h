// plot_lib.h: the HTML report of `tools/bazel run //tools:plot`.
//
// Turns measured configurations (result_points.h: Google Benchmark JSON from
// //benchmarks:strategies, or our native {"results": [...]}) into one
// self-contained HTML page (no scripts, fonts, style sheets or links from
// outside) with inline SVG charts (svg_chart.h):
//
//   1. work per second against the in-flight window (log x axis), one line
//      per strategy, the theoretical bound dashed; one chart for each other
//      configuration (latency, bandwidth, server, op, size) in the data;
//   2. work per second against one-way latency, likewise per in-flight
//      window;
//   3. a table of every point.
//
// Points for the same strategy and x within one chart (from several input
// files, say) are averaged; where strategies report different bounds for the
// same x, the highest is drawn. A chart with no points says so.
//
//   PlotOptions options;
//   options.title = "asyncwork on my laptop";
//   int exit_code = RunPlot({"results.json"}, "report.html", options,
//                           std::cerr);
#ifndef ASYNCWORK_TOOLS_PLOT_LIB_H_
#define ASYNCWORK_TOOLS_PLOT_LIB_H_

#include <ostream>
#include <string>
#include <vector>

#include "tools/result_points.h"

namespace asyncwork::tools {

inline constexpr int kPlotOk = 0;
inline constexpr int kPlotInputError = 1;

struct PlotOptions {
  std::string title = "asyncwork: work per second by client strategy";
  // sources are the input files' names, listed on the page.
  std::vector<std::string> sources;
};

// RenderReport returns the whole HTML page for `points`.
std::string RenderReport(const std::vector<ResultPoint>& points,
                         const PlotOptions& options);

// RunPlot loads every file in `inputs`, renders the report and writes it to
// `output`. Problems go to `err`. Returns kPlotOk, or kPlotInputError when an
// input can't be read or parsed or the output can't be written.
int RunPlot(const std::vector<std::string>& inputs, const std::string& output,
            PlotOptions options, std::ostream& err);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_PLOT_LIB_H_
