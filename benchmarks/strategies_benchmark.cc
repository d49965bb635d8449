// strategies_benchmark: work per second for every client strategy against
// every server kind over four links — unshaped loopback, 1 ms, 10 ms, and
// 10 ms capped at 10 mbit — all in this process.
//
//   tools/bazel run //benchmarks:strategies
//   tools/bazel run //benchmarks:strategies --
//       --benchmark_filter='server:epoll/latency_us:10000/'
//       --benchmark_repetitions=5 --benchmark_out=$PWD/s.json
//       --benchmark_out_format=json          (one command line)
//
// Names carry the configuration as "key:value" segments, which tools/plot
// and tools/bench_compare read:
//
//   BM_Strategy/strategy:callback/server:epoll/latency_us:10000/
//       bandwidth_kbit:10000/in_flight:32/op:echo/size:64/real_time
//
// Each iteration is one client run of --per_iteration (in real time), after
// one short unmeasured warm-up run per benchmark. items_per_second is the
// completed requests per second; the counters are the latency percentiles
// from each request's due time (p50_us, p99_us), the process's CPU time per
// completed request (cpu_us_per_request: the in-process server's included),
// bound_fraction (tools/bound.h: the rate over the theoretical bound; absent
// on the unshaped link, which has none), and failed requests (failed). Each
// server kind is started once, the first time a benchmark needs it, and
// stopped before the program exits.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "clients/run_stats.h"
#include "clients/strategy.h"
#include "server/server.h"
#include "sim/units.h"
#include "tools/bound.h"
#include "tools/experiment.h"

ABSL_FLAG(absl::Duration, per_iteration, absl::Milliseconds(200),
          "how long each measured client run lasts");
ABSL_FLAG(absl::Duration, warm_up, absl::Milliseconds(50),
          "how long the unmeasured run before each benchmark lasts; 0 for "
          "none");
ABSL_FLAG(absl::Duration, request_deadline, absl::Seconds(1),
          "how long a request may wait before it counts as failed; a server "
          "that serves fewer connections than the client opens (blocking, "
          "pool) leaves the rest waiting this long at the end of each run");
ABSL_FLAG(int, window, 32,
          "requests waiting at once (in_flight), for every strategy");

