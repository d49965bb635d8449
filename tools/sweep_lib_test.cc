#include "tools/sweep_lib.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/json.h"
#include "tools/result_points.h"

namespace asyncwork::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

SweepGrid SmallGrid() {
  SweepGrid grid;
  grid.strategies = {"blocking", "callback"};
  grid.latencies = {absl::ZeroDuration(), absl::Milliseconds(5)};
  grid.in_flights = {1, 16};
  grid.costs = {0};
  grid.op = framing::Op::kEcho;
  return grid;
}

// FakeCell models the two strategies: blocking does one request per round
// trip whatever the window; callback does `window` per round trip. Unshaped,
// blocking is faster (it has less to do per request).
absl::StatusOr<SweepCell> FakeCell(const CellSpec& spec) {
  const double rtt_s = 2 * absl::ToDoubleSeconds(spec.latency) + 100e-6;
  SweepCell cell;
  cell.result.work_per_s = spec.strategy == "blocking"
                               ? 1.5 / rtt_s
                               : static_cast<double>(spec.in_flight) / rtt_s;
  cell.result.work_per_cpu_s = spec.strategy == "blocking" ? 50000 : 80000;
  cell.result.bound_per_s =
      spec.latency > absl::ZeroDuration()
          ? spec.in_flight / (2 * absl::ToDoubleSeconds(spec.latency))
          : 0;
  cell.result.completed = 100;
  cell.result.p50 = absl::Microseconds(rtt_s * 1e6);
  cell.result.p99 = 2 * cell.result.p50;
  return cell;
}

std::vector<SweepCell> RunFake(const SweepGrid& grid) {
  std::vector<SweepCell> cells;
  EXPECT_TRUE(RunSweep(grid, FakeCell, nullptr, &cells).ok());
  return cells;
}

TEST(RunSweep, MeasuresEveryCellInOrderAndReportsProgress) {
  SweepGrid grid = SmallGrid();
  grid.costs = {0, 10};
  std::vector<std::string> seen;
  std::vector<SweepCell> cells;
  size_t last_total = 0;
  ASSERT_TRUE(RunSweep(
                  grid, FakeCell,
                  [&](size_t index, size_t total, const SweepCell& cell) {
                    EXPECT_EQ(index, seen.size());
                    last_total = total;
                    seen.push_back(absl::StrCat(
                        cell.spec.cost, "/",
                        absl::ToInt64Milliseconds(cell.spec.latency), "/",
                        cell.spec.in_flight, "/", cell.spec.strategy));
                  },
                  &cells)
                  .ok());
  EXPECT_EQ(CellCount(grid), 16u);
  EXPECT_EQ(last_total, 16u);
  ASSERT_THAT(cells, SizeIs(16));
  EXPECT_EQ(seen.front(), "0/0/1/blocking");
  EXPECT_EQ(seen[1], "0/0/1/callback");
  EXPECT_EQ(seen[2], "0/0/16/blocking");
  EXPECT_EQ(seen[4], "0/5/1/blocking");
  EXPECT_EQ(seen.back(), "10/5/16/callback");
}

TEST(RunSweep, StopsAtTheFirstErrorNamingTheCell) {
  std::vector<SweepCell> cells;
  int calls = 0;
  const absl::Status status = RunSweep(
      SmallGrid(),
      [&](const CellSpec& spec) -> absl::StatusOr<SweepCell> {
        if (++calls == 3) return absl::UnavailableError("connect: refused");
        return FakeCell(spec);
      },
      nullptr, &cells);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(),
            "blocking at latency 0, window 16, cost 0: connect: refused");
  EXPECT_THAT(cells, SizeIs(2));
  EXPECT_EQ(calls, 3);
}

