// strategy_test_util.h: what the strategy tests share (testonly): a small
// run's config, a run that checks it ended properly, a FakeServer started
// or the test failed.
//
//   std::unique_ptr<FakeServer> server = StartFakeServer();
//   RunConfig config = SmallRun(server->address());
//   RunStats stats = RunAndCheck(StrategyKind::kPipelined, config);
//   EXPECT_EQ(stats.completed(), config.requests) << FirstFailure(stats);
#ifndef ASYNCWORK_CLIENTS_TESTING_STRATEGY_TEST_UTIL_H_
#define ASYNCWORK_CLIENTS_TESTING_STRATEGY_TEST_UTIL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"
#include "clients/strategy.h"
#include "clients/testing/fake_server.h"
#include "gtest/gtest.h"
#include "net/address.h"
#include "server/server.h"

namespace asyncwork::clients::testing {

// kGenerous bounds how long any run in the tests may take on a loaded
// two-core machine; a hang fails well before the test's own timeout.
inline constexpr absl::Duration kGenerous = absl::Seconds(20);

// StartFakeServer starts a FakeServer, or records a test failure and
// returns null.
std::unique_ptr<FakeServer> StartFakeServer(
    const FakeServerOptions& options = {});

// SmallRun returns a config for 200 requests of 100 bytes to `server`,
// 4 waiting at once (2 connections for the pipelined and coroutine
// clients), with a 10 s deadline.
RunConfig SmallRun(const net::Address& server);

// StartLoopbackServer starts one of server/'s servers of `kind` on
// 127.0.0.1:0 with default options: in this process, except the forking
// kind, which runs in a //server:serve process (server/serve_process.h: a
// child forked beside this process's busy client threads can hang).
absl::StatusOr<std::unique_ptr<server::RunningServer>> StartLoopbackServer(
    server::ServerKind kind);

// FitToServer keeps `config` to one connection when `server_kind` is the
// blocking server, which serves one connection until it closes (requests
// on any other would wait until their deadlines).
void FitToServer(server::ServerKind server_kind, StrategyKind kind,
                 RunConfig* config);

// RunAndCheck runs `kind` and records a test failure unless it started,
// ended within kGenerous and left every request counted once.
RunStats RunAndCheck(StrategyKind kind, const RunConfig& config);

// FirstFailure returns the first failure kept in `stats`, for messages.
std::string FirstFailure(const RunStats& stats);

// RefusingAddress returns a loopback address nothing listens on: a port
// bound and closed again.
net::Address RefusingAddress();

// StrategyParamTest is a test fixture run once per strategy; Run runs the
// parameter's strategy with RunAndCheck.
class StrategyParamTest : public ::testing::TestWithParam<StrategyKind> {
 protected:
  RunStats Run(const RunConfig& config) {
    return RunAndCheck(GetParam(), config);
  }
};

// StrategyName names a test parameter after its strategy.
std::string StrategyName(const ::testing::TestParamInfo<StrategyKind>& info);

}  // namespace asyncwork::clients::testing

#endif  // ASYNCWORK_CLIENTS_TESTING_STRATEGY_TEST_UTIL_H_
