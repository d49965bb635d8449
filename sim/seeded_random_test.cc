#include "sim/seeded_random.h"

#include <cstdint>
#include <algorithm>
#include <set>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace asyncwork::sim {
namespace {

TEST(SeededRandom, SameSeedSameSequence) {
  SeededRandom a(7);
  SeededRandom b(7);
  SeededRandom c(8);
  int differences = 0;
  for (int i = 0; i < 1000; ++i) {
    absl::Duration from_a = a.UpTo(absl::Milliseconds(10));
    EXPECT_EQ(from_a, b.UpTo(absl::Milliseconds(10)));
    if (from_a != c.UpTo(absl::Milliseconds(10))) ++differences;
  }
  EXPECT_GT(differences, 990);
}

TEST(SeededRandom, UpToStaysInRangeAndSpreads) {
  SeededRandom random(1);
  const absl::Duration max = absl::Microseconds(100);
  absl::Duration smallest = absl::InfiniteDuration();
  absl::Duration largest = absl::ZeroDuration();
  std::set<int64_t> tenths;
  for (int i = 0; i < 10'000; ++i) {
    absl::Duration d = random.UpTo(max);
    ASSERT_GE(d, absl::ZeroDuration());
    ASSERT_LE(d, max);
    smallest = std::min(smallest, d);
    largest = std::max(largest, d);
    tenths.insert(absl::ToInt64Nanoseconds(d) * 10 /
                  absl::ToInt64Nanoseconds(max));
  }
  // 10,000 uniform draws reach within 1% of both ends and hit every tenth.
  EXPECT_LT(smallest, absl::Microseconds(1));
  EXPECT_GT(largest, absl::Microseconds(99));
  EXPECT_EQ(tenths.size(), 10u);
  EXPECT_EQ(random.UpTo(absl::ZeroDuration()), absl::ZeroDuration());
}

TEST(SeededRandom, ChanceMatchesProbability) {
  SeededRandom random(3);
  int hits = 0;
  constexpr int kDraws = 100'000;
  for (int i = 0; i < kDraws; ++i) hits += random.Chance(0.3) ? 1 : 0;
  // Standard deviation is sqrt(n p (1-p)) ~ 145; allow over 6 of them.
  EXPECT_NEAR(hits, 30'000, 900);
  EXPECT_FALSE(random.Chance(0));
  EXPECT_TRUE(random.Chance(1));
}

TEST(SeededRandom, FixedAnswersStillConsumeADraw) {
  SeededRandom a(5);
  SeededRandom b(5);
  a.Chance(0);
  b.Chance(0.5);
  EXPECT_EQ(a.UpTo(absl::Seconds(1)), b.UpTo(absl::Seconds(1)));
}

}  // namespace
}  // namespace asyncwork::sim
