#include "tools/experiment.h"

#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "clients/run_stats.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/blocking_io.h"
#include "net/socket.h"
#include "server/server.h"

namespace asyncwork::tools {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

Experiment Shaped(clients::StrategyKind strategy, server::ServerKind kind) {
  Experiment e;
  e.strategy = strategy;
  e.server_kind = kind;
  e.latency = absl::Milliseconds(10);
  e.bandwidth = sim::Bandwidth::BitsPerSecond(10'000'000);
  e.in_flight = 24;
  e.workload = {framing::Op::kSleep, 100, 2000};
  e.duration = absl::Seconds(2);
  e.deadline = absl::Seconds(3);
  e.seed = 7;
  return e;
}

TEST(MakeRunConfig, GivesEveryStrategyTheSameWindowAndShapesBothWays) {
  const Experiment e =
      Shaped(clients::StrategyKind::kThreaded, server::ServerKind::kEpoll);
  const net::Address server = *net::Address::Parse("127.0.0.1:9");
  const clients::RunConfig config = MakeRunConfig(e, server);
  EXPECT_EQ(config.in_flight, 24);
  EXPECT_EQ(config.max_threads, 24);
  EXPECT_EQ(config.connections, 1);
  EXPECT_EQ(config.op, framing::Op::kSleep);
  EXPECT_EQ(config.size, 100u);
  EXPECT_EQ(config.arg, 2000u);
  EXPECT_EQ(config.duration, absl::Seconds(2));
  EXPECT_EQ(config.deadline, absl::Seconds(3));
  EXPECT_EQ(config.seed, 7u);
  EXPECT_TRUE(config.shaped);
  for (const sim::LinkConfig* link :
       {&config.link.client_to_server, &config.link.server_to_client}) {
    EXPECT_EQ(link->latency, absl::Milliseconds(10));
    ASSERT_TRUE(link->bandwidth.has_value());
    EXPECT_EQ(link->bandwidth->bits_per_second(), 10'000'000u);
  }
  EXPECT_TRUE(clients::ValidateRunConfig(config).ok())
      << clients::ValidateRunConfig(config);
}

TEST(MakeRunConfig, LeavesAnUnshapedLinkAlone) {
  Experiment e;
  const clients::RunConfig config =
      MakeRunConfig(e, *net::Address::Parse("127.0.0.1:9"));
  EXPECT_FALSE(config.shaped);
}

TEST(ClientConnections, OneForPipelinedStrategiesOneARequestOtherwise) {
  EXPECT_EQ(ClientConnections(clients::StrategyKind::kBlocking, 32), 1);
  EXPECT_EQ(ClientConnections(clients::StrategyKind::kPipelined, 32), 1);
  EXPECT_EQ(ClientConnections(clients::StrategyKind::kCoroutine, 32), 1);
  EXPECT_EQ(ClientConnections(clients::StrategyKind::kThreaded, 32), 32);
  EXPECT_EQ(ClientConnections(clients::StrategyKind::kPolling, 32), 32);
  EXPECT_EQ(ClientConnections(clients::StrategyKind::kCallback, 32), 32);
}

TEST(ServerParallelism, FollowsEachServersConcurrency) {
  using server::ServerKind;
  const int cores =
      std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_EQ(ServerParallelism(ServerKind::kBlocking, framing::Op::kSleep, 32),
            1);
  // Each connection is served in turn, so one connection is one at a time.
  EXPECT_EQ(ServerParallelism(ServerKind::kThreading, framing::Op::kSleep, 1),
            1);
  EXPECT_EQ(ServerParallelism(ServerKind::kThreading, framing::Op::kSleep, 32),
            32);
  EXPECT_EQ(ServerParallelism(ServerKind::kPool, framing::Op::kSleep, 32),
            server::ServerOptions().pool_size);
  EXPECT_EQ(ServerParallelism(ServerKind::kForking, framing::Op::kHash, 32),
            std::min(cores, 32));
  EXPECT_EQ(ServerParallelism(ServerKind::kEpoll, framing::Op::kSleep, 1),
            kUnlimitedParallelism);
  EXPECT_EQ(ServerParallelism(ServerKind::kEpoll, framing::Op::kHash, 32),
            server::ServerOptions().threads);
}

TEST(MakeBoundConfig, DescribesTheSameConfiguration) {
  const Experiment e =
      Shaped(clients::StrategyKind::kCallback, server::ServerKind::kBlocking);
  const BoundConfig config = MakeBoundConfig(e, 1.0);
  EXPECT_EQ(config.in_flight, 24);
  EXPECT_EQ(config.one_way_latency, absl::Milliseconds(10));
  EXPECT_EQ(config.request_bytes, 120u);
  EXPECT_EQ(config.response_bytes, 120u);
  EXPECT_EQ(config.service_time, absl::Milliseconds(2));
  EXPECT_EQ(config.server_parallelism, 1);
  EXPECT_EQ(config.client_connections, 24);
  EXPECT_EQ(config.server_connections, 1);
  // The blocking server serves one of the callback client's 24
  // connections: one request per round trip.
  Bound bound = ComputeBound(config);
  EXPECT_EQ(bound.limit, BoundLimit::kServer);
  EXPECT_THAT(bound.per_second,
              DoubleNear(1 / absl::ToDoubleSeconds(bound.round_trip), 1e-9));

  // The pipelined client puts all 24 on one connection; then one 2 ms SLEEP
  // at a time is the limit: 500/s.
  Experiment pipelined = e;
  pipelined.strategy = clients::StrategyKind::kPipelined;
  bound = ComputeBound(MakeBoundConfig(pipelined, 1.0));
  EXPECT_EQ(bound.limit, BoundLimit::kServer);
  EXPECT_THAT(bound.per_second, DoubleNear(500, 1e-9));
}

TEST(ServerConnections, FollowsEachKindsDefaultCapacity) {
  const server::ServerOptions defaults;
  EXPECT_EQ(ServerConnections(server::ServerKind::kBlocking), 1);
  EXPECT_EQ(ServerConnections(server::ServerKind::kPool), defaults.pool_size);
  EXPECT_EQ(ServerConnections(server::ServerKind::kThreading),
            defaults.max_threads);
  EXPECT_EQ(ServerConnections(server::ServerKind::kForking),
            defaults.max_children);
  EXPECT_EQ(ServerConnections(server::ServerKind::kEpoll),
            kUnlimitedParallelism);
}

TEST(Measure, SummarisesARun) {
  clients::RunStats stats;
  stats.RecordStarted(4);
  stats.RecordCompleted(absl::Milliseconds(1));
  stats.RecordCompleted(absl::Milliseconds(2));
  stats.RecordCompleted(absl::Milliseconds(3));
  stats.RecordFailed(3, clients::FailureCause::kDeadlineExceeded);
  stats.SetElapsed(absl::Seconds(2), absl::Milliseconds(30));
  BoundConfig config;
  config.in_flight = 1;
  config.one_way_latency = absl::Milliseconds(50);  // 10/s
  const Measurement m = Measure(stats, ComputeBound(config));
  EXPECT_DOUBLE_EQ(m.work_per_s, 1.5);
  EXPECT_THAT(m.work_per_cpu_s, DoubleNear(100, 1e-9));
  EXPECT_THAT(m.bound_per_s, DoubleNear(10, 1e-9));
  EXPECT_THAT(m.bound_fraction, DoubleNear(0.15, 1e-9));
  EXPECT_EQ(m.completed, 3u);
  EXPECT_EQ(m.failed, 1u);
  EXPECT_THAT(absl::ToDoubleMilliseconds(m.p50), DoubleNear(2, 0.02));
  EXPECT_THAT(absl::ToDoubleMilliseconds(m.p99), DoubleNear(3, 0.02));
  EXPECT_EQ(m.cpu_per_request, absl::Milliseconds(10));
}

TEST(ParseStrategyList, ReadsNamesInOrderAndRefusesBadLists) {
  absl::StatusOr<std::vector<clients::StrategyKind>> list =
      ParseStrategyList("strategies", "callback,blocking");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(*list, ElementsAre(clients::StrategyKind::kCallback,
                                 clients::StrategyKind::kBlocking));
  EXPECT_THAT(StrategyNames(*list), ElementsAre("callback", "blocking"));
  EXPECT_THAT(
      ParseStrategyList("strategies", "callback,nonesuch").status().message(),
      HasSubstr("--strategies=callback,nonesuch: "));
  EXPECT_THAT(
      ParseStrategyList("strategies", "polling,polling").status().message(),
      HasSubstr("twice"));
  EXPECT_FALSE(ParseStrategyList("strategies", "").ok());
}

TEST(ExperimentFor, TakesTheCellAndTheGrid) {
  SweepGrid grid;
  grid.op = framing::Op::kHash;
  grid.size = 256;
  grid.per_cell = absl::Milliseconds(300);
  grid.deadline = absl::Seconds(2);
  grid.seed = 9;
  absl::StatusOr<Experiment> e =
      ExperimentFor(grid, server::ServerKind::kPool,
                    {"pipelined", absl::Milliseconds(1), 16, 100});
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->strategy, clients::StrategyKind::kPipelined);
  EXPECT_EQ(e->server_kind, server::ServerKind::kPool);
  EXPECT_EQ(e->latency, absl::Milliseconds(1));
  EXPECT_EQ(e->in_flight, 16);
  EXPECT_EQ(e->workload.op, framing::Op::kHash);
  EXPECT_EQ(e->workload.size, 256u);
  EXPECT_EQ(e->workload.arg, 100u);
  EXPECT_EQ(e->duration, absl::Milliseconds(300));
  EXPECT_EQ(e->deadline, absl::Seconds(2));
  EXPECT_EQ(e->seed, 9u);
  EXPECT_FALSE(ExperimentFor(grid, server::ServerKind::kPool,
                             {"nonesuch", absl::ZeroDuration(), 1, 0})
                   .ok());
}

