// sweep: every client strategy over a grid of one-way latency x in-flight
// window x request cost, to answer "is threading enough at 1 ms? when does
// callback win? what does each cost in CPU?".
//
//   tools/bazel run //tools:sweep
//   tools/bazel run //tools:sweep -- --latencies=0,1ms,10ms,50ms
//       --windows=1,4,16,64,256 --op=hash --costs=1,100,1000 --per_cell=1s
//   tools/bazel run //tools:sweep -- --out=sweep.json   # then tools/plot
//
// Prints, for each grid point, every strategy's work per second and work
// per CPU-second, then where one strategy overtakes another along each axis
// (tools/crossover.h). --out writes the results in the native format
// tools/plot reads; --json prints that on stdout instead of the report
// (which then goes to stderr). The shared client flags --op, --size,
// --bandwidth, --seed and --deadline apply to every cell.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/common_flags.h"
#include "server/server.h"
#include "tools/bound.h"
#include "tools/cli.h"
#include "tools/experiment.h"
#include "tools/format.h"
#include "tools/sweep_lib.h"

ABSL_FLAG(std::string, server_kind, "epoll",
          "the in-process server: blocking, threading, forking, pool or "
          "epoll");
ABSL_FLAG(std::string, strategies,
          "blocking,threaded,polling,callback,pipelined,coroutine",
          "the client strategies to compare");
ABSL_FLAG(std::string, latencies, "0,1ms,10ms",
          "one-way latencies to sweep, comma-separated");
ABSL_FLAG(std::string, windows, "1,8,64",
          "in-flight windows to sweep, comma-separated");
ABSL_FLAG(std::string, costs, "0,1000",
          "request costs to sweep: the op's arg (SLEEP microseconds, HASH "
          "rounds), comma-separated");
ABSL_FLAG(absl::Duration, per_cell, absl::Milliseconds(400),
          "how long each strategy runs at each grid point");
ABSL_FLAG(double, tie, 0.25,
          "rates within this fraction of each other count as a tie");
ABSL_FLAG(std::string, out, "",
          "also write the results here, in the format tools/plot reads");

namespace asyncwork::tools {
namespace {

constexpr int kBadFlag = 2;

// Fail prints `status` and returns `code`.
int Fail(const absl::Status& status, int code) {
  std::fprintf(stderr, "sweep: %s\n", std::string(status.message()).c_str());
  return code;
}

absl::StatusOr<SweepGrid> GridFromFlags(const clients::ClientOptions& options) {
  SweepGrid grid;
  absl::StatusOr<std::vector<clients::StrategyKind>> strategies =
      ParseStrategyList("strategies", absl::GetFlag(FLAGS_strategies));
  if (!strategies.ok()) return strategies.status();
  grid.strategies = StrategyNames(*strategies);
  absl::StatusOr<std::vector<absl::Duration>> latencies =
      ParseLatencyList("latencies", absl::GetFlag(FLAGS_latencies));
  if (!latencies.ok()) return latencies.status();
  grid.latencies = *latencies;
  absl::StatusOr<std::vector<int64_t>> windows =
      ParseIntList("windows", absl::GetFlag(FLAGS_windows), 1,
                   clients::ClientOptions::kMaxInFlight);
  if (!windows.ok()) return windows.status();
  grid.in_flights.assign(windows->begin(), windows->end());
  absl::StatusOr<std::vector<int64_t>> costs =
      ParseIntList("costs", absl::GetFlag(FLAGS_costs), 0, UINT32_MAX);
  if (!costs.ok()) return costs.status();
  grid.costs.assign(costs->begin(), costs->end());
  absl::StatusOr<framing::Op> op = clients::ParseOp(options.op);
  if (!op.ok()) return op.status();
  grid.op = *op;
  grid.size = static_cast<uint64_t>(options.size);
  grid.bandwidth = options.bandwidth;
  grid.server = absl::GetFlag(FLAGS_server_kind);
  grid.per_cell = absl::GetFlag(FLAGS_per_cell);
  if (grid.per_cell <= absl::ZeroDuration() ||
      grid.per_cell == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--per_cell=", absl::FormatDuration(grid.per_cell),
                     ": must be positive and finite"));
  }
  grid.seed = options.seed;
  grid.deadline = options.deadline;
  return grid;
}

