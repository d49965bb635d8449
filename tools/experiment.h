// experiment.h: one measurement — a client strategy against a server over a
// shaped link — as the demo, the sweep and //benchmarks:strategies all make
// it: the clients' RunConfig, the theoretical bound (bound.h) for the same
// configuration, and what came of it.
//
//   Experiment e;
//   e.strategy = clients::StrategyKind::kCallback;
//   e.server_kind = server::ServerKind::kEpoll;
//   e.latency = absl::Milliseconds(10);
//   e.in_flight = 32;
//   e.duration = absl::Seconds(3);
//   ServerSet servers;
//   absl::StatusOr<net::Address> address = servers.AddressOf(e.server_kind);
//   absl::StatusOr<clients::RunStats> stats =
//       clients::RunStrategy(e.strategy, MakeRunConfig(e, *address));
//   Measurement m = Measure(
//       *stats, ComputeBound(MakeBoundConfig(e,
//       MeasureHashNanosPerByteRound())));
//
// Every strategy gets the same window: `in_flight` is the threaded client's
// thread count too, and the pipelined and coroutine clients use one
// connection, so all of them keep `in_flight` requests waiting (blocking
// keeps one, which is the point).
#ifndef ASYNCWORK_TOOLS_EXPERIMENT_H_
#define ASYNCWORK_TOOLS_EXPERIMENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"
#include "clients/strategy.h"
#include "net/address.h"
#include "server/server.h"
#include "sim/units.h"
#include "tools/bound.h"
#include "tools/sweep_lib.h"

namespace asyncwork::tools {

// Experiment is one configuration to measure.
struct Experiment {
  clients::StrategyKind strategy = clients::StrategyKind::kBlocking;
  server::ServerKind server_kind = server::ServerKind::kEpoll;
  absl::Duration latency = absl::ZeroDuration();  // one way
  std::optional<sim::Bandwidth> bandwidth;
  int in_flight = 32;
  Workload workload;
  // Run for `duration` when it is non-zero, else for `requests` requests.
  absl::Duration duration = absl::ZeroDuration();
  uint64_t requests = 1000;
  absl::Duration deadline = absl::Seconds(10);
  uint64_t seed = 1;
};

// MakeRunConfig returns the clients' configuration for `e`, sending to
// `server`; the link is shaped when `e` has a latency or a bandwidth cap.
// `progress` (not owned, may be null) is drawn from the calling thread.
clients::RunConfig MakeRunConfig(const Experiment& e,
                                 const net::Address& server,
                                 clients::ProgressLine* progress = nullptr);

// ClientConnections returns how many connections strategy `kind` spreads a
// window of `in_flight` over: 1 for blocking, pipelined and coroutine (one
// connection here), `in_flight` for the others (one request each).
int ClientConnections(clients::StrategyKind kind, int in_flight);

// ServerParallelism returns how many requests a server of `kind` works on
// at once, for bound.h's server term, when the client uses `connections`
// connections and every request is `op`. The socketserver kinds serve each
// connection's requests one after another, so they work on at most
// min(connections, the policy's capacity) at once: 1 for blocking, the
// default ServerOptions' max_threads, max_children or pool_size otherwise.
// CPU-bound HASH is further capped by the machine's cores, and by the
// single event loop of the default epoll server, which otherwise overlaps
// SLEEPs without limit (kUnlimitedParallelism).
int ServerParallelism(server::ServerKind kind, framing::Op op, int connections);

// ServerConnections returns how many connections a server of `kind` (with
// the default ServerOptions) serves at once: 1 for blocking, max_threads,
// max_children or pool_size for the other socketserver kinds, and
// kUnlimitedParallelism for epoll.
int ServerConnections(server::ServerKind kind);

// MakeBoundConfig returns bound.h's input for `e`. HASH's service time uses
// `hash_ns_per_byte_round` (MeasureHashNanosPerByteRound).
BoundConfig MakeBoundConfig(const Experiment& e, double hash_ns_per_byte_round);

// Measure summarises `stats` against `bound` (Measurement is in
// sweep_lib.h).
Measurement Measure(const clients::RunStats& stats, const Bound& bound);

// ParseStrategyList parses a comma-separated list of strategy names
// ("blocking,callback") for flag `flag`; empty lists, unknown names and
// repeats are InvalidArgument naming the flag.
absl::StatusOr<std::vector<clients::StrategyKind>> ParseStrategyList(
    absl::string_view flag, absl::string_view text);

// StrategyNames returns the names of `kinds`, in order.
std::vector<std::string> StrategyNames(
    const std::vector<clients::StrategyKind>& kinds);

// ServerSet starts one server per kind, on 127.0.0.1 port 0, the first time
// its address is asked for, and stops them all when destroyed. Each runs in
// this process, except the forking kind, which runs in a //server:serve
// process (server/serve_process.h says why), so a binary using ServerSet
// carries //server:serve in its runfiles (this library's data does that).
// One thread at a time may use it.
class ServerSet {
 public:
  ServerSet() = default;
  ServerSet(const ServerSet&) = delete;
  ServerSet& operator=(const ServerSet&) = delete;
  ~ServerSet();

  // AddressOf returns the address of the server of `kind`, starting it if
  // need be; the error is StartServerBesideBusyThreads's.
  absl::StatusOr<net::Address> AddressOf(server::ServerKind kind);

  // Stop stops the server of `kind`, if one is running, and returns the
  // first error it met while serving; the next AddressOf starts a new one.
  absl::Status Stop(server::ServerKind kind);

  // StopAll stops every server started so far and returns the first error
  // one met while serving.
  absl::Status StopAll();

 private:
  std::map<server::ServerKind, std::unique_ptr<server::RunningServer>> servers_;
};

// ExperimentFor returns the experiment for one cell of `grid` against a
// server of `kind`; InvalidArgument for an unknown strategy name.
absl::StatusOr<Experiment> ExperimentFor(const SweepGrid& grid,
                                         server::ServerKind kind,
                                         const CellSpec& spec);

// LiveCellRunner returns the sweep_lib.h CellRunner that measures each cell
// with the real client against the server of `kind` from `servers` (not
// owned; it must outlive the runner), for grid.per_cell each. HASH's cost is
// measured once, on the first HASH cell. With `progress_fd` >= 0 each run
// draws report.h's ProgressLine on that fd (only if it is a terminal). The
// runner must be called from one thread at a time.
CellRunner LiveCellRunner(const SweepGrid& grid, server::ServerKind kind,
                          ServerSet* servers, int progress_fd);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_EXPERIMENT_H_
