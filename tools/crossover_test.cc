#include "tools/crossover.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace asyncwork::tools {
namespace {

using ::testing::IsEmpty;
using ::testing::SizeIs;

GridPoint At(double latency_us, double in_flight, double cost) {
  return GridPoint{{latency_us, in_flight, cost}};
}

TEST(FindCrossovers, FindsTheWindowWhereOneStrategyOvertakesAnother) {
  const std::vector<StrategyRate> rates = {
      {"threaded", At(1000, 4, 0), 900},
      {"callback", At(1000, 4, 0), 800},
      {"threaded", At(1000, 64, 0), 2000},
      {"callback", At(1000, 64, 0), 9000},
  };
  const std::vector<Crossover> found = FindCrossovers(rates);
  ASSERT_THAT(found, SizeIs(1));
  const Crossover& c = found[0];
  EXPECT_EQ(c.overtaker, "callback");
  EXPECT_EQ(c.overtaken, "threaded");
  EXPECT_EQ(c.axis, SweepAxis::kInFlight);
  EXPECT_EQ(c.from, 4);
  EXPECT_EQ(c.to, 64);
  EXPECT_EQ(c.where, At(1000, 4, 0));
  EXPECT_DOUBLE_EQ(c.ratio_from, 800.0 / 900);
  EXPECT_DOUBLE_EQ(c.ratio_to, 4.5);
}

TEST(FindCrossovers, NoneWhileTheOrderHolds) {
  const std::vector<StrategyRate> rates = {
      {"blocking", At(0, 1, 0), 100},  {"callback", At(0, 1, 0), 200},
      {"blocking", At(0, 8, 0), 100},  {"callback", At(0, 8, 0), 900},
      {"blocking", At(0, 64, 0), 100}, {"callback", At(0, 64, 0), 5000},
  };
  EXPECT_THAT(FindCrossovers(rates), IsEmpty());
}

TEST(FindCrossovers, NoiseWithinTheToleranceIsATie) {
  const std::vector<StrategyRate> rates = {
      {"a", At(0, 1, 0), 102},
      {"b", At(0, 1, 0), 100},
      {"a", At(0, 2, 0), 100},
      {"b", At(0, 2, 0), 103},
  };
  EXPECT_THAT(FindCrossovers(rates, 0.05), IsEmpty());
  // With no tolerance the same numbers do cross.
  EXPECT_THAT(FindCrossovers(rates, 0.0), SizeIs(1));
}

TEST(FindCrossovers, PullingAheadFromATieCounts) {
  // Equal at window 1, as every strategy is with one request in flight;
  // callback leads at 8.
  const std::vector<StrategyRate> rates = {
      {"blocking", At(1000, 1, 0), 400},
      {"callback", At(1000, 1, 0), 380},
      {"blocking", At(1000, 8, 0), 390},
      {"callback", At(1000, 8, 0), 2900},
  };
  const std::vector<Crossover> found = FindCrossovers(rates);
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_EQ(found[0].overtaker, "callback");
  EXPECT_DOUBLE_EQ(found[0].ratio_from, 0.95);
}

TEST(FindCrossovers, ComparesNeighbouringValuesOnly) {
  // a trails, ties, then leads: the crossover is the step from the tie.
  const std::vector<StrategyRate> rates = {
      {"a", At(0, 1, 0), 50},  {"b", At(0, 1, 0), 100}, {"a", At(0, 2, 0), 100},
      {"b", At(0, 2, 0), 101}, {"a", At(0, 4, 0), 300}, {"b", At(0, 4, 0), 100},
  };
  const std::vector<Crossover> found = FindCrossovers(rates);
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_EQ(found[0].overtaker, "a");
  EXPECT_EQ(found[0].from, 2);
  EXPECT_EQ(found[0].to, 4);
}

TEST(FindCrossovers, ReportsEachChangeOfLeadAlongTheAxis) {
  const std::vector<StrategyRate> rates = {
      {"a", At(0, 0, 0), 50},   {"b", At(0, 0, 0), 100},
      {"a", At(0, 0, 10), 200}, {"b", At(0, 0, 10), 100},
      {"a", At(0, 0, 20), 50},  {"b", At(0, 0, 20), 100},
  };
  const std::vector<Crossover> found = FindCrossovers(rates);
  ASSERT_THAT(found, SizeIs(2));
  EXPECT_EQ(found[0].axis, SweepAxis::kCost);
  EXPECT_EQ(found[0].overtaker, "a");
  EXPECT_EQ(found[0].from, 0);
  EXPECT_EQ(found[0].to, 10);
  EXPECT_EQ(found[1].overtaker, "b");
  EXPECT_EQ(found[1].from, 10);
  EXPECT_EQ(found[1].to, 20);
}

TEST(FindCrossovers, KeepsEachLineOfTheGridApart) {
  // Along latency, at window 1 nothing changes; at window 32 callback
  // overtakes threaded. The two lines must not be mixed.
  const std::vector<StrategyRate> rates = {
      {"threaded", At(0, 1, 0), 100},     {"callback", At(0, 1, 0), 50},
      {"threaded", At(5000, 1, 0), 90},   {"callback", At(5000, 1, 0), 40},
      {"threaded", At(0, 32, 0), 1000},   {"callback", At(0, 32, 0), 500},
      {"threaded", At(5000, 32, 0), 600}, {"callback", At(5000, 32, 0), 3000},
  };
  std::vector<Crossover> along_latency;
  for (const Crossover& c : FindCrossovers(rates)) {
    if (c.axis == SweepAxis::kLatency) along_latency.push_back(c);
  }
  ASSERT_THAT(along_latency, SizeIs(1));
  EXPECT_EQ(along_latency[0].where, At(0, 32, 0));
  EXPECT_EQ(along_latency[0].to, 5000);
}

TEST(FindCrossovers, SkipsValuesWhereAStrategyIsMissingOrIdle) {
  const std::vector<StrategyRate> rates = {
      {"a", At(0, 1, 0), 50},   {"b", At(0, 1, 0), 100},
      {"a", At(0, 2, 0), 1000},  // b missing at 2
      {"a", At(0, 4, 0), 0},    {"b", At(0, 4, 0), 100},
      {"a", At(0, 8, 0), 300},  {"b", At(0, 8, 0), 100},
  };
  const std::vector<Crossover> found = FindCrossovers(rates);
  ASSERT_THAT(found, SizeIs(1));
  EXPECT_EQ(found[0].from, 1);
  EXPECT_EQ(found[0].to, 8);
}

TEST(GroupCrossovers, OneLinePerStrategyLeftBehindFastestFirst) {
  const std::vector<StrategyRate> rates = {
      {"blocking", At(1000, 1, 0), 400},  {"threaded", At(1000, 1, 0), 360},
      {"callback", At(1000, 1, 0), 380},  {"blocking", At(1000, 8, 0), 390},
      {"threaded", At(1000, 8, 0), 2700}, {"callback", At(1000, 8, 0), 2900},
  };
  const std::vector<CrossoverGroup> groups =
      GroupCrossovers(FindCrossovers(rates));
  ASSERT_THAT(groups, SizeIs(1));
  const CrossoverGroup& g = groups[0];
  EXPECT_EQ(g.overtaken, "blocking");
  EXPECT_EQ(g.axis, SweepAxis::kInFlight);
  ASSERT_THAT(g.overtakers, SizeIs(2));
  EXPECT_EQ(g.overtakers[0].overtaker, "callback");
  EXPECT_EQ(g.overtakers[1].overtaker, "threaded");
  EXPECT_EQ(DescribeCrossoverGroup(g),
            "window 1 -> 8 (latency 1 ms, cost 0): blocking falls behind "
            "callback (0.95x -> 7.4x), threaded (0.9x -> 6.9x)");
}

TEST(GroupCrossovers, KeepsDifferentStepsApart) {
  const std::vector<StrategyRate> rates = {
      {"a", At(0, 1, 0), 100},    {"b", At(0, 1, 0), 100},
      {"a", At(0, 8, 0), 800},    {"b", At(0, 8, 0), 100},
      {"a", At(5000, 1, 0), 100}, {"b", At(5000, 1, 0), 100},
      {"a", At(5000, 8, 0), 800}, {"b", At(5000, 8, 0), 100},
  };
  const std::vector<CrossoverGroup> groups =
      GroupCrossovers(FindCrossovers(rates));
  ASSERT_THAT(groups, SizeIs(2));
  EXPECT_EQ(DescribeCrossoverGroup(groups[1]),
            "window 1 -> 8 (latency 5 ms, cost 0): b falls behind a "
            "(1x -> 8x)");
}

TEST(FormatAxisValue, LatencyAsADurationOthersAsNumbers) {
  EXPECT_EQ(FormatAxisValue(SweepAxis::kLatency, 0), "0");
  EXPECT_EQ(FormatAxisValue(SweepAxis::kLatency, 250), "250 us");
  EXPECT_EQ(FormatAxisValue(SweepAxis::kLatency, 10000), "10 ms");
  EXPECT_EQ(FormatAxisValue(SweepAxis::kInFlight, 64), "64");
  EXPECT_EQ(FormatAxisValue(SweepAxis::kCost, 1000), "1000");
}

}  // namespace
}  // namespace asyncwork::tools
