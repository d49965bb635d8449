#include "tools/experiment.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "clients/report.h"
#include "server/serve_process.h"

namespace asyncwork::tools {

clients::RunConfig MakeRunConfig(const Experiment& e,
                                 const net::Address& server,
                                 clients::ProgressLine* progress) {
  clients::RunConfig config;
  config.server = server;
  config.requests = e.requests;
  config.duration = e.duration;
  config.in_flight = e.in_flight;
  // One window for every strategy (see the header).
  config.max_threads = e.in_flight;
  config.connections = 1;
  config.op = e.workload.op;
  config.size = e.workload.size;
  config.arg = e.workload.arg;
  config.seed = e.seed;
  config.deadline = e.deadline;
  if (e.latency > absl::ZeroDuration() || e.bandwidth.has_value()) {
    sim::LinkConfig link;
    link.latency = e.latency;
    link.bandwidth = e.bandwidth;
    link.seed = e.seed;
    config.shaped = true;
    config.link = sim::LinkProfile::Symmetric(link);
  }
  config.progress = progress;
  return config;
}

int ClientConnections(clients::StrategyKind kind, int in_flight) {
  switch (kind) {
    case clients::StrategyKind::kBlocking:
    case clients::StrategyKind::kPipelined:
    case clients::StrategyKind::kCoroutine:
      return 1;
    case clients::StrategyKind::kThreaded:
    case clients::StrategyKind::kPolling:
    case clients::StrategyKind::kCallback:
      break;
  }
  return std::max(in_flight, 1);
}

int ServerConnections(server::ServerKind kind) {
  const server::ServerOptions defaults;
  switch (kind) {
    case server::ServerKind::kBlocking:
      return 1;
    case server::ServerKind::kThreading:
      return defaults.max_threads;
    case server::ServerKind::kForking:
      return defaults.max_children;
    case server::ServerKind::kPool:
      return defaults.pool_size;
    case server::ServerKind::kEpoll:
      break;
  }
  return kUnlimitedParallelism;
}

int ServerParallelism(server::ServerKind kind, framing::Op op,
                      int connections) {
  const int cores =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (kind == server::ServerKind::kEpoll) {
    const server::ServerOptions defaults;
    if (op != framing::Op::kHash) return kUnlimitedParallelism;
    return defaults.hash_on_workers ? std::min(defaults.hash_workers, cores)
                                    : defaults.threads;
  }
  // A socketserver kind serves each connection's requests one at a time.
  const int capacity = ServerConnections(kind);
  int parallelism = std::min(capacity, std::max(connections, 1));
  if (op == framing::Op::kHash) parallelism = std::min(parallelism, cores);
  return parallelism;
}

BoundConfig MakeBoundConfig(const Experiment& e,
                            double hash_ns_per_byte_round) {
  BoundConfig config;
  config.in_flight = e.in_flight;
  config.one_way_latency = e.latency;
  config.bandwidth = e.bandwidth;
  config.request_bytes = RequestWireBytes(e.workload);
  config.response_bytes = ResponseWireBytes(e.workload);
  config.service_time = ServiceTime(e.workload, hash_ns_per_byte_round);
  config.client_connections = ClientConnections(e.strategy, e.in_flight);
  config.server_connections = ServerConnections(e.server_kind);
  config.server_parallelism = ServerParallelism(e.server_kind, e.workload.op,
                                                config.client_connections);
  return config;
}

Measurement Measure(const clients::RunStats& stats, const Bound& bound) {
  Measurement m;
  m.work_per_s = stats.WorkPerSecond();
  const double cpu_s = absl::ToDoubleSeconds(stats.cpu_time());
  m.work_per_cpu_s = cpu_s > 0 ? stats.completed() / cpu_s : 0;
  m.bound_per_s = bound.finite() ? bound.per_second : 0;
  m.bound_fraction = BoundFraction(m.work_per_s, bound);
  m.completed = stats.completed();
  m.failed = stats.failed();
  m.p50 = stats.latency().ValueAtPercentile(50);
  m.p99 = stats.latency().ValueAtPercentile(99);
  m.cpu_per_request = stats.CpuPerRequest();
  return m;
}

absl::StatusOr<std::vector<clients::StrategyKind>> ParseStrategyList(
    absl::string_view flag, absl::string_view text) {
  std::vector<clients::StrategyKind> kinds;
  for (absl::string_view name : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    absl::StatusOr<clients::StrategyKind> kind =
        clients::ParseStrategyKind(name);
    if (!kind.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, "=", text, ": ", kind.status().message()));
    }
    if (std::find(kinds.begin(), kinds.end(), *kind) != kinds.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", flag, "=", text, ": '", name, "' is listed twice"));
    }
    kinds.push_back(*kind);
  }
  if (kinds.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", text, ": needs at least one strategy"));
  }
  return kinds;
}

