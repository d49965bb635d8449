#include "clients/strategy.h"

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"
#include "clients/testing/fake_server.h"
#include "clients/testing/strategy_test_util.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"
#include "net/address.h"
#include "net/socket.h"

namespace asyncwork::clients {
namespace {

using testing::FakeServer;
using testing::FakeServerOptions;
using testing::FirstFailure;
using testing::RefusingAddress;
using testing::SmallRun;
using testing::StartFakeServer;

class StrategyTest : public testing::StrategyParamTest {
 protected:
  // RunAgainst runs `requests` REVERSE requests, with SmallRun's other
  // settings, against a FakeServer with `options`, and keeps how many
  // connections the server closed on purpose in closed_early_.
  RunStats RunAgainst(const FakeServerOptions& options, uint64_t requests) {
    std::unique_ptr<FakeServer> server = StartFakeServer(options);
    if (server == nullptr) return RunStats();
    RunConfig config = SmallRun(server->address());
    config.op = framing::Op::kReverse;
    config.requests = requests;
    RunStats stats = Run(config);
    closed_early_ = server->closed_early();
    return stats;
  }

  uint64_t closed_early_ = 0;
};

TEST_P(StrategyTest, CompletesEveryRequestOfEachOpVerified) {
  std::unique_ptr<FakeServer> server = StartFakeServer();
  ASSERT_NE(server, nullptr);
  for (framing::Op op : {framing::Op::kEcho, framing::Op::kReverse,
                         framing::Op::kHash, framing::Op::kSleep}) {
    RunConfig config = SmallRun(server->address());
    config.op = op;
    config.arg = op == framing::Op::kSleep ? 200 : 3;
    config.requests = op == framing::Op::kSleep ? 40 : 200;
    RunStats stats = Run(config);
    EXPECT_EQ(stats.started(), config.requests) << framing::OpName(op);
    EXPECT_EQ(stats.completed(), config.requests) << framing::OpName(op);
    EXPECT_EQ(stats.failed(), 0u) << FirstFailure(stats);
    EXPECT_EQ(stats.latency().Count(), config.requests);
  }
}

TEST_P(StrategyTest, CountsAWrongAnswerAsABadResponse) {
  RunStats stats = RunAgainst({.corrupt_answers = true}, 20);
  EXPECT_EQ(stats.completed(), 0u);
  EXPECT_EQ(stats.failed(FailureCause::kBadResponse), 20u);
}

TEST_P(StrategyTest, CountsAnAnswerToNoRequestAsABadResponse) {
  RunStats stats = RunAgainst({.wrong_ids = true}, 20);
  EXPECT_EQ(stats.completed(), 0u);
  EXPECT_EQ(stats.failed(FailureCause::kBadResponse), 20u)
      << FirstFailure(stats);
}

TEST_P(StrategyTest, MatchesAnswersThatComeOutOfOrderById) {
  RunStats stats = RunAgainst({.swap_pairs = true}, 20);
  EXPECT_EQ(stats.completed(), 20u) << FirstFailure(stats);
}

TEST_P(StrategyTest, CountsEveryRequestAgainstAServerThatClosesAtRandom) {
  RunStats stats = RunAgainst({.close_probability = 0.1, .seed = 7}, 300);
  EXPECT_EQ(stats.started(), 300u);
  EXPECT_EQ(stats.started(), stats.completed() + stats.failed());
  EXPECT_GT(closed_early_, 0u);
  EXPECT_GT(stats.failed(), 0u);
  EXPECT_GT(stats.completed(), 0u);
  EXPECT_EQ(stats.failed(FailureCause::kConnectionClosed), stats.failed());
  for (const Failure& failure : stats.first_failures()) {
    EXPECT_LT(failure.request_id, 300u) << failure.ToString();
  }
}

TEST_P(StrategyTest, KeepsGoingWhenTheServerClosesAfterEachAnswer) {
  RunStats stats = RunAgainst({.close_after = 1}, 50);
  EXPECT_EQ(stats.started(), 50u);
  EXPECT_GT(stats.completed(), 0u);
  EXPECT_EQ(stats.failed(FailureCause::kConnectionClosed), stats.failed());
}

TEST_P(StrategyTest, RefusedConnectionsFailWithCauseRefused) {
  RunConfig config = SmallRun(RefusingAddress());
  config.requests = 5;
  RunStats stats = Run(config);
  EXPECT_EQ(stats.started(), 5u);
  EXPECT_EQ(stats.completed(), 0u);
  EXPECT_EQ(stats.failed(FailureCause::kConnectionRefused), 5u);
}

TEST_P(StrategyTest, AServerThatNeverAnswersFailsEachRequestAtItsDeadline) {
  FakeServerOptions options;
  options.never_answer = true;
  std::unique_ptr<FakeServer> server = StartFakeServer(options);
  ASSERT_NE(server, nullptr);
  RunConfig config = SmallRun(server->address());
  config.requests = 3;
  config.deadline = absl::Milliseconds(200);
  absl::Time start = absl::Now();
  RunStats stats = Run(config);
  absl::Duration took = absl::Now() - start;
  EXPECT_EQ(stats.failed(FailureCause::kDeadlineExceeded), 3u);
  EXPECT_EQ(stats.completed(), 0u);
  EXPECT_GE(took, absl::Milliseconds(200));
  // Three deadlines one after another at most, with room for a slow box.
  EXPECT_LT(took, absl::Seconds(5));
}

TEST_P(StrategyTest, ADurationRunSendsUntilTheTimeIsUp) {
  std::unique_ptr<FakeServer> server = StartFakeServer();
  ASSERT_NE(server, nullptr);
  RunConfig config = SmallRun(server->address());
  config.requests = 0;
  config.duration = absl::Milliseconds(300);
  RunStats stats = Run(config);
  EXPECT_GT(stats.completed(), 0u);
  EXPECT_EQ(stats.failed(), 0u);
  EXPECT_GE(stats.wall_time(), absl::Milliseconds(300));
}

TEST_P(StrategyTest, APacedRunTakesAsLongAsItsScheduleSays) {
  std::unique_ptr<FakeServer> server = StartFakeServer();
  ASSERT_NE(server, nullptr);
  RunConfig config = SmallRun(server->address());
  config.requests = 21;
  config.rate = 100;  // the last request is due 200 ms after the first
  RunStats stats = Run(config);
  EXPECT_EQ(stats.completed(), 21u);
  EXPECT_GE(stats.wall_time(), absl::Milliseconds(200));
}

TEST_P(StrategyTest, RefusesAnInvalidConfig) {
  RunConfig config;
  EXPECT_EQ(RunStrategy(GetParam(), config).status().code(),
            absl::StatusCode::kInvalidArgument);
  config.server = RefusingAddress();
  config.in_flight = 0;
  EXPECT_EQ(RunStrategy(GetParam(), config).status().code(),
            absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Built, StrategyTest,
                         ::testing::ValuesIn(AllStrategyKinds()),
                         testing::StrategyName);

TEST(StrategyKind, NamesRoundTrip) {
  for (StrategyKind kind : AllStrategyKinds()) {
    absl::StatusOr<StrategyKind> parsed =
        ParseStrategyKind(StrategyKindName(kind));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_FALSE(ParseStrategyKind("Blocking").ok());
  EXPECT_FALSE(ParseStrategyKind("").ok());
}

}  // namespace
}  // namespace asyncwork::clients