TEST(LiveCellRunner, MeasuresShortRunsAgainstOneRealServer) {
  SweepGrid grid;
  grid.op = framing::Op::kEcho;
  grid.per_cell = absl::Milliseconds(100);
  ServerSet servers;
  const CellRunner run =
      LiveCellRunner(grid, server::ServerKind::kEpoll, &servers, -1);
  absl::StatusOr<SweepCell> cell =
      run({"callback", absl::Milliseconds(2), 4, 0});
  ASSERT_TRUE(cell.ok()) << cell.status();
  EXPECT_GT(cell->result.completed, 0u);
  EXPECT_EQ(cell->result.failed, 0u);
  // 4 in flight per 4 ms round trip: at most 1000/s.
  EXPECT_THAT(cell->result.bound_per_s, DoubleNear(1000, 1));
  EXPECT_GT(cell->result.work_per_s, 0);
  EXPECT_LE(cell->result.bound_fraction, 1.05);
  EXPECT_GT(cell->result.work_per_cpu_s, 0);

  // The server started for the first cell serves the next one too: the
  // set starts each kind once.
  absl::StatusOr<net::Address> first =
      servers.AddressOf(server::ServerKind::kEpoll);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(run({"blocking", absl::ZeroDuration(), 1, 0}).ok());
  absl::StatusOr<net::Address> again =
      servers.AddressOf(server::ServerKind::kEpoll);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*first, *again);
  EXPECT_TRUE(servers.StopAll().ok());
}

