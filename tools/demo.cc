// demo: the headline measurement of asyncwork, for a newcomer.
//
// Starts an in-process server (epoll unless --server_kind says otherwise),
// runs each client strategy against it over a link shaped in-process (10 ms
// one way by default) for the same time each, and ends with one table: how
// much work each strategy finished per second, how many times the blocking
// client's, and what fraction of the theoretical bound (tools/bound.h).
//
//   tools/bazel run //tools:demo
//   tools/bazel run //tools:demo -- --latency=50ms --in_flight=64 --duration=5s
//   tools/bazel run //tools:demo -- --json > demo.json   # for tools/plot
//
// The flags are the client binaries' (clients/common_flags.h) with demo
// defaults, plus --server_kind and --strategies. With --json the results go
// to stdout in the native format tools/plot reads and everything else to
// stderr.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/common_flags.h"
#include "server/server.h"
#include "sim/units.h"
#include "tools/bound.h"
#include "tools/demo_table.h"
#include "tools/experiment.h"
#include "tools/format.h"
#include "tools/sweep_lib.h"

ABSL_FLAG(std::string, server_kind, "epoll",
          "the in-process server: blocking, threading, forking, pool or "
          "epoll");
ABSL_FLAG(std::string, strategies,
          "blocking,threaded,polling,callback,pipelined,coroutine",
          "the client strategies to run, in order");

