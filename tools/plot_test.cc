#include "tools/plot_lib.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/test_util.h"
#include "tools/result_points.h"

namespace asyncwork::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kStrategies[] = "tools/testdata/strategies.json";

std::vector<ResultPoint> FixturePoints() {
  absl::StatusOr<std::vector<ResultPoint>> points =
      LoadResultPoints(kStrategies);
  EXPECT_TRUE(points.ok()) << points.status();
  return points.ok() ? *points : std::vector<ResultPoint>{};
}

// Svgs splits the page into its <svg> elements.
std::vector<std::string> Svgs(const std::string& html) {
  std::vector<std::string> out;
  for (size_t at = html.find("<svg "); at != std::string::npos;
       at = html.find("<svg ", at + 1)) {
    out.push_back(html.substr(at, html.find("</svg>", at) + 6 - at));
  }
  return out;
}

// AttributeValues collects attribute `name` of every element starting with
// `element_prefix`.
std::vector<std::string> AttributeValues(const std::string& svg,
                                         const std::string& element_prefix,
                                         absl::string_view name) {
  std::vector<std::string> out;
  const std::string key = absl::StrCat(" ", name, "=\"");
  for (size_t at = svg.find(element_prefix); at != std::string::npos;
       at = svg.find(element_prefix, at + 1)) {
    const size_t begin = svg.find(key, at) + key.size();
    out.push_back(svg.substr(begin, svg.find('"', begin) - begin));
  }
  return out;
}

// ExpectWellFormed checks that tags nest and close, and that every '<' and
// '&' in text is markup or an entity: what an HTML parser needs to read the
// page as written.
void ExpectWellFormed(const std::string& html) {
  std::vector<std::string> open;
  for (size_t i = 0; i < html.size(); ++i) {
    if (html[i] == '&') {
      const size_t semi = html.find(';', i);
      ASSERT_NE(semi, std::string::npos) << "bare & at " << i;
      const std::string entity = html.substr(i, semi - i + 1);
      EXPECT_TRUE(entity == "&amp;" || entity == "&lt;" || entity == "&gt;" ||
                  entity == "&quot;" || entity == "&#39;")
          << "entity " << entity << " at " << i;
      continue;
    }
    if (html[i] != '<') continue;
    const size_t close = html.find('>', i);
    ASSERT_NE(close, std::string::npos) << "unclosed tag at " << i;
    const std::string tag = html.substr(i + 1, close - i - 1);
    i = close;
    if (tag[0] == '!') continue;  // <!DOCTYPE html>
    const bool closing = tag[0] == '/';
    std::string name = tag.substr(closing ? 1 : 0);
    name = name.substr(0, name.find_first_of(" \n/"));
    ASSERT_FALSE(name.empty()) << "raw '<' in text before " << close;
    ASSERT_TRUE(absl::ascii_isalpha(name[0])) << "raw '<' before " << close;
    if (closing) {
      ASSERT_FALSE(open.empty()) << "stray </" << name << ">";
      ASSERT_EQ(open.back(), name) << "</" << name << "> closes <"
                                   << open.back() << ">";
      open.pop_back();
    } else if (tag.back() != '/' && name != "meta") {
      open.push_back(name);
    }
  }
  EXPECT_TRUE(open.empty()) << "unclosed <" << open.back() << ">";
}

