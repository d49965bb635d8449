#include "tools/svg_chart.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/test_util.h"

namespace asyncwork::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// TickLabels returns the texts of the tick labels in document order, x axis
// first.
std::vector<std::string> TickLabels(const std::string& svg) {
  std::vector<std::string> labels;
  const size_t start = svg.find("<g class=\"ticks\"");
  const size_t end = svg.find("</g>", start);
  for (size_t at = svg.find("\">", svg.find("<text", start));
       at < end && at != std::string::npos;) {
    const size_t close = svg.find("</text>", at);
    labels.push_back(svg.substr(at + 2, close - at - 2));
    const size_t next = svg.find("<text", close);
    if (next >= end) break;
    at = svg.find("\">", next);
  }
  return labels;
}

// PolylinePoints returns the coordinates of the first polyline of `cls`.
std::vector<std::pair<double, double>> PolylinePoints(const std::string& svg,
                                                      absl::string_view cls) {
  std::vector<std::pair<double, double>> out;
  const size_t at = svg.find(absl::StrCat("<polyline class=\"", cls, "\""));
  if (at == std::string::npos) return out;
  const size_t begin = svg.find("points=\"", at) + 8;
  const std::string coords = svg.substr(begin, svg.find('"', begin) - begin);
  for (absl::string_view pair : absl::StrSplit(coords, ' ')) {
    const std::vector<absl::string_view> xy = absl::StrSplit(pair, ',');
    double x = 0, y = 0;
    EXPECT_TRUE(absl::SimpleAtod(xy[0], &x) && absl::SimpleAtod(xy[1], &y));
    out.emplace_back(x, y);
  }
  return out;
}

LineChart TwoSeries() {
  LineChart chart;
  chart.title = "Work";
  chart.subtitle = "latency 1 ms";
  chart.x.label = "in flight";
  chart.x.scale = AxisScale::kLog;
  chart.x.data_ticks = true;
  chart.y.label = "work per second";
  chart.y.scale = AxisScale::kAuto;
  chart.series.push_back({"blocking", "#D55E00", {{64, 480, "b64"},
                                                  {1, 470, "b1"},
                                                  {16, 475, "b16"}}});
  chart.series.push_back({"callback", "#0072B2", {{1, 470, "c1"},
                                                  {16, 7500, "c16"},
                                                  {64, 29000, "c64"}}});
  chart.bound = ChartSeries{"theoretical bound", "red", {{1, 490, "x"},
                                                         {16, 7800, "y"},
                                                         {64, 31000, "z"}}};
  return chart;
}

TEST(RenderSvg, DrawsOneLinePerSeriesAndTheBoundDashed) {
  const std::string svg = RenderSvg(TwoSeries());
  EXPECT_EQ(CountOccurrences(svg, "<svg "), 1);
  EXPECT_EQ(CountOccurrences(svg, "</svg>"), 1);
  EXPECT_EQ(CountOccurrences(svg, "<polyline class=\"series\""), 2);
  EXPECT_EQ(CountOccurrences(svg, "<polyline class=\"bound\""), 1);
  EXPECT_THAT(svg, HasSubstr("data-name=\"blocking\""));
  EXPECT_THAT(svg, HasSubstr("stroke=\"#0072B2\""));
  EXPECT_THAT(svg, HasSubstr("stroke-dasharray=\"6 4\""));
  // The bound is grey whatever colour it was given.
  EXPECT_THAT(svg, Not(HasSubstr("\"red\"")));
  EXPECT_EQ(CountOccurrences(svg, "<circle"), 9);
  EXPECT_THAT(svg, HasSubstr("<title>c64</title>"));
  // Legend: every series and the bound.
  const size_t legend = svg.find("class=\"legend\"");
  ASSERT_NE(legend, std::string::npos);
  EXPECT_NE(svg.find(">callback</text>", legend), std::string::npos);
  EXPECT_NE(svg.find(">theoretical bound</text>", legend), std::string::npos);
}