namespace asyncwork::tools {
namespace {

constexpr int kBadFlag = 2;

// SetDemoDefaults gives the shared client flags the demo's defaults; the
// command line, parsed after, still overrides them.
void SetDemoDefaults() {
  absl::SetFlag(&FLAGS_latency, sim::LatencyFlag(absl::Milliseconds(10)));
  absl::SetFlag(&FLAGS_duration, absl::Seconds(3));
  absl::SetFlag(&FLAGS_in_flight, 32);
  absl::SetFlag(&FLAGS_deadline, absl::Seconds(5));
}

DemoRow RowOf(const SweepCell& cell) {
  const Measurement& m = cell.result;
  return {.strategy = cell.spec.strategy,
          .work_per_s = m.work_per_s,
          .completed = m.completed,
          .failed = m.failed,
          .bound_fraction = m.bound_fraction,
          .p99 = m.completed > 0 ? std::optional(m.p99) : std::nullopt,
          .cpu_per_request = m.completed > 0 ? std::optional(m.cpu_per_request)
                                             : std::nullopt};
}

int Main(const clients::ClientOptions& options,
         const std::vector<clients::StrategyKind>& strategies,
         server::ServerKind server_kind) {
  if (!options.server.empty()) {
    std::fprintf(stderr,
                 "demo: --server=%s: the demo starts its own server "
                 "(--server_kind); point a client binary at a remote one\n",
                 options.server.c_str());
    return kBadFlag;
  }
  // With --json stdout carries only the results.
  FILE* human = options.json ? stderr : stdout;
  absl::StatusOr<framing::Op> op = clients::ParseOp(options.op);
  if (!op.ok()) {
    std::fprintf(stderr, "demo: %s\n", op.status().ToString().c_str());
    return kBadFlag;
  }
  SweepGrid grid;
  grid.strategies = StrategyNames(strategies);
  grid.latencies = {options.latency};
  grid.in_flights = {options.in_flight};
  grid.costs = {static_cast<uint32_t>(options.arg)};
  grid.op = *op;
  grid.size = static_cast<uint64_t>(options.size);
  grid.bandwidth = options.bandwidth;
  grid.server = absl::GetFlag(FLAGS_server_kind);
  grid.per_cell = options.duration;
  grid.seed = options.seed;
  grid.deadline = options.deadline;

  absl::StatusOr<Experiment> first =
      ExperimentFor(grid, server_kind,
                    {grid.strategies.front(), options.latency,
                     options.in_flight, grid.costs.front()});
  if (!first.ok()) {
    std::fprintf(stderr, "demo: %s\n", first.status().ToString().c_str());
    return kBadFlag;
  }
  // The header gives the link's bound; each row's fraction also counts the
  // server's own limit, which may depend on the strategy's connections.
  BoundConfig link_only =
      MakeBoundConfig(*first, MeasureHashNanosPerByteRound());
  link_only.server_parallelism = kUnlimitedParallelism;
  const Bound bound = ComputeBound(link_only);
  std::string header = absl::StrFormat(
      "asyncwork demo: %d client strategies, %s each, against the %s server\n"
      "link: %s one way, %s; %d requests in flight; op %s, %d bytes",
      strategies.size(), absl::FormatDuration(options.duration), grid.server,
      sim::FormatLatency(options.latency),
      sim::FormatBandwidth(options.bandwidth), options.in_flight, options.op,
      options.size);
  if (options.arg != 0) absl::StrAppend(&header, ", arg ", options.arg);
  absl::StrAppend(&header, "\n",
                  bound.finite()
                      ? absl::StrCat("the link allows at most ",
                                     DescribeBound(bound, options.in_flight))
                      : "no theoretical bound: an unshaped link",
                  "\n\n");
  std::fputs(header.c_str(), human);
  std::fflush(human);

  ServerSet servers;
  std::vector<SweepCell> cells;
  const absl::Status status = RunSweep(
      grid, LiveCellRunner(grid, server_kind, &servers, fileno(human)),
      [&](size_t index, size_t total, const SweepCell& cell) {
        std::fprintf(human,
                     "[%zu/%zu] %-10s %10s  (%llu completed, %llu "
                     "failed)\n",
                     index + 1, total, cell.spec.strategy.c_str(),
                     FormatSi(cell.result.work_per_s, "/s").c_str(),
                     static_cast<unsigned long long>(cell.result.completed),
                     static_cast<unsigned long long>(cell.result.failed));
        std::fflush(human);
      },
      &cells);
  if (absl::Status stopped = servers.StopAll(); !stopped.ok()) {
    std::fprintf(stderr, "demo: warning: the server reported: %s\n",
                 stopped.ToString().c_str());
  }
  if (!status.ok()) {
    std::fprintf(stderr, "demo: %s\n", status.ToString().c_str());
    return 1;
  }

  std::vector<DemoRow> rows;
  uint64_t failed = 0;
  for (const SweepCell& cell : cells) {
    rows.push_back(RowOf(cell));
    failed += cell.result.failed;
  }
  std::fprintf(human, "\n%s\n%s", FormatDemoTable(rows).c_str(),
               FormatHeadline(rows).c_str());
  if (options.json) std::fputs(FormatSweepJson(grid, cells).c_str(), stdout);
  if (failed > 0) {
    std::fprintf(stderr, "demo: %llu requests failed; a healthy run has none\n",
                 static_cast<unsigned long long>(failed));
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace asyncwork::tools

int main(int argc, char** argv) {
  using namespace asyncwork;
  absl::SetProgramUsageMessage(
      "Runs each client strategy against an in-process server over a shaped "
      "link and shows how much work each finishes.\n"
      "Usage: demo [--latency=10ms] [--bandwidth=10mbit] [--duration=3s] "
      "[--in_flight=32] [--op=echo] [--size=64] [--arg=0]\n"
      "            [--server_kind=epoll] [--strategies=blocking,callback,...] "
      "[--json]");
  tools::SetDemoDefaults();
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<clients::ClientOptions> options =
      clients::ClientOptionsFromFlags();
  if (!options.ok()) {
    std::fprintf(stderr, "demo: %s\n", options.status().ToString().c_str());
    return tools::kBadFlag;
  }
  absl::StatusOr<std::vector<clients::StrategyKind>> strategies =
      tools::ParseStrategyList("strategies", absl::GetFlag(FLAGS_strategies));
  if (!strategies.ok()) {
    std::fprintf(stderr, "demo: %s\n", strategies.status().ToString().c_str());
    return tools::kBadFlag;
  }
  absl::StatusOr<server::ServerKind> kind =
      server::ParseServerKind(absl::GetFlag(FLAGS_server_kind));
  if (!kind.ok()) {
    std::fprintf(stderr, "demo: --server_kind: %s\n",
                 kind.status().ToString().c_str());
    return tools::kBadFlag;
  }
  return tools::Main(*options, *strategies, *kind);
}
