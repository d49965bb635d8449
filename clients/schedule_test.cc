#include "clients/schedule.h"

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "clients/latency_histogram.h"
#include "gtest/gtest.h"

namespace asyncwork::clients {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

TEST(SendSchedule, ClosedLoopIsDueWhenEligible) {
  SendSchedule schedule = SendSchedule::ClosedLoop();
  EXPECT_FALSE(schedule.paced());
  EXPECT_EQ(schedule.interval(), absl::ZeroDuration());
  absl::Time freed = kStart + absl::Milliseconds(42);
  EXPECT_EQ(schedule.DueAt(5, freed), freed);
  EXPECT_EQ(schedule.IntendedSendTime(5), absl::InfinitePast());
  EXPECT_EQ(schedule.SendsDueBy(kStart), std::numeric_limits<uint64_t>::max());
}

TEST(SendSchedule, PacedSendsAreEvenlySpaced) {
  absl::StatusOr<SendSchedule> schedule = SendSchedule::Paced(1000, kStart);
  ASSERT_TRUE(schedule.ok()) << schedule.status();
  EXPECT_TRUE(schedule->paced());
  EXPECT_EQ(schedule->interval(), absl::Milliseconds(1));
  EXPECT_EQ(schedule->IntendedSendTime(0), kStart);
  EXPECT_EQ(schedule->IntendedSendTime(1), kStart + absl::Milliseconds(1));
  EXPECT_EQ(schedule->IntendedSendTime(1000000), kStart + absl::Seconds(1000));
}

TEST(SendSchedule, PacedDueTimeIgnoresWhenTheSlotFreed) {
  absl::StatusOr<SendSchedule> schedule = SendSchedule::Paced(1000, kStart);
  ASSERT_TRUE(schedule.ok());
  absl::Time intended = kStart + absl::Milliseconds(3);
  // Eligible early (it waits for its time) or late (a stall): due either way
  // at its intended time, so a late send counts its lateness.
  EXPECT_EQ(schedule->DueAt(3, kStart), intended);
  EXPECT_EQ(schedule->DueAt(3, kStart + absl::Seconds(1)), intended);
}

TEST(SendSchedule, SendsDueByCountsRequestsDueSoFar) {
  absl::StatusOr<SendSchedule> schedule = SendSchedule::Paced(1000, kStart);
  ASSERT_TRUE(schedule.ok());
  EXPECT_EQ(schedule->SendsDueBy(kStart - absl::Nanoseconds(1)), 0u);
  EXPECT_EQ(schedule->SendsDueBy(kStart), 1u);
  EXPECT_EQ(schedule->SendsDueBy(kStart + absl::Microseconds(2500)), 3u);
  // An interval that is not a whole number of nanoseconds still agrees with
  // IntendedSendTime at every boundary.
  absl::StatusOr<SendSchedule> thirds = SendSchedule::Paced(3, kStart);
  ASSERT_TRUE(thirds.ok());
  for (uint64_t i = 0; i < 3000; i += 7) {
    absl::Time at = thirds->IntendedSendTime(i);
    EXPECT_EQ(thirds->SendsDueBy(at), i + 1) << i;
    EXPECT_EQ(thirds->SendsDueBy(at - absl::Nanoseconds(1)), i) << i;
  }
}

TEST(SendSchedule, PacedRejectsRatesThatCannotBeScheduled) {
  for (double rate : {0.0, -5.0, std::numeric_limits<double>::quiet_NaN(),
                      std::numeric_limits<double>::infinity(), 2e9}) {
    absl::StatusOr<SendSchedule> schedule = SendSchedule::Paced(rate, kStart);
    ASSERT_FALSE(schedule.ok()) << rate;
    EXPECT_EQ(schedule.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(schedule.status().message().find("send rate"),
              absl::string_view::npos);
  }
}

TEST(LatencySince, NeverNegative) {
  EXPECT_EQ(LatencySince(kStart, kStart + absl::Milliseconds(7)),
            absl::Milliseconds(7));
  EXPECT_EQ(LatencySince(kStart, kStart - absl::Milliseconds(7)),
            absl::ZeroDuration());
}

// A paced client at 100 requests/s that stalls for half a second before its
// first send, then sends the backlog at once; each answer takes 1 ms. Timed
// from the actual send every request took 1 ms and the stall vanishes; timed
// from its due time the stall is in the latencies.
TEST(SendSchedule, StalledClientCannotHideTheStall) {
  absl::StatusOr<SendSchedule> schedule = SendSchedule::Paced(100, kStart);
  ASSERT_TRUE(schedule.ok());
  const absl::Duration stall = absl::Milliseconds(500);
  LatencyHistogram from_due, from_send;
  for (uint64_t i = 0; i < 50; ++i) {
    absl::Time sent = std::max(schedule->IntendedSendTime(i), kStart + stall);
    absl::Time answered = sent + absl::Milliseconds(1);
    from_due.Record(LatencySince(schedule->DueAt(i, sent), answered));
    from_send.Record(LatencySince(sent, answered));
  }
  EXPECT_EQ(from_send.Max(), absl::Milliseconds(1));
  EXPECT_EQ(from_due.Max(), stall + absl::Milliseconds(1));
  EXPECT_GT(from_due.ValueAtPercentile(50), absl::Milliseconds(200));
}

}  // namespace
}  // namespace asyncwork::clients