namespace asyncwork::benchmarks {
namespace {

using tools::Experiment;

struct Link {
  absl::Duration latency;
  std::optional<uint64_t> bandwidth_bits;
};

const Link kLinks[] = {
    {absl::ZeroDuration(), std::nullopt},
    {absl::Milliseconds(1), std::nullopt},
    {absl::Milliseconds(10), std::nullopt},
    {absl::Milliseconds(10), 10'000'000},
};

const server::ServerKind kServers[] = {
    server::ServerKind::kBlocking, server::ServerKind::kThreading,
    server::ServerKind::kForking,  server::ServerKind::kPool,
    server::ServerKind::kEpoll,
};

// Servers is the harness's one set of in-process servers; main stops them.
tools::ServerSet& Servers() {
  static tools::ServerSet servers;
  return servers;
}

// HashNanos is HASH's measured cost, for the bound.
double HashNanos() {
  static const double ns = tools::MeasureHashNanosPerByteRound();
  return ns;
}

std::string Name(const Experiment& e) {
  std::string name = absl::StrCat(
      "BM_Strategy/strategy:", clients::StrategyKindName(e.strategy),
      "/server:", server::ServerKindName(e.server_kind),
      "/latency_us:", absl::ToInt64Microseconds(e.latency));
  if (e.bandwidth.has_value()) {
    absl::StrAppend(&name,
                    "/bandwidth_kbit:", e.bandwidth->bits_per_second() / 1000);
  }
  absl::StrAppend(&name, "/in_flight:", e.in_flight,
                  "/op:", tools::OpFlagName(e.workload.op),
                  "/size:", e.workload.size);
  return name;
}

void BM_Strategy(benchmark::State& state, Experiment e) {
  absl::StatusOr<net::Address> address = Servers().AddressOf(e.server_kind);
  if (!address.ok()) {
    state.SkipWithError(address.status().ToString().c_str());
    return;
  }
  const tools::Bound bound =
      tools::ComputeBound(tools::MakeBoundConfig(e, HashNanos()));
  if (const absl::Duration warm_up = absl::GetFlag(FLAGS_warm_up);
      warm_up > absl::ZeroDuration()) {
    Experiment warm = e;
    warm.duration = warm_up;
    absl::StatusOr<clients::RunStats> stats = clients::RunStrategy(
        warm.strategy, tools::MakeRunConfig(warm, *address));
    if (!stats.ok()) {
      state.SkipWithError(stats.status().ToString().c_str());
      return;
    }
  }
  clients::RunStats total;
  absl::Duration wall;
  for (auto _ : state) {
    absl::StatusOr<clients::RunStats> stats =
        clients::RunStrategy(e.strategy, tools::MakeRunConfig(e, *address));
    if (!stats.ok()) {
      state.SkipWithError(stats.status().ToString().c_str());
      return;
    }
    wall += stats->wall_time();
    total.Merge(*stats);
  }
  // Merge keeps the longest wall time; the rate needs all of it.
  total.SetElapsed(wall, total.cpu_time());
  const tools::Measurement m = tools::Measure(total, bound);
  state.SetItemsProcessed(static_cast<int64_t>(m.completed));
  state.counters["p50_us"] = absl::ToDoubleMicroseconds(m.p50);
  state.counters["p99_us"] = absl::ToDoubleMicroseconds(m.p99);
  state.counters["cpu_us_per_request"] =
      absl::ToDoubleMicroseconds(m.cpu_per_request);
  if (m.bound_fraction > 0) state.counters["bound_fraction"] = m.bound_fraction;
  state.counters["failed"] = static_cast<double>(m.failed);
}

void RegisterAll() {
  for (server::ServerKind server_kind : kServers) {
    for (const Link& link : kLinks) {
      for (clients::StrategyKind strategy : clients::AllStrategyKinds()) {
        Experiment e;
        e.strategy = strategy;
        e.server_kind = server_kind;
        e.latency = link.latency;
        if (link.bandwidth_bits.has_value()) {
          e.bandwidth = sim::Bandwidth::BitsPerSecond(*link.bandwidth_bits);
        }
        e.in_flight = absl::GetFlag(FLAGS_window);
        e.duration = absl::GetFlag(FLAGS_per_iteration);
        e.deadline = absl::GetFlag(FLAGS_request_deadline);
        // A fixed seed: every run sends the same bytes.
        e.seed = 1;
        benchmark::RegisterBenchmark(Name(e).c_str(), BM_Strategy, e)
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
}

// PrintHelp prints Google Benchmark's flags and then this harness's own, so
// --help tells the whole truth; Google Benchmark exits after calling it.
void PrintHelp() {
  benchmark::PrintDefaultHelp();
  std::printf(
      "\nstrategies' own flags (defaults in brackets):\n"
      "  --per_iteration=DURATION  %s [%s]\n"
      "  --warm_up=DURATION        %s [%s]\n"
      "  --request_deadline=DURATION  %s [%s]\n"
      "  --window=N                %s [%d]\n",
      absl::GetFlagReflectionHandle(FLAGS_per_iteration).Help().c_str(),
      absl::FormatDuration(absl::GetFlag(FLAGS_per_iteration)).c_str(),
      absl::GetFlagReflectionHandle(FLAGS_warm_up).Help().c_str(),
      absl::FormatDuration(absl::GetFlag(FLAGS_warm_up)).c_str(),
      absl::GetFlagReflectionHandle(FLAGS_request_deadline).Help().c_str(),
      absl::FormatDuration(absl::GetFlag(FLAGS_request_deadline)).c_str(),
      absl::GetFlagReflectionHandle(FLAGS_window).Help().c_str(), absl::GetFlag(FLAGS_window));
}

}  // namespace
}  // namespace asyncwork::benchmarks

int main(int argc, char** argv) {
  // Google Benchmark takes its --benchmark_* flags out of argv; absl parses
  // the rest.
  benchmark::Initialize(&argc, argv, asyncwork::benchmarks::PrintHelp);
  absl::ParseCommandLine(argc, argv);
  asyncwork::benchmarks::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (absl::Status stopped = asyncwork::benchmarks::Servers().StopAll();
      !stopped.ok()) {
    std::fprintf(stderr, "strategies: warning: a server reported: %s\n",
                 stopped.ToString().c_str());
  }
  return 0;
}