TEST(RenderSvg, SortsPointsAlongXAndPutsLargerValuesHigher) {
  const std::vector<std::pair<double, double>> blocking =
      PolylinePoints(RenderSvg(TwoSeries()), "series");
  ASSERT_EQ(blocking.size(), 3u);
  EXPECT_LT(blocking[0].first, blocking[1].first);
  EXPECT_LT(blocking[1].first, blocking[2].first);
  // Log x: 1, 16, 64 -> equal steps for equal ratios (16 = 4 * 4, 64 = 16 * 4
  // would be equal; here 1->16 is twice the distance of 16->64).
  EXPECT_NEAR(blocking[1].first - blocking[0].first,
              2 * (blocking[2].first - blocking[1].first), 0.2);
  // SVG y grows downwards: 480 (x=64) sits above 470 (x=1).
  EXPECT_LT(blocking[2].second, blocking[0].second);
}

TEST(RenderSvg, TicksAtDataValuesOnXAndDecadesOnAWideLogY) {
  const std::vector<std::string> labels = TickLabels(RenderSvg(TwoSeries()));
  // x: the three measured windows; y: 100 .. 100k in decades, since the
  // values span 470 .. 31000 (more than 30x).
  EXPECT_EQ(labels, (std::vector<std::string>{"1", "16", "64", "100", "1k",
                                              "10k", "100k"}));
}

TEST(RenderSvg, LinearYFromZeroWhenTheRangeIsNarrow) {
  LineChart chart = TwoSeries();
  chart.series.resize(1);  // Blocking only, and a flat bound: 470 .. 500.
  chart.bound->points = {{1, 490, ""}, {16, 495, ""}, {64, 500, ""}};
  const std::vector<std::string> labels = TickLabels(RenderSvg(chart));
  ASSERT_GE(labels.size(), 5u);
  EXPECT_EQ(labels[3], "0");
  EXPECT_EQ(labels.back(), "500");
}

TEST(RenderSvg, ShowsZeroOnALogAxisBelowTheSmallestValue) {
  LineChart chart;
  chart.x.scale = AxisScale::kLog;
  chart.x.data_ticks = true;
  chart.x.tick_label = [](double v) {
    return v == 0 ? std::string("zero") : absl::StrCat(v);
  };
  chart.series.push_back({"s", "#000", {{0, 10, ""}, {1000, 5, ""},
                                        {10000, 1, ""}}});
  const std::string svg = RenderSvg(chart);
  const std::vector<std::pair<double, double>> p = PolylinePoints(svg, "series");
  ASSERT_EQ(p.size(), 3u);
  // 0 sits one decade left of 1000: the same distance as 1000 -> 10000.
  EXPECT_NEAR(p[1].first - p[0].first, p[2].first - p[1].first, 0.2);
  EXPECT_EQ(TickLabels(svg)[0], "zero");
}

TEST(RenderSvg, SaysSoWhenThereIsNoData) {
  LineChart chart;
  chart.title = "Empty";
  chart.empty_message = "no data: nothing measured";
  const std::string svg = RenderSvg(chart);
  EXPECT_THAT(svg, HasSubstr("class=\"empty\""));
  EXPECT_THAT(svg, HasSubstr("no data: nothing measured"));
  EXPECT_EQ(CountOccurrences(svg, "<polyline"), 0);
  EXPECT_EQ(CountOccurrences(svg, "</svg>"), 1);
}

TEST(RenderSvg, EscapesEveryText) {
  LineChart chart = TwoSeries();
  chart.title = "<script>alert('x')</script>";
  chart.subtitle = "a & b";
  chart.x.label = "\"x\"";
  chart.series[0].name = "<b>";
  chart.series[0].points[0].tooltip = "</title><svg>";
  const std::string svg = RenderSvg(chart);
  EXPECT_THAT(svg, Not(HasSubstr("<script")));
  EXPECT_THAT(svg, Not(HasSubstr("<b>")));
  EXPECT_THAT(svg, Not(HasSubstr("</title><svg>")));
  EXPECT_THAT(svg, HasSubstr("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
  EXPECT_THAT(svg, HasSubstr("a &amp; b"));
  EXPECT_THAT(svg, HasSubstr("&quot;x&quot;"));
  EXPECT_THAT(svg, HasSubstr("data-name=\"&lt;b&gt;\""));
}

TEST(HtmlEscape, ReplacesTheFiveSpecialCharacters) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(HtmlEscape("plain \xc3\xa9"), "plain \xc3\xa9");
}

}  // namespace
}  // namespace asyncwork::tools
