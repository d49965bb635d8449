// Every strategy against every server kind through every fault of
// sim/fault.h, injected in-process by the Dialer's Link (RunConfig::faults).
// Issue #9's promise, checked cell by cell: the run returns, every request
// started either completes or fails exactly once, each failure carries the
// cause the fault should produce, and some work gets done while only some
// connections are faulted.
#include <array>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"
#include "clients/strategy.h"
#include "clients/testing/strategy_test_util.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "sim/fault.h"

namespace asyncwork::clients {
namespace {

using testing::RunAndCheck;

// FaultCase is one column of the matrix: a plan and what it may cause.
struct FaultCase {
  const char* name;
  // sim/fault.h's syntax.
  const char* spec;
  // The causes a failed request may have; empty means every request must
  // complete.
  std::vector<FailureCause> causes;
  // The request deadline: short where the fault makes requests wait for
  // it, so they fail fast; generous elsewhere, where a slow run (tsan,
  // slicing) must still complete.
  absl::Duration deadline = absl::Seconds(10);
};

// kStallDeadline is the request deadline of the stall cases, far above a
// healthy exchange even on a loaded machine.
constexpr absl::Duration kStallDeadline = absl::Milliseconds(400);

// Each request and each answer is 52 bytes (4 length, 16 header, 32 data),
// both directions counted, so a cut after 30 bytes falls inside a
// connection's first request (the server meets a broken frame) and one
// after 80 inside its first answer (the client does): a client that sends
// only one request on a connection meets the fault too. every=2 faults
// connections 1, 3, 5, ...: the first connection of every client meets the
// fault, and every other one runs clean.
const FaultCase kFaults[] = {
    {"close_in_request", "close_after=30,every=2",
     {FailureCause::kConnectionClosed, FailureCause::kIoError}},
    {"close_in_answer", "close_after=80,every=2",
     {FailureCause::kConnectionClosed, FailureCause::kIoError}},
    {"reset_in_request", "reset_after=30,every=2",
     {FailureCause::kConnectionClosed, FailureCause::kIoError}},
    {"reset_in_answer", "reset_after=80,every=2",
     {FailureCause::kConnectionClosed, FailureCause::kIoError}},
    {"stall_in_request", "stall_after=30,every=2",
     {FailureCause::kDeadlineExceeded}, kStallDeadline},
    {"stall_in_answer", "stall_after=80,every=2",
     {FailureCause::kDeadlineExceeded}, kStallDeadline},
    {"slice", "slice=1", {}},
    {"connect_delay", "connect_delay=30ms", {}},
};

using Cell = std::tuple<StrategyKind, server::ServerKind, int>;

class FaultMatrixTest : public ::testing::TestWithParam<Cell> {};

TEST_P(FaultMatrixTest, EveryRequestEndsOnceWithTheFaultsCause) {
  auto [kind, server_kind, fault_index] = GetParam();
  const FaultCase& fault = kFaults[fault_index];
  absl::StatusOr<std::unique_ptr<server::RunningServer>> server =
      testing::StartLoopbackServer(server_kind);
  if (absl::IsUnimplemented(server.status())) {
    GTEST_SKIP() << server.status();
  }
  ASSERT_TRUE(server.ok()) << server.status();

  RunConfig config = testing::SmallRun((*server)->address());
  config.requests = 10;
  config.size = 32;
  config.op = framing::Op::kReverse;
  config.in_flight = 2;
  config.connections = 2;
  config.max_threads = 2;
  config.deadline = fault.deadline;
  testing::FitToServer(server_kind, kind, &config);
  absl::StatusOr<sim::FaultPlan> plan = sim::ParseFaultPlan(fault.spec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  config.faults = *plan;

  // RunAndCheck checks the run returned in time and stayed balanced.
  RunStats stats = RunAndCheck(kind, config);
  EXPECT_EQ(stats.started(), config.requests);
  EXPECT_EQ(stats.completed() + stats.failed(), config.requests);
  std::vector<std::string> unexpected;
  uint64_t expected_failures = 0;
  for (FailureCause cause : AllFailureCauses()) {
    bool allowed = false;
    for (FailureCause ok : fault.causes) allowed = allowed || ok == cause;
    if (allowed) {
      expected_failures += stats.failed(cause);
    } else if (stats.failed(cause) > 0) {
      unexpected.push_back(absl::StrCat(stats.failed(cause), " ",
                                        FailureCauseName(cause)));
    }
  }
  std::vector<std::string> kept;
  for (const Failure& failure : stats.first_failures()) {
    kept.push_back(failure.ToString());
    EXPECT_FALSE(failure.detail.empty()) << failure.ToString();
  }
  EXPECT_TRUE(unexpected.empty())
      << "unexpected causes: " << absl::StrJoin(unexpected, ", ")
      << "; first failures: " << absl::StrJoin(kept, "; ");
  EXPECT_EQ(expected_failures, stats.failed());
  if (fault.causes.empty()) {
    EXPECT_EQ(stats.completed(), config.requests)
        << absl::StrJoin(kept, "; ");
  } else {
    // The first connection is faulted and the fault is reached...
    EXPECT_GE(stats.failed(), 1u);
    // ...yet the clean connections, and the bytes before the cut, get
    // work done.
    EXPECT_GE(stats.completed(), 1u) << absl::StrJoin(kept, "; ");
  }
  EXPECT_TRUE((*server)->Stop().ok());
}

std::vector<int> FaultIndexes() {
  std::vector<int> indexes;
  for (int i = 0; i < static_cast<int>(std::size(kFaults)); ++i) {
    indexes.push_back(i);
  }
  return indexes;
}

INSTANTIATE_TEST_SUITE_P(
    EveryStrategyServerAndFault, FaultMatrixTest,
    ::testing::Combine(::testing::ValuesIn(AllStrategyKinds()),
                       ::testing::ValuesIn(server::kAllServerKinds),
                       ::testing::ValuesIn(FaultIndexes())),
    [](const ::testing::TestParamInfo<Cell>& info) {
      return absl::StrCat(StrategyKindName(std::get<0>(info.param)), "_",
                          server::ServerKindName(std::get<1>(info.param)), "_",
                          kFaults[std::get<2>(info.param)].name);
    });

}  // namespace
}  // namespace asyncwork::clients
