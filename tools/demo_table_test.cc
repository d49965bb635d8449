#include "tools/demo_table.h"

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace asyncwork::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::vector<DemoRow> Rows() {
  return {
      {.strategy = "blocking",
       .work_per_s = 50,
       .completed = 150,
       .bound_fraction = 0.03125,
       .p99 = absl::Microseconds(20500),
       .cpu_per_request = absl::Microseconds(40)},
      {.strategy = "threaded",
       .work_per_s = 800,
       .completed = 2400,
       .bound_fraction = 0.5},
      {.strategy = "callback",
       .work_per_s = 1500,
       .completed = 4500,
       .failed = 2,
       .bound_fraction = 0.9375},
  };
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  EXPECT_EQ(lines.back(), "");  // every line ends in '\n'
  lines.pop_back();
  return lines;
}

size_t Bar(const std::string& line) {
  const size_t start = line.find('#');
  if (start == std::string::npos) return 0;
  return line.find_first_not_of('#', start) == std::string::npos
             ? line.size() - start
             : line.find_first_not_of('#', start) - start;
}

TEST(SpeedupOverBaseline, DividesByTheBaselineRow) {
  const std::vector<DemoRow> rows = Rows();
  EXPECT_EQ(SpeedupOverBaseline(rows, rows[2], "blocking"), 30.0);
  EXPECT_EQ(SpeedupOverBaseline(rows, rows[0], "blocking"), 1.0);
  EXPECT_EQ(SpeedupOverBaseline(rows, rows[2], "polling"), std::nullopt);
  std::vector<DemoRow> idle = rows;
  idle[0].work_per_s = 0;
  EXPECT_EQ(SpeedupOverBaseline(idle, idle[2], "blocking"), std::nullopt);
}

TEST(FormatDemoTable, OneAlignedLinePerStrategyWithSpeedupAndBound) {
  const std::vector<std::string> lines = Lines(FormatDemoTable(Rows()));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_THAT(lines[0], StartsWith("strategy"));
  EXPECT_THAT(lines[0], HasSubstr("vs blocking"));
  EXPECT_THAT(lines[1], StartsWith("blocking "));
  EXPECT_THAT(lines[1], HasSubstr(" 1.0x"));
  EXPECT_THAT(lines[1], HasSubstr(" 3.1%"));
  EXPECT_THAT(lines[1], HasSubstr("20.5 ms"));
  EXPECT_THAT(lines[1], HasSubstr("40 us"));
  EXPECT_THAT(lines[2], HasSubstr(" 16.0x"));
  EXPECT_THAT(lines[2], HasSubstr(" 50.0%"));
  EXPECT_THAT(lines[3], HasSubstr(" 30.0x"));
  EXPECT_THAT(lines[3], HasSubstr("1.5k"));
  EXPECT_THAT(lines[3], HasSubstr("(2 failed)"));
  // Columns line up: "vs blocking" ends where each speedup ends.
  const size_t end =
      lines[0].find("vs blocking") + std::string("vs blocking").size();
  EXPECT_EQ(lines[1].substr(end - 4, 4), "1.0x");
  EXPECT_EQ(lines[3].substr(end - 5, 5), "30.0x");
}

TEST(FormatDemoTable, BarsAreProportionalToWork) {
  const std::vector<std::string> lines = Lines(FormatDemoTable(Rows()));
  EXPECT_EQ(Bar(lines[0]), 0u);
  EXPECT_EQ(Bar(lines[3]), static_cast<size_t>(kDemoBarWidth));
  EXPECT_EQ(Bar(lines[2]), 21u);  // 800 / 1500 of 40, rounded
  // The slowest still gets a visible bar.
  EXPECT_EQ(Bar(lines[1]), 1u);
}

TEST(FormatDemoTable, UnknownValuesPrintAsDashes) {
  const std::vector<std::string> lines =
      Lines(FormatDemoTable({{.strategy = "polling", .work_per_s = 0}}));
  ASSERT_EQ(lines.size(), 2u);
  std::vector<std::string> cells =
      absl::StrSplit(lines[1], ' ', absl::SkipEmpty());
  EXPECT_THAT(cells, ElementsAre("polling", "0", "-", "-", "-", "-"));
}

TEST(FormatHeadline, ComparesTheFastestWithBlocking) {
  EXPECT_EQ(FormatHeadline(Rows()),
            "callback finished 30.0x the work of blocking in the same time, "
            "94% of what the link allows.\n");
  std::vector<DemoRow> unbounded = Rows();
  unbounded[2].bound_fraction = 0;
  EXPECT_EQ(FormatHeadline(unbounded),
            "callback finished 30.0x the work of blocking in the same "
            "time.\n");
}

TEST(FormatHeadline, EmptyWithoutBlockingOrAnOtherStrategy) {
  std::vector<DemoRow> rows = Rows();
  EXPECT_EQ(FormatHeadline({rows[0]}), "");
  EXPECT_EQ(FormatHeadline({rows[1], rows[2]}), "");
}

}  // namespace
}  // namespace asyncwork::tools
