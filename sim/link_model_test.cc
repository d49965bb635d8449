#include "sim/link_model.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "sim/units.h"

namespace asyncwork::sim {
namespace {

using Uint128 = unsigned __int128;

// A fixed start keeps every run identical; tests never read the clock.
const absl::Time kStart = absl::FromUnixSeconds(1'000'000);

// 8 mbit/s is one byte per microsecond, so expected times are plain sums.
const Bandwidth kByteEveryMicrosecond = Bandwidth::BitsPerSecond(8'000'000);

LinkConfig Capped(absl::Duration latency, Bandwidth bandwidth) {
  LinkConfig config;
  config.latency = latency;
  config.bandwidth = bandwidth;
  return config;
}

TEST(LinkDirection, DeliversAfterLatencyPlusQueuedBytes) {
  LinkDirection link(Capped(absl::Milliseconds(50), kByteEveryMicrosecond));
  EXPECT_EQ(link.Schedule(kStart, 1500),
            kStart + absl::Milliseconds(50) + absl::Microseconds(1500));
  // Written 100us later, 1400 bytes are still queued ahead of it.
  EXPECT_EQ(link.Schedule(kStart + absl::Microseconds(100), 500),
            kStart + absl::Milliseconds(50) + absl::Microseconds(2000));
  EXPECT_EQ(link.idle_at(), kStart + absl::Microseconds(2000));
  // After the queue drains, a write is serialized from its own time.
  EXPECT_EQ(link.Schedule(kStart + absl::Seconds(1), 10),
            kStart + absl::Seconds(1) + absl::Milliseconds(50) +
                absl::Microseconds(10));
}

TEST(LinkDirection, WriteRightWhenTheQueueDrainsStartsAfresh) {
  // 100 bytes at 6 mbit/s take 133,333.33ns, so the queue drains a third of
  // a nanosecond before idle_at(). A write at idle_at() finds the link idle
  // and needs its own full sending time; carrying on from the earlier
  // write's exact end would deliver it a nanosecond early.
  const Bandwidth cap = Bandwidth::BitsPerSecond(6'000'000);
  LinkDirection link(Capped(absl::ZeroDuration(), cap));
  absl::Time first = link.Schedule(kStart, 100);
  EXPECT_EQ(first, kStart + absl::Nanoseconds(133'334));
  EXPECT_EQ(link.Schedule(first, 100), first + absl::Nanoseconds(133'334));
}

// The fluid queue the issue describes, computed independently of the model
// in exact integer arithmetic: backlog is held in bit-nanoseconds (bits sent
// times 10^9), which drain at `bits_per_second` per nanosecond.
class FluidQueue {
 public:
  explicit FluidQueue(uint64_t bits_per_second) : rate_(bits_per_second) {}

  // Write returns how long after `at_nanos` the last of `bytes` leaves, to
  // the nanosecond, rounded up.
  int64_t Write(int64_t at_nanos, uint64_t bytes) {
    Uint128 drained = static_cast<Uint128>(at_nanos - last_nanos_) * rate_;
    backlog_ = backlog_ > drained ? backlog_ - drained : 0;
    backlog_ += static_cast<Uint128>(bytes) * 8 * 1'000'000'000;
    last_nanos_ = at_nanos;
    return static_cast<int64_t>((backlog_ + rate_ - 1) / rate_);
  }

 private:
  uint64_t rate_;
  Uint128 backlog_ = 0;
  int64_t last_nanos_ = 0;
};

TEST(LinkDirection, MatchesTheFluidQueueExactlyOverRandomWrites) {
  std::mt19937_64 random(12345);
  for (uint64_t bits_per_second :
       {uint64_t{8'000'000}, uint64_t{3'333'333}, uint64_t{999'999'937},
        uint64_t{56'000}}) {
    const absl::Duration latency = absl::Microseconds(2500);
    LinkDirection link(
        Capped(latency, Bandwidth::BitsPerSecond(bits_per_second)));
    FluidQueue fluid(bits_per_second);
    // The mean gap roughly matches the mean write's sending time, so the
    // queue fills, drains and idles many times.
    const int64_t mean_write_nanos = static_cast<int64_t>(
        Uint128{2000} * 8 * 1'000'000'000 / bits_per_second);
    int64_t now_nanos = 0;
    for (int i = 0; i < 5000; ++i) {
      now_nanos += static_cast<int64_t>(
          random() % static_cast<uint64_t>(2 * mean_write_nanos + 1));
      size_t bytes = random() % 4001;
      absl::Time sent_at = kStart + absl::Nanoseconds(now_nanos);
      absl::Time want =
          sent_at + latency + absl::Nanoseconds(fluid.Write(now_nanos, bytes));
      ASSERT_EQ(link.Schedule(sent_at, bytes), want)
          << "write " << i << " of " << bytes << " bytes at "
          << bits_per_second << " bit/s";
    }
  }
}

TEST(LinkDirection, SegmentsMeetTheBoundForEveryByte) {
  const absl::Duration latency = absl::Milliseconds(5);
  const Bandwidth bandwidth = Bandwidth::BitsPerSecond(7'777'777);
  LinkDirection link(Capped(latency, bandwidth));
  std::mt19937_64 random(99);
  FluidQueue fluid(bandwidth.bits_per_second());
  int64_t now_nanos = 0;
  for (int i = 0; i < 300; ++i) {
    now_nanos += static_cast<int64_t>(random() % 20'000'000);
    size_t bytes = random() % 20'000;
    absl::Time sent_at = kStart + absl::Nanoseconds(now_nanos);
    std::vector<Segment> segments = link.ScheduleChunks(sent_at, bytes, 1000);
    // Each segment is delivered when its last byte arrives, no sooner than
    // that byte's bound, computed by the fluid queue one segment at a time.
    size_t total = 0;
    for (const Segment& segment : segments) {
      ASSERT_LE(segment.bytes, 1000u);
      total += segment.bytes;
      EXPECT_EQ(segment.deliver_at,
                sent_at + latency +
                    absl::Nanoseconds(fluid.Write(now_nanos, segment.bytes)));
    }
    EXPECT_EQ(total, bytes);
  }
}

TEST(LinkDirection, FourMebibytesArriveProgressivelyAtTheCap) {
  const Bandwidth cap = Bandwidth::BitsPerSecond(10'000'000);
  const absl::Duration latency = absl::Milliseconds(50);
  LinkDirection link(Capped(latency, cap));
  constexpr size_t kTotal = 4 * 1024 * 1024;
  std::vector<Segment> segments = link.ScheduleChunks(kStart, kTotal);
  ASSERT_EQ(segments.size(),
            (kTotal + kDefaultSegmentBytes - 1) / kDefaultSegmentBytes);
  size_t delivered = 0;
  absl::Time previous = absl::InfinitePast();
  for (const Segment& segment : segments) {
    ASSERT_GE(segment.deliver_at, previous);
    previous = segment.deliver_at;
    delivered += segment.bytes;
  }
  EXPECT_EQ(delivered, kTotal);
  // The first segment arrives after its own sending time, not the whole
  // transfer's.
  EXPECT_EQ(segments.front().deliver_at,
            kStart + latency + cap.TimeToSend(kDefaultSegmentBytes));
  double seconds =
      absl::ToDoubleSeconds(segments.back().deliver_at - kStart - latency);
  double bits_per_second = kTotal * 8 / seconds;
  EXPECT_NEAR(bits_per_second, 10e6, 10e6 * 0.03);
  // A writer that hands over 64 KiB at a time, each as soon as the previous
  // has left, sees the same rate.
  LinkDirection paced(Capped(latency, cap));
  absl::Time now = kStart;
  absl::Time last = kStart;
  for (size_t sent = 0; sent < kTotal; sent += 64 * 1024) {
    last = paced.Schedule(now, 64 * 1024);
    now = paced.idle_at();
  }
  EXPECT_NEAR(kTotal * 8 / absl::ToDoubleSeconds(last - kStart - latency),
              10e6, 10e6 * 0.03);
}

TEST(LinkDirection, TenThousandMessagesInFlightDoNotDrift) {
  // 100 bytes at 3 mbit/s take 266,666.67ns: rounding each message would
  // add 1/3ns per message.
  const Bandwidth cap = Bandwidth::BitsPerSecond(3'000'000);
  const absl::Duration latency = absl::Milliseconds(20);
  LinkDirection link(Capped(latency, cap));
  constexpr int kMessages = 10'000;
  absl::Time sent_at = kStart;
  absl::Time delivered = absl::InfinitePast();
  for (int i = 0; i < kMessages; ++i) {
    // Written every microsecond, far faster than they can leave: all 10,000
    // are in flight at once.
    sent_at = kStart + absl::Microseconds(i);
    delivered = link.Schedule(sent_at, 100);
  }
  // 10^6 bytes at 3 mbit/s: 8/3 s, rounded up once.
  const absl::Duration all = absl::Nanoseconds(2'666'666'667);
  EXPECT_EQ(all, cap.TimeToSend(kMessages * 100));
  EXPECT_EQ(delivered, kStart + latency + all);
  // Per-message rounding would have been visibly later.
  EXPECT_LT(delivered, kStart + latency + kMessages * cap.TimeToSend(100));
}

TEST(LinkDirection, SpacedMessagesEachSeeExactlyLatencyPlusSendingTime) {
  const Bandwidth cap = Bandwidth::BitsPerSecond(3'000'000);
  const absl::Duration latency = absl::Milliseconds(20);
  LinkDirection link(Capped(latency, cap));
  for (int i = 0; i < 10'000; ++i) {
    absl::Time sent_at = kStart + i * absl::Milliseconds(1);
    ASSERT_EQ(link.Schedule(sent_at, 100),
              sent_at + latency + cap.TimeToSend(100))
        << "message " << i;
  }
}

std::vector<absl::Time> JitteredDeliveries(uint64_t seed) {
  LinkConfig config;
  config.latency = absl::Milliseconds(10);
  config.jitter = absl::Milliseconds(5);
  config.seed = seed;
  LinkDirection link(config);
  std::vector<absl::Time> deliveries;
  for (int i = 0; i < 10'000; ++i) {
    deliveries.push_back(link.Schedule(kStart + i * absl::Microseconds(100), 1));
  }
  return deliveries;
}

TEST(LinkDirection, JitterVariesButNeverReorders) {
  std::vector<absl::Time> deliveries = JitteredDeliveries(7);
  std::set<absl::Duration> delays;
  for (size_t i = 0; i < deliveries.size(); ++i) {
    absl::Time sent_at = kStart + i * absl::Microseconds(100);
    absl::Duration delay = deliveries[i] - sent_at;
    ASSERT_GE(delay, absl::Milliseconds(10));
    ASSERT_LE(delay, absl::Milliseconds(15));
    if (i > 0) {
      ASSERT_GE(deliveries[i], deliveries[i - 1]) << i;
    }
    delays.insert(delay);
  }
  EXPECT_GT(delays.size(), 1000u);
  EXPECT_EQ(JitteredDeliveries(7), deliveries);
  EXPECT_NE(JitteredDeliveries(8), deliveries);
}

TEST(LinkDirection, JitterKeepsTheByteBound) {
  LinkConfig config = Capped(absl::Milliseconds(1), kByteEveryMicrosecond);
  config.jitter = absl::Milliseconds(3);
  LinkDirection link(config);
  LinkDirection unjittered(Capped(absl::Milliseconds(1), kByteEveryMicrosecond));
  std::mt19937_64 random(5);
  absl::Time now = kStart;
  absl::Time previous = absl::InfinitePast();
  for (int i = 0; i < 2000; ++i) {
    now += absl::Microseconds(random() % 3000);
    size_t bytes = random() % 3000;
    absl::Time bound = unjittered.Schedule(now, bytes);
    absl::Time got = link.Schedule(now, bytes);
    ASSERT_GE(got, bound);
    // At most the jitter late, unless held behind the write before it.
    ASSERT_LE(got, std::max(bound + config.jitter, previous));
    previous = got;
  }
}

TEST(LinkDirection, BurstSpendsSavedTokensButNotMore) {
  LinkConfig config = Capped(absl::Milliseconds(1), kByteEveryMicrosecond);
  config.burst_bytes = 10'000;
  LinkDirection link(config);
  // An idle link sends its first 10,000 bytes at once, but none before it
  // is written...
  EXPECT_EQ(link.Schedule(kStart, 4'000), kStart + absl::Milliseconds(1));
  EXPECT_EQ(link.Schedule(kStart, 6'000), kStart + absl::Milliseconds(1));
  // ...and then only at the cap.
  EXPECT_EQ(link.Schedule(kStart, 1000),
            kStart + absl::Milliseconds(1) + absl::Microseconds(1000));
  // Ten idle seconds save no more than the bucket holds.
  absl::Time later = kStart + absl::Seconds(10);
  EXPECT_EQ(link.Schedule(later, 1'000'000),
            later + absl::Milliseconds(1) + absl::Microseconds(990'000));
  // Half-refilled after 5ms idle: 5,000 bytes go at once.
  absl::Time refill = link.idle_at() + absl::Milliseconds(5);
  EXPECT_EQ(link.Schedule(refill, 6'000),
            refill + absl::Milliseconds(1) + absl::Microseconds(1000));
}

TEST(LinkDirection, EmptyWriteArrivesAfterEverythingBeforeIt) {
  LinkDirection link(Capped(absl::Milliseconds(2), kByteEveryMicrosecond));
  absl::Time data = link.Schedule(kStart, 5000);
  EXPECT_EQ(link.Schedule(kStart + absl::Microseconds(10), 0), data);
  std::vector<Segment> end = link.ScheduleChunks(kStart, 0);
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(end[0], (Segment{data, 0}));
}

TEST(LinkDirection, WithoutCapWritesArriveWholeAfterLatency) {
  LinkConfig config;
  config.latency = absl::Milliseconds(50);
  LinkDirection link(config);
  EXPECT_EQ(link.Schedule(kStart, 1 << 20), kStart + absl::Milliseconds(50));
  std::vector<Segment> segments =
      link.ScheduleChunks(kStart + absl::Seconds(1), 1 << 20);
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0], (Segment{kStart + absl::Seconds(1) +
                                      absl::Milliseconds(50),
                                  size_t{1} << 20}));
}

TEST(LinkDirection, TimeGoingBackwardsNeverReordersDeliveries) {
  LinkDirection link(Capped(absl::Milliseconds(1), kByteEveryMicrosecond));
  absl::Time first = link.Schedule(kStart + absl::Seconds(1), 100);
  absl::Time second = link.Schedule(kStart, 100);
  EXPECT_GE(second, first);
  EXPECT_EQ(second, first + absl::Microseconds(100));
}

TEST(LinkDirection, SubNanosecondTimesAreRoundedUpNotDown) {
  LinkDirection link(Capped(absl::ZeroDuration(), kByteEveryMicrosecond));
  absl::Time sent_at = kStart + absl::Nanoseconds(1) / 4;
  EXPECT_EQ(link.Schedule(sent_at, 1),
            kStart + absl::Microseconds(1) + absl::Nanoseconds(1));
}

TEST(ValidateLinkConfig, RefusesNegativeDelays) {
  LinkConfig config;
  EXPECT_TRUE(ValidateLinkConfig(config).ok());
  config.latency = -absl::Milliseconds(1);
  EXPECT_EQ(ValidateLinkConfig(config).code(),
            absl::StatusCode::kInvalidArgument);
  config.latency = absl::Milliseconds(1);
  config.jitter = absl::InfiniteDuration();
  absl::Status status = ValidateLinkConfig(config);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("jitter"), absl::string_view::npos);
}

TEST(LinkProfile, SymmetricSeedsTheDirectionsApart) {
  LinkConfig config = Capped(absl::Milliseconds(5), kByteEveryMicrosecond);
  config.seed = 40;
  LinkProfile profile = LinkProfile::Symmetric(config);
  EXPECT_EQ(profile.client_to_server.latency, absl::Milliseconds(5));
  EXPECT_EQ(profile.server_to_client.bandwidth, kByteEveryMicrosecond);
  EXPECT_EQ(profile.client_to_server.seed, 40u);
  EXPECT_NE(profile.server_to_client.seed, 40u);
}

TEST(LinkDirectionDeathTest, RefusesAnInvalidConfig) {
  LinkConfig config;
  config.latency = -absl::Seconds(1);
  EXPECT_DEATH(LinkDirection{config}, "latency");
}

}  // namespace
}  // namespace asyncwork::sim
