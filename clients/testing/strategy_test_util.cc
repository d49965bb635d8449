#include "clients/testing/strategy_test_util.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "net/socket.h"
#include "server/serve_process.h"

namespace asyncwork::clients::testing {

std::unique_ptr<FakeServer> StartFakeServer(const FakeServerOptions& options) {
  absl::StatusOr<std::unique_ptr<FakeServer>> server =
      FakeServer::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

RunConfig SmallRun(const net::Address& server) {
  RunConfig config;
  config.server = server;
  config.requests = 200;
  config.in_flight = 4;
  config.connections = 2;
  config.max_threads = 4;
  config.size = 100;
  config.deadline = absl::Seconds(10);
  return config;
}

absl::StatusOr<std::unique_ptr<server::RunningServer>> StartLoopbackServer(
    server::ServerKind kind) {
  return server::StartServerBesideBusyThreads(
      kind, *net::Address::Parse("127.0.0.1:0"));
}

void FitToServer(server::ServerKind server_kind, StrategyKind kind,
                 RunConfig* config) {
  if (server_kind != server::ServerKind::kBlocking) return;
  config->connections = 1;
  config->max_threads = 1;
  // Polling and callback keep one connection per waiting request.
  if (kind == StrategyKind::kPolling || kind == StrategyKind::kCallback) {
    config->in_flight = 1;
  }
}

RunStats RunAndCheck(StrategyKind kind, const RunConfig& config) {
  absl::Time start = absl::Now();
  absl::StatusOr<RunStats> stats = RunStrategy(kind, config);
  EXPECT_LT(absl::Now() - start, kGenerous);
  EXPECT_TRUE(stats.ok()) << stats.status();
  if (!stats.ok()) return RunStats();
  EXPECT_TRUE(stats->Balanced());
  return *std::move(stats);
}

std::string FirstFailure(const RunStats& stats) {
  return stats.first_failures().empty() ? ""
                                        : stats.first_failures()[0].ToString();
}

net::Address RefusingAddress() {
  absl::StatusOr<net::Address> any = net::Address::Parse("127.0.0.1:0");
  absl::StatusOr<net::Socket> placeholder = net::Socket::Listen(*any);
  EXPECT_TRUE(placeholder.ok()) << placeholder.status();
  absl::StatusOr<net::Address> address = placeholder->LocalAddress();
  EXPECT_TRUE(address.ok()) << address.status();
  return *address;
}

std::string StrategyName(const ::testing::TestParamInfo<StrategyKind>& info) {
  return std::string(StrategyKindName(info.param));
}

}  // namespace asyncwork::clients::testing