std::vector<std::string> StrategyNames(
    const std::vector<clients::StrategyKind>& kinds) {
  std::vector<std::string> names;
  names.reserve(kinds.size());
  for (clients::StrategyKind kind : kinds) {
    names.emplace_back(clients::StrategyKindName(kind));
  }
  return names;
}

absl::StatusOr<Experiment> ExperimentFor(const SweepGrid& grid,
                                         server::ServerKind kind,
                                         const CellSpec& spec) {
  absl::StatusOr<clients::StrategyKind> strategy =
      clients::ParseStrategyKind(spec.strategy);
  if (!strategy.ok()) return strategy.status();
  Experiment e;
  e.strategy = *strategy;
  e.server_kind = kind;
  e.latency = spec.latency;
  e.bandwidth = grid.bandwidth;
  e.in_flight = spec.in_flight;
  e.workload = {grid.op, grid.size, spec.cost};
  e.duration = grid.per_cell;
  e.deadline = grid.deadline;
  e.seed = grid.seed;
  return e;
}

CellRunner LiveCellRunner(const SweepGrid& grid, server::ServerKind kind,
                          ServerSet* servers, int progress_fd) {
  // Measured lazily: a sweep without HASH need not spend the time.
  auto hash_ns = std::make_shared<std::optional<double>>();
  return [grid, kind, servers, progress_fd,
          hash_ns](const CellSpec& spec) -> absl::StatusOr<SweepCell> {
    absl::StatusOr<Experiment> e = ExperimentFor(grid, kind, spec);
    if (!e.ok()) return e.status();
    if (e->workload.op == framing::Op::kHash && !hash_ns->has_value()) {
      *hash_ns = MeasureHashNanosPerByteRound();
    }
    absl::StatusOr<net::Address> address = servers->AddressOf(kind);
    if (!address.ok()) return address.status();
    std::optional<clients::ProgressLine> progress;
    if (progress_fd >= 0) progress.emplace(progress_fd);
    absl::StatusOr<clients::RunStats> stats = clients::RunStrategy(
        e->strategy,
        MakeRunConfig(*e, *address, progress ? &*progress : nullptr));
    if (progress) progress->Finish();
    if (!stats.ok()) return stats.status();
    SweepCell cell;
    cell.spec = spec;
    cell.result = Measure(
        *stats, ComputeBound(MakeBoundConfig(*e, hash_ns->value_or(0))));
    return cell;
  };
}

ServerSet::~ServerSet() {
  // A server's error has been reported by StopAll if anyone asked.
  StopAll().IgnoreError();
}

absl::StatusOr<net::Address> ServerSet::AddressOf(server::ServerKind kind) {
  auto it = servers_.find(kind);
  if (it == servers_.end()) {
    absl::StatusOr<net::Address> listen = net::Address::Parse("127.0.0.1:0");
    if (!listen.ok()) return listen.status();
    absl::StatusOr<std::unique_ptr<server::RunningServer>> started =
        server::StartServerBesideBusyThreads(kind, *listen);
    if (!started.ok()) return started.status();
    it = servers_.emplace(kind, std::move(*started)).first;
  }
  return it->second->address();
}

absl::Status ServerSet::Stop(server::ServerKind kind) {
  auto it = servers_.find(kind);
  if (it == servers_.end()) return absl::OkStatus();
  absl::Status stopped = it->second->Stop();
  servers_.erase(it);
  return stopped;
}

absl::Status ServerSet::StopAll() {
  absl::Status first;
  for (auto& [kind, running] : servers_) first.Update(running->Stop());
  servers_.clear();
  return first;
}

}  // namespace asyncwork::tools