TEST(FormatSweepReport, TablesMarkTheBestAndListCrossovers) {
  const SweepGrid grid = SmallGrid();
  const std::string report = FormatSweepReport(grid, RunFake(grid));
  EXPECT_THAT(report, HasSubstr("op echo"));
  EXPECT_THAT(report, HasSubstr("work per second"));
  EXPECT_THAT(report, HasSubstr("work per CPU-second"));
  // At 5 ms and window 16: blocking 1.5 / 10.1 ms = 148.5/s, callback
  // 1584/s, the best.
  EXPECT_THAT(report, HasSubstr("5 ms      16    148.5    1.584k*\n"));
  // Along the window axis callback pulls ahead of blocking at both
  // latencies.
  EXPECT_THAT(report, HasSubstr("window 1 -> 16 (latency 0, cost 0): blocking "
                                "falls behind callback (0.67x -> 11x)\n"));
  EXPECT_THAT(report, HasSubstr("window 1 -> 16 (latency 5 ms, cost 0): "
                                "blocking falls behind callback"));
  EXPECT_THAT(report, Not(HasSubstr("callback falls behind")));
  EXPECT_THAT(report, HasSubstr("callback   80k work per CPU-second"));
}

TEST(FormatSweepReport, SaysSoWhenNothingCrosses) {
  SweepGrid grid = SmallGrid();
  grid.in_flights = {16};
  EXPECT_THAT(FormatSweepReport(grid, RunFake(grid)),
              HasSubstr("(rates within 25% tie):\n  nowhere\n"));
}

TEST(FormatSweepJson, WritesTheNativeFormatPlotReads) {
  SweepGrid grid = SmallGrid();
  grid.bandwidth = sim::Bandwidth::BitsPerSecond(10'000'000);
  const std::vector<SweepCell> cells = RunFake(grid);
  absl::StatusOr<JsonValue> doc = ParseJson(FormatSweepJson(grid, cells));
  ASSERT_TRUE(doc.ok()) << doc.status();
  absl::StatusOr<std::vector<ResultPoint>> points = ParseResultPoints(*doc);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_THAT(*points, SizeIs(cells.size()));
  const ResultPoint& last = points->back();
  EXPECT_EQ(last.strategy, "callback");
  EXPECT_EQ(last.server, "epoll");
  EXPECT_EQ(last.op, "echo");
  EXPECT_EQ(last.latency_us, 5000);
  EXPECT_EQ(last.in_flight, 16);
  EXPECT_EQ(last.size, 64);
  EXPECT_EQ(last.bandwidth_kbit, 10000);
  EXPECT_DOUBLE_EQ(last.work_per_s, cells.back().result.work_per_s);
  EXPECT_DOUBLE_EQ(*last.bound_per_s, 1600);
  // Unshaped cells have no bound, so none is written.
  EXPECT_FALSE(points->front().bound_per_s.has_value());
}

TEST(FormatSweepJson, SeveralCostsGoInTheOpSoPlotKeepsThemApart) {
  SweepGrid grid = SmallGrid();
  grid.op = framing::Op::kSleep;
  grid.costs = {0, 1000};
  absl::StatusOr<JsonValue> doc =
      ParseJson(FormatSweepJson(grid, RunFake(grid)));
  ASSERT_TRUE(doc.ok()) << doc.status();
  absl::StatusOr<std::vector<ResultPoint>> points = ParseResultPoints(*doc);
  ASSERT_TRUE(points.ok()) << points.status();
  EXPECT_EQ(points->front().op, "sleep arg 0");
  EXPECT_EQ(points->back().op, "sleep arg 1000");
}

TEST(ParseLatencyList, ReadsUnitsAndNamesTheFlagOnError) {
  absl::StatusOr<std::vector<absl::Duration>> list =
      ParseLatencyList("latencies", "0,250us,10ms");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(*list, ElementsAre(absl::ZeroDuration(), absl::Microseconds(250),
                                 absl::Milliseconds(10)));
  EXPECT_THAT(ParseLatencyList("latencies", "1ms,5").status().message(),
              HasSubstr("--latencies=5"));
  EXPECT_THAT(ParseLatencyList("latencies", "").status().message(),
              HasSubstr("at least one"));
}

TEST(ParseIntList, ChecksEachElementsRange) {
  absl::StatusOr<std::vector<int64_t>> list =
      ParseIntList("windows", "1,8,64", 1, 1000);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(*list, ElementsAre(1, 8, 64));
  EXPECT_EQ(ParseIntList("windows", "1,0", 1, 1000).status().message(),
            "--windows=1,0: '0' is not a whole number from 1 to 1000");
  EXPECT_FALSE(ParseIntList("windows", "1,x", 1, 1000).ok());
  EXPECT_FALSE(ParseIntList("windows", ",", 1, 1000).ok());
}

}  // namespace
}  // namespace asyncwork::tools
