// Each strategy over a link shaped in-process by sim/: latency costs every
// request a round trip, and a window of W shares each round trip among W.
#include <memory>
#include <optional>

#include "absl/time/time.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"
#include "clients/strategy.h"
#include "clients/testing/fake_server.h"
#include "clients/testing/strategy_test_util.h"
#include "gtest/gtest.h"
#include "sim/link_model.h"
#include "sim/units.h"

namespace asyncwork::clients {
namespace {

using testing::FakeServer;
using testing::SmallRun;
using testing::StartFakeServer;

class ShapedLinkTest : public testing::StrategyParamTest {};

// ShapedLink returns a link with `latency` one way and `bandwidth` (if any)
// in each direction.
sim::LinkProfile ShapedLink(absl::Duration latency,
                            std::optional<sim::Bandwidth> bandwidth) {
  sim::LinkConfig direction;
  direction.latency = latency;
  direction.bandwidth = bandwidth;
  return sim::LinkProfile::Symmetric(direction);
}

TEST_P(ShapedLinkTest, ALinkWithLatencyCostsEachRoundTripTwiceTheLatency) {
  std::unique_ptr<FakeServer> server = StartFakeServer();
  ASSERT_NE(server, nullptr);
  // Long enough that W requests per round trip stand far from one at a
  // time even with a sanitizer's start-up costs on a loaded machine (a
  // 10 ms link once left the threaded client 235 ms of overhead).
  constexpr absl::Duration kLatency = absl::Milliseconds(50);
  constexpr int kRequests = 20;
  constexpr int kWindow = 10;
  RunConfig config = SmallRun(server->address());
  config.requests = kRequests;
  config.shaped = true;
  config.link = ShapedLink(kLatency, std::nullopt);
  // kWindow requests wait at once, however the strategy counts them
  // (run_config.h's table); the blocking client keeps one.
  config.in_flight = kWindow;
  config.max_threads = kWindow;
  config.connections = 1;

  RunStats stats = Run(config);
  EXPECT_EQ(stats.completed(), uint64_t{kRequests});
  // No request is faster than one round trip.
  EXPECT_GE(stats.latency().Min(), 2 * kLatency);
  const absl::Duration one_at_a_time = kRequests * 2 * kLatency;
  if (GetParam() == StrategyKind::kBlocking) {
    // Every answer waits a round trip: N * 2L at least.
    EXPECT_GE(stats.wall_time(), one_at_a_time);
    return;
  }
  // W requests share each round trip: about N * 2L / W, and at least
  // N / W round trips. Generous: at most half of N * 2L.
  EXPECT_GE(stats.wall_time(), (kRequests / kWindow) * 2 * kLatency);
  EXPECT_LE(stats.wall_time(), one_at_a_time / 2);
}

TEST_P(ShapedLinkTest, ALinkWithBandwidthLimitsTheRate) {
  std::unique_ptr<FakeServer> server = StartFakeServer();
  ASSERT_NE(server, nullptr);
  RunConfig config = SmallRun(server->address());
  // The link shapes each connection on its own, so one connection, one
  // request at a time: 20 requests of 10 KB, then 20 answers of 10 KB, at
  // 1 MB/s each way take at least 0.4 s.
  config.in_flight = 1;
  config.max_threads = 1;
  config.connections = 1;
  config.requests = 20;
  config.size = 10000;
  config.shaped = true;
  config.link =
      ShapedLink(absl::ZeroDuration(), sim::Bandwidth::BytesPerSecond(1000000));
  RunStats stats = Run(config);
  EXPECT_EQ(stats.completed(), 20u);
  EXPECT_GE(stats.wall_time(), absl::Milliseconds(400));
}

INSTANTIATE_TEST_SUITE_P(EveryStrategy, ShapedLinkTest,
                         ::testing::ValuesIn(AllStrategyKinds()),
                         testing::StrategyName);

}  // namespace
}  // namespace asyncwork::clients
