// crossover.h: where, across a sweep's grid, one strategy overtakes another.
//
// The sweep measures every strategy at every point of a grid of one-way
// latency x in-flight window x request cost. Along each axis, with the other
// two held fixed, the strategies' order may change: callback trails threaded
// at a window of 4 and leads it at 64, say. FindCrossovers finds each such
// change between two neighbouring grid values.
//
//   std::vector<StrategyRate> rates = {
//       {"threaded", {{1000, 4, 0}}, 900}, {"callback", {{1000, 4, 0}}, 800},
//       {"threaded", {{1000, 64, 0}}, 2000}, {"callback", {{1000, 64, 0}},
//       9000}};
//   for (const Crossover& c : FindCrossovers(rates)) {
//     std::cout << DescribeCrossover(c) << "\n";
//     // callback overtakes threaded as the in-flight window grows from 4 to
//     // 64 (latency 1 ms, cost 0): 0.89x -> 4.5x
//   }
//
// Rates within `tolerance` of each other count as a tie, so measurement noise
// between two equal strategies does not read as a crossover; a tie between
// two values is stepped over (A leads, tie, B leads is one crossover from
// the value where A led to the one where B leads).
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

// SweepAxisName returns "latency", "in-flight window" or "request cost".
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

// Crossover is one change of order along `axis`: at `from` `overtaken` led
// `overtaker` (by more than the tolerance), and at `to`, the next value
// where the two are not tied, `overtaker` leads. `where` holds the other
// axes' values (its `axis` entry is `from`).
struct Crossover {
  std::string overtaker;
  std::string overtaken;
  SweepAxis axis = SweepAxis::kLatency;
  double from = 0;
  double to = 0;
  GridPoint where;
  // overtaker / overtaken at `from` (below 1) and at `to` (above 1).
  double ratio_from = 0;
  double ratio_to = 0;
};

// FindCrossovers returns every crossover in `rates`, ordered by axis, then
// by the other axes' values, then along the axis, then by overtaker and
// overtaken. Rates differing by a factor of at most 1 + `tolerance` tie. A
// strategy missing at a grid value (or with no work there) is skipped at
// that value. When one strategy has several rates at one point the last
// counts.
std::vector<Crossover> FindCrossovers(const std::vector<StrategyRate>& rates,
                                      double tolerance = 0.05);

// DescribeCrossover returns one line, without '\n': "callback overtakes
// threaded as the in-flight window grows from 4 to 64 (latency 1 ms, cost
// 0): 0.89x -> 4.5x".
std::string DescribeCrossover(const Crossover& crossover);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_CROSSOVER_H_