TEST(RenderReport, DrawsAChartPerConfigurationWithALinePerStrategy) {
  const std::vector<ResultPoint> points = FixturePoints();
  ASSERT_EQ(points.size(), 60u);
  const std::string html = RenderReport(points, PlotOptions{});
  ExpectWellFormed(html);
  const std::vector<std::string> svgs = Svgs(html);
  // 3 latencies -> 3 charts against the window; 5 windows -> 5 against
  // latency. One <svg> per chart, each in its own figure.
  ASSERT_EQ(svgs.size(), 8u);
  EXPECT_EQ(CountOccurrences(html, "<figure>"), 8);
  EXPECT_EQ(CountOccurrences(html, "</svg>"), 8);
  const std::set<std::string> strategies = {"blocking", "threaded", "callback",
                                            "pipelined"};
  for (size_t i = 0; i < svgs.size(); ++i) {
    const std::vector<std::string> names =
        AttributeValues(svgs[i], "<polyline class=\"series\"", "data-name");
    EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), strategies)
        << "chart " << i;
    EXPECT_EQ(names.size(), 4u);
    EXPECT_EQ(CountOccurrences(svgs[i], "<polyline class=\"bound\""), 1) << "chart " << i;
    EXPECT_THAT(svgs[i], HasSubstr(">theoretical bound</text>"));
    // Every series has a point per x value: 5 windows or 3 latencies.
    for (const std::string& coords :
         AttributeValues(svgs[i], "<polyline class=\"series\"", "points")) {
      EXPECT_EQ(CountOccurrences(coords, ",") , i < 3 ? 5 : 3) << coords;
    }
  }
  EXPECT_THAT(svgs[0], HasSubstr("Work per second vs in-flight window"));
  EXPECT_THAT(svgs[0], HasSubstr("unshaped link (0 latency)"));
  EXPECT_THAT(svgs[1], HasSubstr("one-way latency 1 ms"));
  EXPECT_THAT(svgs[3], HasSubstr("Work per second vs one-way latency"));
  EXPECT_THAT(svgs[3], HasSubstr("in-flight window 1,"));
}

TEST(RenderReport, GivesEachStrategyOneColourEverywhere) {
  const std::string html = RenderReport(FixturePoints(), PlotOptions{});
  std::map<std::string, std::set<std::string>> colours;
  for (const std::string& svg : Svgs(html)) {
    const std::vector<std::string> names =
        AttributeValues(svg, "<polyline class=\"series\"", "data-name");
    const std::vector<std::string> strokes =
        AttributeValues(svg, "<polyline class=\"series\"", "stroke");
    ASSERT_EQ(names.size(), strokes.size());
    for (size_t i = 0; i < names.size(); ++i) {
      colours[names[i]].insert(strokes[i]);
    }
  }
  std::set<std::string> distinct;
  for (const auto& [name, set] : colours) {
    EXPECT_EQ(set.size(), 1u) << name;
    distinct.insert(*set.begin());
  }
  EXPECT_EQ(distinct.size(), colours.size());
}

TEST(RenderReport, IsSelfContained) {
  std::string html = RenderReport(FixturePoints(), PlotOptions{});
  const int svgs = CountOccurrences(html, "<svg ");
  EXPECT_EQ(absl::StrReplaceAll(
                {{"xmlns=\"http://www.w3.org/2000/svg\"", ""}}, &html),
            svgs);
  for (const char* outside : {"http", "<script", "<link", "<img", "src=",
                              "href=", "url(", "@import", "@font-face"}) {
    EXPECT_THAT(html, Not(HasSubstr(outside)));
  }
}

TEST(RenderReport, EscapesTitleAndNamesEverywhere) {
  ResultPoint p;
  p.strategy = "<img src=x onerror=alert(1)>";
  p.server = "a&b";
  p.in_flight = 4;
  p.latency_us = 1000;
  p.work_per_s = 1000;
  PlotOptions options;
  options.title = "Tom & Jerry's <report>";
  options.sources = {"\"quoted\".json"};
  const std::string html = RenderReport({p}, options);
  ExpectWellFormed(html);
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, Not(HasSubstr("<report>")));
  EXPECT_THAT(html, HasSubstr("<title>Tom &amp; Jerry&#39;s &lt;report&gt;"
                              "</title>"));
  EXPECT_THAT(html, HasSubstr("<h1>Tom &amp; Jerry&#39;s &lt;report&gt;</h1>"));
  EXPECT_THAT(html, HasSubstr("<td>&lt;img src=x onerror=alert(1)&gt;</td>"));
  EXPECT_THAT(html, HasSubstr("data-name=\"&lt;img src=x onerror=alert(1)"
                              "&gt;\""));
  EXPECT_THAT(html, HasSubstr("a&amp;b server"));
  EXPECT_THAT(html, HasSubstr("&quot;quoted&quot;.json"));
}

