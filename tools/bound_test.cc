#include "tools/bound.h"

#include <cmath>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace asyncwork::tools {
namespace {

using ::testing::DoubleNear;
using ::testing::HasSubstr;

BoundConfig EchoConfig(int in_flight, absl::Duration latency) {
  const Workload echo{framing::Op::kEcho, 64, 0};
  BoundConfig config;
  config.in_flight = in_flight;
  config.one_way_latency = latency;
  config.request_bytes = RequestWireBytes(echo);
  config.response_bytes = ResponseWireBytes(echo);
  return config;
}

TEST(WireBytes, CountFrameAndMessageHeaders) {
  EXPECT_EQ(RequestWireBytes({framing::Op::kEcho, 64, 0}), 4u + 16u + 64u);
  EXPECT_EQ(ResponseWireBytes({framing::Op::kReverse, 100, 0}), 120u);
  // HASH answers with an 8-byte result whatever it was sent.
  EXPECT_EQ(RequestWireBytes({framing::Op::kHash, 1000, 5}), 1020u);
  EXPECT_EQ(ResponseWireBytes({framing::Op::kHash, 1000, 5}), 28u);
}

TEST(ServiceTime, SleepIsItsArgHashScalesWithRoundsAndSize) {
  EXPECT_EQ(ServiceTime({framing::Op::kSleep, 64, 2500}, 1.0),
            absl::Microseconds(2500));
  EXPECT_EQ(ServiceTime({framing::Op::kHash, 1000, 10}, 2.0),
            absl::Microseconds(20));
  // Rounds 0 counts as 1, as HASH does.
  EXPECT_EQ(ServiceTime({framing::Op::kHash, 1000, 0}, 2.0),
            absl::Microseconds(2));
  EXPECT_EQ(ServiceTime({framing::Op::kEcho, 1000, 99}, 2.0),
            absl::ZeroDuration());
}

TEST(ComputeBound, WindowOverRoundTripLimitsAShapedEcho) {
  const Bound bound = ComputeBound(EchoConfig(32, absl::Milliseconds(10)));
  EXPECT_EQ(bound.limit, BoundLimit::kWindow);
  EXPECT_EQ(bound.round_trip, absl::Milliseconds(20));
  EXPECT_THAT(bound.per_second, DoubleNear(1600, 1e-9));
  EXPECT_TRUE(std::isinf(bound.bandwidth_per_s));
  EXPECT_TRUE(std::isinf(bound.server_per_s));
  EXPECT_THAT(BoundFraction(800, bound), DoubleNear(0.5, 1e-12));
}

TEST(ComputeBound, WindowBelowOneCountsAsOne) {
  EXPECT_THAT(ComputeBound(EchoConfig(0, absl::Milliseconds(5))).per_second,
              DoubleNear(100, 1e-9));
}

TEST(ComputeBound, BandwidthLimitsAWideWindowOnACappedLink) {
  BoundConfig config = EchoConfig(1000, absl::Milliseconds(10));
  config.bandwidth = sim::Bandwidth::BitsPerSecond(10'000'000);
  const Bound bound = ComputeBound(config);
  EXPECT_EQ(bound.limit, BoundLimit::kBandwidth);
  // 1.25 MB/s over 84 bytes per request.
  EXPECT_THAT(bound.per_second, DoubleNear(1.25e6 / 84, 1e-6));
  // The round trip includes putting both 84-byte messages on the link.
  EXPECT_EQ(bound.round_trip,
            absl::Milliseconds(20) + absl::Nanoseconds(2 * 67200));
  EXPECT_THAT(bound.window_per_s,
              DoubleNear(1000 / absl::ToDoubleSeconds(bound.round_trip), 1e-6));
}

TEST(ComputeBound, BandwidthUsesTheBusierDirection) {
  const Workload hash{framing::Op::kHash, 1000, 1};
  BoundConfig config;
  config.in_flight = 100000;
  config.request_bytes = RequestWireBytes(hash);
  config.response_bytes = ResponseWireBytes(hash);
  config.bandwidth = sim::Bandwidth::BytesPerSecond(1'020'000);
  const Bound bound = ComputeBound(config);
  EXPECT_EQ(bound.limit, BoundLimit::kBandwidth);
  EXPECT_THAT(bound.per_second, DoubleNear(1000, 1e-9));
}

TEST(ComputeBound, ASequentialServerLimitsSleeps) {
  BoundConfig config = EchoConfig(64, absl::ZeroDuration());
  config.service_time = absl::Milliseconds(1);
  config.server_parallelism = 1;
  Bound bound = ComputeBound(config);
  EXPECT_EQ(bound.limit, BoundLimit::kServer);
  EXPECT_THAT(bound.per_second, DoubleNear(1000, 1e-9));
  EXPECT_THAT(bound.window_per_s, DoubleNear(64000, 1e-6));

  // A server without a parallelism limit is bounded by the window instead.
  config.server_parallelism = kUnlimitedParallelism;
  bound = ComputeBound(config);
  EXPECT_EQ(bound.limit, BoundLimit::kWindow);
  EXPECT_THAT(bound.per_second, DoubleNear(64000, 1e-6));
}

TEST(ComputeBound, AServerServingFewerConnectionsLeavesTheRestWaiting) {
  BoundConfig config = EchoConfig(32, absl::Milliseconds(10));
  config.client_connections = 32;
  config.server_connections = 1;
  Bound bound = ComputeBound(config);
  EXPECT_EQ(bound.limit, BoundLimit::kServer);
  // One connection with one request per 20 ms round trip.
  EXPECT_THAT(bound.per_second, DoubleNear(50, 1e-9));

  // A pool of 16 threads serves half of 32 connections.
  config.server_connections = 16;
  EXPECT_THAT(ComputeBound(config).per_second, DoubleNear(800, 1e-9));

  // All 32 requests on one connection: serving one connection is enough.
  config.client_connections = 1;
  config.server_connections = 1;
  bound = ComputeBound(config);
  EXPECT_EQ(bound.limit, BoundLimit::kWindow);
  EXPECT_THAT(bound.per_second, DoubleNear(1600, 1e-9));
}

TEST(ComputeBound, UnshapedEchoHasNoBound) {
  const Bound bound = ComputeBound(EchoConfig(16, absl::ZeroDuration()));
  EXPECT_FALSE(bound.finite());
  EXPECT_EQ(BoundLimitName(bound.limit), "none");
  EXPECT_EQ(BoundFraction(12345, bound), 0);
  EXPECT_THAT(DescribeBound(bound, 16), HasSubstr("none"));
}

TEST(DescribeBound, NamesTheLimitingTerm) {
  const Bound bound = ComputeBound(EchoConfig(32, absl::Milliseconds(10)));
  EXPECT_EQ(DescribeBound(bound, 32),
            "1.6k/s (window: 32 in flight per 20 ms round trip)");
}

TEST(OpFlagName, SpellsOpsAsTheOpFlagDoes) {
  EXPECT_EQ(OpFlagName(framing::Op::kEcho), "echo");
  EXPECT_EQ(OpFlagName(framing::Op::kReverse), "reverse");
  EXPECT_EQ(OpFlagName(framing::Op::kHash), "hash");
  EXPECT_EQ(OpFlagName(framing::Op::kSleep), "sleep");
  EXPECT_EQ(OpFlagName(static_cast<framing::Op>(9)), "unknown");
}

TEST(MeasureHashNanosPerByteRound, ReturnsAPlausibleCost) {
  const double ns = MeasureHashNanosPerByteRound(absl::Milliseconds(5));
  // FNV-1a is one multiply per byte: well under 100 ns a byte on any machine
  // this runs on, and never free.
  EXPECT_GT(ns, 0.01);
  EXPECT_LT(ns, 100);
}

}  // namespace
}  // namespace asyncwork::tools