TEST(ServerSet, StopStopsOneKindAndTheNextAddressOfStartsItAgain) {
  ServerSet servers;
  absl::StatusOr<net::Address> epoll =
      servers.AddressOf(server::ServerKind::kEpoll);
  absl::StatusOr<net::Address> pool =
      servers.AddressOf(server::ServerKind::kPool);
  ASSERT_TRUE(epoll.ok() && pool.ok());
  EXPECT_TRUE(servers.Stop(server::ServerKind::kEpoll).ok());
  EXPECT_TRUE(servers.Stop(server::ServerKind::kEpoll).ok());  // not running
  // The pool server still answers; the stopped epoll server refuses.
  absl::StatusOr<net::Socket> to_pool =
      net::ConnectBlocking(*pool, absl::Now() + absl::Seconds(10));
  EXPECT_TRUE(to_pool.ok()) << to_pool.status();
  absl::StatusOr<net::Socket> to_epoll =
      net::ConnectBlocking(*epoll, absl::Now() + absl::Seconds(10));
  EXPECT_FALSE(to_epoll.ok());
  absl::StatusOr<net::Address> restarted =
      servers.AddressOf(server::ServerKind::kEpoll);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  EXPECT_TRUE(
      net::ConnectBlocking(*restarted, absl::Now() + absl::Seconds(10)).ok());
  EXPECT_TRUE(servers.StopAll().ok());
}

}  // namespace
}  // namespace asyncwork::tools
