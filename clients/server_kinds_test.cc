// Each strategy against each of server/'s servers, over loopback.
#include <memory>
#include <string>
#include <tuple>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"
#include "clients/strategy.h"
#include "clients/testing/strategy_test_util.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"
#include "server/server.h"

namespace asyncwork::clients {
namespace {

using testing::SmallRun;

// Each strategy against each of server/'s servers.
class StrategyServerTest : public ::testing::TestWithParam<
                               std::tuple<StrategyKind, server::ServerKind>> {};

TEST_P(StrategyServerTest, CompletesEveryRequestVerified) {
  auto [kind, server_kind] = GetParam();
  absl::StatusOr<std::unique_ptr<server::RunningServer>> server =
      testing::StartLoopbackServer(server_kind);
  if (absl::IsUnimplemented(server.status())) {
    GTEST_SKIP() << server.status();
  }
  ASSERT_TRUE(server.ok()) << server.status();
  RunConfig config = SmallRun((*server)->address());
  config.requests = 60;
  testing::FitToServer(server_kind, kind, &config);
  for (framing::Op op : {framing::Op::kReverse, framing::Op::kHash}) {
    config.op = op;
    absl::StatusOr<RunStats> stats = RunStrategy(kind, config);
    ASSERT_TRUE(stats.ok()) << stats.status();
    EXPECT_EQ(stats->completed(), 60u) << framing::OpName(op);
    EXPECT_EQ(stats->failed(), 0u) << testing::FirstFailure(*stats);
  }
  EXPECT_TRUE((*server)->Stop().ok());
}

INSTANTIATE_TEST_SUITE_P(
    EveryServer, StrategyServerTest,
    ::testing::Combine(::testing::ValuesIn(AllStrategyKinds()),
                       ::testing::ValuesIn(server::kAllServerKinds)),
    [](const ::testing::TestParamInfo<
        std::tuple<StrategyKind, server::ServerKind>>& info) {
      return absl::StrCat(StrategyKindName(std::get<0>(info.param)), "_",
                          server::ServerKindName(std::get<1>(info.param)));
    });

}  // namespace
}  // namespace asyncwork::clients