int Main(const clients::ClientOptions& options) {
  absl::StatusOr<SweepGrid> grid = GridFromFlags(options);
  if (!grid.ok()) return Fail(grid.status(), kBadFlag);
  absl::StatusOr<server::ServerKind> kind =
      server::ParseServerKind(grid->server);
  if (!kind.ok()) return Fail(kind.status(), kBadFlag);
  const double tie = absl::GetFlag(FLAGS_tie);
  if (!(tie >= 0 && tie < 1)) {
    return Fail(absl::InvalidArgumentError(
                    absl::StrCat("--tie=", tie, ": must be 0 to below 1")),
                kBadFlag);
  }
  FILE* human = options.json ? stderr : stdout;
  std::fprintf(human, "sweep: %zu cells of %s each, about %s in all\n",
               CellCount(*grid), absl::FormatDuration(grid->per_cell).c_str(),
               absl::FormatDuration(grid->per_cell *
                                    static_cast<double>(CellCount(*grid)))
                   .c_str());
  std::fflush(human);

  ServerSet servers;
  std::vector<SweepCell> cells;
  const absl::Status status = RunSweep(
      *grid, LiveCellRunner(*grid, *kind, &servers, fileno(stderr)),
      [&](size_t index, size_t total, const SweepCell& cell) {
        // One line per cell on stderr, so a long sweep shows it is alive.
        std::fprintf(
            stderr, "[%zu/%zu] %s latency %s window %d cost %u: %s\n",
            index + 1, total, cell.spec.strategy.c_str(),
            FormatAxisValue(SweepAxis::kLatency,
                            absl::ToDoubleMicroseconds(cell.spec.latency))
                .c_str(),
            cell.spec.in_flight, cell.spec.cost,
            FormatSi(cell.result.work_per_s, "/s").c_str());
      },
      &cells);
  if (absl::Status stopped = servers.StopAll(); !stopped.ok()) {
    std::fprintf(stderr, "sweep: warning: the server reported: %s\n",
                 stopped.ToString().c_str());
  }
  if (!status.ok()) return Fail(status, 1);

  std::fprintf(human, "\n%s", FormatSweepReport(*grid, cells, tie).c_str());
  const std::string json = FormatSweepJson(*grid, cells);
  if (options.json) std::fputs(json.c_str(), stdout);
  const std::string out = absl::GetFlag(FLAGS_out);
  if (!out.empty()) {
    std::ofstream file(out, std::ios::binary | std::ios::trunc);
    if (file) file << json;
    file.close();
    if (!file) return Fail(absl::ErrnoToStatus(errno, out), 1);
    std::fprintf(human,
                 "\nwrote %s (tools/bazel run //tools:plot -- %s -o "
                 "report.html)\n",
                 out.c_str(), out.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace asyncwork::tools

int main(int argc, char** argv) {
  using namespace asyncwork;
  absl::SetProgramUsageMessage(
      "Runs every client strategy over a grid of latency x in-flight window "
      "x request cost and reports crossovers and work per CPU-second.\n"
      "Usage: sweep [--latencies=0,1ms,10ms] [--windows=1,8,64] "
      "[--op=sleep] [--costs=0,1000] [--per_cell=400ms] [--out=FILE] "
      "[--json]");
  // The sweep's cost axis is SLEEP's arg unless --op says otherwise.
  absl::SetFlag(&FLAGS_op, "sleep");
  absl::SetFlag(&FLAGS_deadline, absl::Seconds(5));
  absl::ParseCommandLine(argc, argv);
  if (absl::Status s = tools::RunFromInvocationDirectory(); !s.ok()) {
    return tools::Fail(s, tools::kBadFlag);
  }
  absl::StatusOr<clients::ClientOptions> options =
      clients::ClientOptionsFromFlags();
  if (!options.ok()) return tools::Fail(options.status(), tools::kBadFlag);
  return tools::Main(*options);
}