TEST(RenderReport, SaysSoWhenAChartHasNoData) {
  // Latency but no window: the window chart is empty, the latency one not.
  ResultPoint a;
  a.strategy = "blocking";
  a.latency_us = 1000;
  a.work_per_s = 480;
  ResultPoint b = a;
  b.latency_us = 10000;
  b.work_per_s = 49;
  const std::string html = RenderReport({a, b}, PlotOptions{});
  ExpectWellFormed(html);
  const std::vector<std::string> svgs = Svgs(html);
  ASSERT_EQ(svgs.size(), 2u);
  EXPECT_THAT(svgs[0], HasSubstr("class=\"empty\""));
  EXPECT_THAT(svgs[0], HasSubstr("no data: no result has an in_flight value"));
  EXPECT_EQ(CountOccurrences(svgs[1], "<polyline class=\"series\""), 1);
  EXPECT_EQ(CountOccurrences(svgs[1], "<polyline class=\"bound\""), 0);  // None given.
  // No columns for what nobody measured.
  EXPECT_THAT(html, Not(HasSubstr("<th>in flight</th>")));
  EXPECT_THAT(html, Not(HasSubstr("<th>p99 latency</th>")));

  const std::string empty = RenderReport({}, PlotOptions{});
  ExpectWellFormed(empty);
  EXPECT_EQ(CountOccurrences(empty, "class=\"empty\""), 2);
  EXPECT_THAT(empty, HasSubstr("<p>No results.</p>"));
}

TEST(RenderReport, TabulatesEveryPoint) {
  const std::vector<ResultPoint> points = FixturePoints();
  const std::string html = RenderReport(points, PlotOptions{});
  const size_t body = html.find("<tbody>");
  ASSERT_NE(body, std::string::npos);
  EXPECT_EQ(CountOccurrences(html.substr(body), "<tr>"), 60);
  EXPECT_THAT(html, HasSubstr("<th>of bound</th>"));
  EXPECT_THAT(html, Not(HasSubstr("<th>bandwidth</th>")));
  // Story order: the blocking rows come first.
  EXPECT_EQ(html.find("<tr><td>blocking</td>", body),
            html.find("<tr><td>", body));
}

TEST(RunPlot, WritesTheReportFromSeveralInputs) {
  const std::string native = TestTempPath("native.json");
  std::ofstream(native) << R"({"results": [{"strategy": "coroutine",
      "latency_us": 1000, "in_flight": 16, "work_per_s": 7000,
      "bound_per_s": 7800}]})";
  const std::string output = TestTempPath("report.html");
  std::ostringstream err;
  ASSERT_EQ(RunPlot({kStrategies, native}, output, PlotOptions{}, err), kPlotOk)
      << err.str();
  std::ifstream in(output);
  std::stringstream html;
  html << in.rdbuf();
  EXPECT_THAT(html.str(), HasSubstr("61 results from " +
                                    std::string(kStrategies) + ", " + native));
  EXPECT_THAT(html.str(), HasSubstr("data-name=\"coroutine\""));
  EXPECT_EQ(err.str(), "");
}

TEST(RunPlot, ReportsUnreadableInputsAndUnwritableOutput) {
  std::ostringstream err;
  EXPECT_EQ(RunPlot({"tools/testdata/none.json"}, TestTempPath("r.html"),
                    PlotOptions{}, err),
            kPlotInputError);
  EXPECT_THAT(err.str(), HasSubstr("tools/testdata/none.json"));
  std::ostringstream err2;
  EXPECT_EQ(RunPlot({kStrategies}, TestTempPath("no/such/dir/r.html"),
                    PlotOptions{}, err2),
            kPlotInputError);
  EXPECT_THAT(err2.str(), HasSubstr("no/such/dir/r.html"));
  std::ostringstream err3;
  EXPECT_EQ(RunPlot({"tools/testdata/bench_base.json"}, TestTempPath("b.html"),
                    PlotOptions{}, err3),
            kPlotOk);
  EXPECT_THAT(err3.str(), HasSubstr("skipped 1 benchmarks"));  // BM_Hash.
}

}  // namespace
}  // namespace asyncwork::tools
