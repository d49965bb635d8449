// sweep_lib.h: the sweep's grid, its loop, and what it prints.
//
// `tools/bazel run //tools:sweep` measures every strategy at every point of
// a grid of one-way latency x in-flight window x request cost (the op's arg)
// and answers the questions a user has: which strategy wins where, where one
// overtakes another (crossover.h), and how much work each gets from a
// second of CPU.
//
//   SweepGrid grid;                       // defaults: a small grid
//   std::vector<SweepCell> cells;
//   absl::Status status = RunSweep(grid, run_one_cell, on_cell_done, &cells);
//   std::cout << FormatSweepReport(grid, cells);
//   WriteFile("sweep.json", FormatSweepJson(grid, cells));  // for plot
//
// The loop takes the function that measures one cell, so tests drive it with
// a fake and the binary with real clients and servers.
#ifndef ASYNCWORK_TOOLS_SWEEP_LIB_H_
#define ASYNCWORK_TOOLS_SWEEP_LIB_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sim/units.h"
#include "tools/bound.h"
#include "tools/crossover.h"

namespace asyncwork::tools {

// SweepGrid is what to measure. Every strategy runs at every combination of
// latency, window and cost, for `per_cell` each.
struct SweepGrid {
  std::vector<std::string> strategies;
  std::vector<absl::Duration> latencies;  // one way
  std::vector<int> in_flights;
  std::vector<uint32_t> costs;  // the op's arg
  framing::Op op = framing::Op::kSleep;
  uint64_t size = 64;
  std::optional<sim::Bandwidth> bandwidth;
  std::string server = "epoll";
  absl::Duration per_cell = absl::Milliseconds(500);
  // How long any one request may take before it counts as failed.
  absl::Duration deadline = absl::Seconds(5);
  uint64_t seed = 1;
};

// CellSpec is one measurement to make.
struct CellSpec {
  std::string strategy;
  absl::Duration latency;
  int in_flight = 1;
  uint32_t cost = 0;
};

// Measurement is what one run achieved, in the units the reports use.
struct Measurement {
  double work_per_s = 0;
  // Completed requests per CPU-second of the whole process (the client and
  // an in-process server together); 0 when no CPU time was recorded.
  double work_per_cpu_s = 0;
  // The theoretical bound (bound.h) and the rate as a fraction of it; both 0
  // when there is no bound.
  double bound_per_s = 0;
  double bound_fraction = 0;
  uint64_t completed = 0;
  uint64_t failed = 0;
  absl::Duration p50;
  absl::Duration p99;
  absl::Duration cpu_per_request;
};

// SweepCell is one measurement made.
struct SweepCell {
  CellSpec spec;
  Measurement result;
};

// CellCount returns how many cells `grid` has.
size_t CellCount(const SweepGrid& grid);

// CellRunner measures one cell; a non-OK status stops the sweep.
using CellRunner = std::function<absl::StatusOr<SweepCell>(const CellSpec&)>;
// CellDone is told of each cell as it finishes: its index (0-based), the
// total, and the result.
using CellDone =
    std::function<void(size_t index, size_t total, const SweepCell& cell)>;

// RunSweep runs every cell of `grid` in order (cost, then latency, then
// window, then strategy, in the grid's order), appending results to `cells`
// (owned by the caller). Stops at the first error, which it returns with the
// cell named; the cells measured until then stay in `cells`. `done` may be
// empty.
absl::Status RunSweep(const SweepGrid& grid, const CellRunner& run,
                      const CellDone& done, std::vector<SweepCell>* cells);

// RatesOf turns cells into crossover.h's input.
std::vector<StrategyRate> RatesOf(const std::vector<SweepCell>& cells);

// FormatSweepReport returns the human report: a header naming the grid, a
// table of work per second and one of work per CPU-second (a row per grid
// point, a column per strategy, the best in each row marked '*'), the
// crossovers (crossover.h; rates within a factor of 1 + `tolerance` tie:
// short cells on a shared machine are noisy), and each strategy's median work per
// CPU-second over the grid.
std::string FormatSweepReport(const SweepGrid& grid,
                              const std::vector<SweepCell>& cells,
                              double tolerance = 0.25);

// FormatSweepJson returns the cells in the native results format that
// tools/plot reads (result_points.h), one object per cell, ending in '\n'.
// With several costs in the grid the op is written "sleep arg 1000", so
// plot draws each cost in its own chart; "arg" is written as its own key
// too.
std::string FormatSweepJson(const SweepGrid& grid,
                            const std::vector<SweepCell>& cells);

// ParseLatencyList parses "0,1ms,10ms" (sim/units.h's latency syntax) for
// flag `flag`; empty lists and bad elements are InvalidArgument naming the
// flag.
absl::StatusOr<std::vector<absl::Duration>> ParseLatencyList(
    absl::string_view flag, absl::string_view text);

// ParseIntList parses "1,8,64" for flag `flag`, each element in [min, max].
absl::StatusOr<std::vector<int64_t>> ParseIntList(absl::string_view flag,
                                                  absl::string_view text,
                                                  int64_t min, int64_t max);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_SWEEP_LIB_H_
