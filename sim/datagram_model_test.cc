#include "sim/datagram_model.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "sim/link_model.h"
#include "sim/units.h"

namespace asyncwork::sim {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'000'000);
constexpr int kSamples = 100'000;

// Sends kSamples datagrams one every 10us and returns every delivery, with
// the index of the datagram it belongs to.
struct Outcome {
  int datagram;
  Delivery delivery;

  friend bool operator==(const Outcome& a, const Outcome& b) = default;
};

std::vector<Outcome> SendAll(DatagramDirection& direction, int count = kSamples) {
  std::vector<Outcome> outcomes;
  for (int i = 0; i < count; ++i) {
    for (const Delivery& d :
         direction.OnSend(kStart + i * absl::Microseconds(10), 100)) {
      outcomes.push_back(Outcome{i, d});
    }
  }
  return outcomes;
}

DatagramConfig Lossy(uint64_t seed) {
  DatagramConfig config;
  config.link.latency = absl::Milliseconds(5);
  config.link.seed = seed;
  config.loss = 0.1;
  config.duplicate = 0.05;
  config.reorder = 0.02;
  config.reorder_delay = absl::Milliseconds(1);
  return config;
}

TEST(DatagramDirection, RatesMatchTheConfiguredProbabilities) {
  DatagramDirection direction(Lossy(1));
  std::vector<Outcome> outcomes = SendAll(direction);
  const DatagramStats& stats = direction.stats();
  EXPECT_EQ(stats.sent, static_cast<uint64_t>(kSamples));
  // Binomial standard deviations: loss ~95, duplicates and reorders of the
  // 90,000 survivors ~65 and ~42. The bounds allow about 6 of them.
  EXPECT_NEAR(static_cast<double>(stats.lost), 10'000, 600);
  EXPECT_NEAR(static_cast<double>(stats.duplicated), 4'500, 400);
  EXPECT_NEAR(static_cast<double>(stats.reordered), 1'800, 250);
  // Every survivor is delivered once, and once more if duplicated.
  EXPECT_EQ(outcomes.size(), stats.sent - stats.lost + stats.duplicated);
}

TEST(DatagramDirection, DeliveriesAreWhatTheStatsSay) {
  DatagramDirection direction(Lossy(2));
  std::vector<Outcome> outcomes = SendAll(direction, 10'000);
  uint64_t duplicates = 0;
  uint64_t reordered = 0;
  for (const Outcome& o : outcomes) {
    absl::Time sent_at = kStart + o.datagram * absl::Microseconds(10);
    absl::Duration delay = o.delivery.at - sent_at;
    EXPECT_GE(delay, absl::Milliseconds(5));
    if (o.delivery.reordered) {
      ++reordered;
      EXPECT_GE(delay, absl::Milliseconds(6));
    }
    if (o.delivery.duplicate) ++duplicates;
  }
  EXPECT_EQ(duplicates, direction.stats().duplicated);
  EXPECT_EQ(reordered, direction.stats().reordered);
  EXPECT_GT(duplicates, 0u);
  EXPECT_GT(reordered, 0u);
}

TEST(DatagramDirection, ReorderedDatagramsAreOvertaken) {
  DatagramDirection direction(Lossy(3));
  std::vector<Outcome> outcomes = SendAll(direction, 10'000);
  // Some datagram sent later arrives before one sent earlier.
  int overtaken = 0;
  absl::Time latest = absl::InfinitePast();
  for (const Outcome& o : outcomes) {
    if (o.delivery.at < latest) ++overtaken;
    latest = std::max(latest, o.delivery.at);
  }
  EXPECT_GT(overtaken, 0);
  // Without reordering (and without jitter) arrival order is send order.
  DatagramConfig in_order = Lossy(3);
  in_order.reorder = 0;
  DatagramDirection straight(in_order);
  absl::Time previous = absl::InfinitePast();
  for (const Outcome& o : SendAll(straight, 10'000)) {
    ASSERT_GE(o.delivery.at, previous);
    previous = o.delivery.at;
  }
}

TEST(DatagramDirection, SameSeedSameFate) {
  DatagramDirection a(Lossy(42));
  DatagramDirection b(Lossy(42));
  DatagramDirection c(Lossy(43));
  std::vector<Outcome> from_a = SendAll(a, 10'000);
  EXPECT_EQ(from_a, SendAll(b, 10'000));
  EXPECT_NE(from_a, SendAll(c, 10'000));
}

TEST(DatagramDirection, JitterDoesNotChangeWhichDatagramsAreLost) {
  DatagramConfig plain = Lossy(9);
  DatagramConfig jittered = Lossy(9);
  jittered.link.jitter = absl::Milliseconds(2);
  DatagramDirection a(plain);
  DatagramDirection b(jittered);
  for (int i = 0; i < 10'000; ++i) {
    absl::Time at = kStart + i * absl::Microseconds(10);
    ASSERT_EQ(a.OnSend(at, 100).size(), b.OnSend(at, 100).size()) << i;
  }
}

TEST(DatagramDirection, LostDatagramsTakeNoBandwidthButDuplicatesDo) {
  DatagramConfig config;
  config.link.bandwidth = Bandwidth::BitsPerSecond(8'000'000);
  config.loss = 1;
  DatagramDirection lossy(config);
  EXPECT_TRUE(lossy.OnSend(kStart, 1000).empty());

  config.loss = 0;
  config.duplicate = 1;
  DatagramDirection doubled(config);
  Deliveries both = doubled.OnSend(kStart, 1000);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0], (Delivery{kStart + absl::Microseconds(1000), false,
                               false}));
  EXPECT_EQ(both[1], (Delivery{kStart + absl::Microseconds(2000), true,
                               false}));
}

TEST(ValidateDatagramConfig, RefusesImpossibleSettings) {
  DatagramConfig config;
  EXPECT_TRUE(ValidateDatagramConfig(config).ok());
  config.loss = 1.5;
  EXPECT_NE(ValidateDatagramConfig(config).message().find("loss"),
            absl::string_view::npos);
  config.loss = 0;
  config.duplicate = -0.1;
  EXPECT_NE(ValidateDatagramConfig(config).message().find("duplicate"),
            absl::string_view::npos);
  config.duplicate = 0;
  config.reorder = 0.5;
  EXPECT_NE(ValidateDatagramConfig(config).message().find("reorder_delay"),
            absl::string_view::npos);
  config.reorder_delay = absl::Milliseconds(1);
  EXPECT_TRUE(ValidateDatagramConfig(config).ok());
  config.link.jitter = -absl::Milliseconds(1);
  EXPECT_NE(ValidateDatagramConfig(config).message().find("jitter"),
            absl::string_view::npos);
}

TEST(DatagramProfile, SymmetricSeedsTheDirectionsApart) {
  DatagramConfig config;
  config.link.latency = absl::Milliseconds(3);
  config.loss = 0.25;
  config.link.seed = 7;
  DatagramProfile profile = DatagramProfile::Symmetric(config);
  EXPECT_EQ(profile.server_to_client.link.latency, absl::Milliseconds(3));
  EXPECT_EQ(profile.server_to_client.loss, 0.25);
  EXPECT_EQ(profile.client_to_server.link.seed, 7u);
  EXPECT_NE(profile.server_to_client.link.seed, 7u);
}

}  // namespace
}  // namespace asyncwork::sim
