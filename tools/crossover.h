// crossover.h: where, across a sweep's grid, one strategy pulls ahead of
// another.
//
// The sweep measures every strategy at every point of a grid of one-way
// latency x in-flight window x request cost. Along each axis, with the other
// two held fixed, the strategies' order may change: callback ties blocking
// at a window of 1 and leads it eightfold at 8, say. FindCrossovers finds
// each such change between two neighbouring grid values; GroupCrossovers
// gathers the strategies that pull ahead of one other strategy at the same
// step, so a report says it in one line:
//
//   std::vector<StrategyRate> rates = {
//       {"blocking", {{1000, 1, 0}}, 400},  {"callback", {{1000, 1, 0}}, 380},
//       {"blocking", {{1000, 8, 0}}, 390},  {"callback", {{1000, 8, 0}},
//       2900}};
//   for (const CrossoverGroup& g : GroupCrossovers(FindCrossovers(rates))) {
//     std::cout << DescribeCrossoverGroup(g) << "\n";
//     // window 1 -> 8 (latency 1 ms, cost 0): blocking falls behind
//     // callback (0.95x -> 7.4x)
//   }
//
// Rates within a factor of 1 + `tolerance` of each other count as a tie, so
// noise between two strategies that do equally well is not a crossover.
#ifndef ASYNCWORK_TOOLS_CROSSOVER_H_
#define ASYNCWORK_TOOLS_CROSSOVER_H_

#include <array>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace asyncwork::tools {

// SweepAxis is one dimension of the sweep's grid.
enum class SweepAxis { kLatency = 0, kInFlight = 1, kCost = 2 };
inline constexpr int kSweepAxes = 3;

// SweepAxisName returns "latency", "window" (the in-flight window) or
// "cost" (the request cost).
absl::string_view SweepAxisName(SweepAxis axis);

// GridPoint is a point of the grid: one-way latency in microseconds, the
// in-flight window, and the request cost (the op's arg: HASH rounds, SLEEP
// microseconds), indexed by SweepAxis.
struct GridPoint {
  std::array<double, kSweepAxes> at = {0, 0, 0};

  double operator[](SweepAxis axis) const { return at[static_cast<int>(axis)]; }
  friend bool operator==(const GridPoint&, const GridPoint&) = default;
  friend auto operator<=>(const GridPoint&, const GridPoint&) = default;
};

// FormatAxisValue prints a value of `axis` for people: latency as a
// duration ("1 ms", "0"), the others as numbers.
std::string FormatAxisValue(SweepAxis axis, double value);

// StrategyRate is one measurement: `strategy` at `where` did `work_per_s`.
struct StrategyRate {
  std::string strategy;
  GridPoint where;
  double work_per_s = 0;
};

// Crossover is one change of order along `axis` between two neighbouring
// values where both strategies were measured: at `from` `overtaken` led
// `overtaker` or the two tied, and at `to` `overtaker` leads by more than
// the tolerance. `where` holds the other axes' values (its `axis` entry is
// `from`).
struct Crossover {
  std::string overtaker;
  std::string overtaken;
  SweepAxis axis = SweepAxis::kLatency;
  double from = 0;
  double to = 0;
  GridPoint where;
  // overtaker / overtaken at `from` (at most 1 + tolerance) and at `to`
  // (above it).
  double ratio_from = 0;
  double ratio_to = 0;
};

// FindCrossovers returns every crossover in `rates`, ordered by axis, then
// by the other axes' values, then along the axis, then by overtaker and
// overtaken. A strategy missing at a grid value (or with no work there) is
// skipped at that value. When one strategy has several rates at one point
// the last counts.
std::vector<Crossover> FindCrossovers(const std::vector<StrategyRate>& rates,
                                      double tolerance = 0.05);

// CrossoverGroup is every crossover past one strategy at one step.
struct CrossoverGroup {
  SweepAxis axis = SweepAxis::kLatency;
  double from = 0;
  double to = 0;
  GridPoint where;
  std::string overtaken;
  // The crossovers, fastest overtaker (highest ratio_to) first.
  std::vector<Crossover> overtakers;
};

// GroupCrossovers gathers `crossovers` that share axis, step, other axes and
// overtaken strategy, keeping FindCrossovers' order of first appearance.
std::vector<CrossoverGroup> GroupCrossovers(
    const std::vector<Crossover>& crossovers);

// DescribeCrossoverGroup returns one line, without '\n': "window 1 -> 8
// (latency 1 ms, cost 0): blocking falls behind callback (0.95x -> 7.4x),
// threaded (0.9x -> 7x)".
std::string DescribeCrossoverGroup(const CrossoverGroup& group);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_CROSSOVER_H_
