#include "net/timer_queue.h"

#include <algorithm>
#include <functional>
#include <random>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace asyncwork::net {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1000000);

TEST(TimerQueue, ThousandRandomTimersFireInDeadlineOrder) {
  TimerQueue timers;
  std::mt19937 random(42);
  std::uniform_int_distribution<int> offset_ms(0, 10000);
  std::vector<absl::Time> fired;
  for (int i = 0; i < 1000; ++i) {
    absl::Time deadline = kStart + absl::Milliseconds(offset_ms(random));
    timers.Add(deadline, absl::ZeroDuration(),
               [&fired, deadline] { fired.push_back(deadline); });
  }
  EXPECT_EQ(timers.size(), 1000u);
  // Advance in uneven steps so several RunDue calls each take a slice.
  size_t ran = 0;
  for (absl::Time now = kStart; now <= kStart + absl::Seconds(11);
       now += absl::Milliseconds(777)) {
    size_t before = fired.size();
    ran += timers.RunDue(now);
    for (size_t i = before; i < fired.size(); ++i) EXPECT_LE(fired[i], now);
    if (!timers.empty()) {
      EXPECT_GT(timers.NextDeadline(), now);
    }
  }
  EXPECT_EQ(ran, 1000u);
  ASSERT_EQ(fired.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(fired.begin(), fired.end()));
  EXPECT_TRUE(timers.empty());
  EXPECT_EQ(timers.NextDeadline(), absl::InfiniteFuture());
}

TEST(TimerQueue, EqualDeadlinesFireInAddOrder) {
  TimerQueue timers;
  std::vector<int> order;
  for (int i = 0; i < 50; ++i) {
    timers.Add(kStart, absl::ZeroDuration(), [&order, i] { order.push_back(i); });
  }
  timers.RunDue(kStart);
  ASSERT_EQ(order.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
}

TEST(TimerQueue, NotDueTimerDoesNotFire) {
  TimerQueue timers;
  int calls = 0;
  timers.Add(kStart + absl::Seconds(1), absl::ZeroDuration(), [&] { ++calls; });
  EXPECT_EQ(timers.RunDue(kStart + absl::Milliseconds(999)), 0u);
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(timers.NextDeadline(), kStart + absl::Seconds(1));
  EXPECT_EQ(timers.RunDue(kStart + absl::Seconds(1)), 1u);
  EXPECT_EQ(calls, 1);
}

TEST(TimerQueue, CancelRemovesTimerAndReturnsTrueOnce) {
  TimerQueue timers;
  int calls = 0;
  TimerId id = timers.Add(kStart, absl::ZeroDuration(), [&] { ++calls; });
  TimerId other = timers.Add(kStart + absl::Seconds(2), absl::ZeroDuration(), [] {});
  EXPECT_TRUE(timers.Cancel(id));
  EXPECT_FALSE(timers.Cancel(id));
  EXPECT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers.NextDeadline(), kStart + absl::Seconds(2));
  timers.RunDue(kStart + absl::Seconds(1));
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(timers.Cancel(other));
  EXPECT_FALSE(timers.Cancel(TimerId()));
}

TEST(TimerQueue, CancelInTheMiddleKeepsHeapOrder) {
  TimerQueue timers;
  std::vector<int> fired;
  std::vector<TimerId> ids;
  for (int i = 0; i < 200; ++i) {
    // Deadlines in a scrambled order, so cancelling hits inner heap nodes.
    int ms = (i * 37) % 200;
    ids.push_back(timers.Add(kStart + absl::Milliseconds(ms), absl::ZeroDuration(),
                             [&fired, ms] { fired.push_back(ms); }));
  }
  for (int i = 0; i < 200; i += 3) EXPECT_TRUE(timers.Cancel(ids[i]));
  timers.RunDue(kStart + absl::Seconds(1));
  EXPECT_EQ(fired.size(), 200u - 67u);
  EXPECT_TRUE(std::is_sorted(fired.begin(), fired.end()));
}

TEST(TimerQueue, StaleIdDoesNotCancelNewerTimerInSameSlot) {
  TimerQueue timers;
  TimerId first = timers.Add(kStart, absl::ZeroDuration(), [] {});
  EXPECT_EQ(timers.RunDue(kStart), 1u);
  int calls = 0;
  // The freed slot is reused by the next Add.
  TimerId second = timers.Add(kStart, absl::ZeroDuration(), [&] { ++calls; });
  EXPECT_NE(first, second);
  EXPECT_FALSE(timers.Cancel(first));
  EXPECT_EQ(timers.RunDue(kStart), 1u);
  EXPECT_EQ(calls, 1);
}

TEST(TimerQueue, RepeatingTimerFiresEachIntervalUntilCancelled) {
  TimerQueue timers;
  int calls = 0;
  TimerId id;
  id = timers.Add(kStart + absl::Seconds(1), absl::Seconds(1), [&] {
    if (++calls == 5) {
      EXPECT_TRUE(timers.Cancel(id));
    }
  });
  for (int s = 1; s <= 10; ++s) timers.RunDue(kStart + absl::Seconds(s));
  EXPECT_EQ(calls, 5);
  EXPECT_TRUE(timers.empty());
  EXPECT_FALSE(timers.Cancel(id));
}

TEST(TimerQueue, RepeatingTimerSkipsMissedTicks) {
  TimerQueue timers;
  int calls = 0;
  timers.Add(kStart + absl::Seconds(1), absl::Seconds(1), [&] { ++calls; });
  // Ten intervals late: one call, then the next tick is an interval later.
  EXPECT_EQ(timers.RunDue(kStart + absl::Seconds(10)), 1u);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(timers.NextDeadline(), kStart + absl::Seconds(11));
}

TEST(TimerQueue, OneShotCancellingItselfReturnsFalse) {
  TimerQueue timers;
  TimerId id;
  bool cancelled = true;
  id = timers.Add(kStart, absl::ZeroDuration(), [&] { cancelled = timers.Cancel(id); });
  timers.RunDue(kStart);
  EXPECT_FALSE(cancelled);
  EXPECT_TRUE(timers.empty());
}

TEST(TimerQueue, CallbackCancelsLaterDueTimerInSameBatch) {
  TimerQueue timers;
  int later_calls = 0;
  TimerId later;
  timers.Add(kStart, absl::ZeroDuration(), [&] { EXPECT_TRUE(timers.Cancel(later)); });
  later = timers.Add(kStart + absl::Milliseconds(1), absl::ZeroDuration(),
                     [&] { ++later_calls; });
  EXPECT_EQ(timers.RunDue(kStart + absl::Seconds(1)), 1u);
  EXPECT_EQ(later_calls, 0);
  EXPECT_TRUE(timers.empty());
}

TEST(TimerQueue, TimerAddedByCallbackWaitsForNextRun) {
  TimerQueue timers;
  int calls = 0;
  std::function<void()> again = [&] {
    ++calls;
    timers.Add(kStart, absl::ZeroDuration(), again);
  };
  timers.Add(kStart, absl::ZeroDuration(), again);
  EXPECT_EQ(timers.RunDue(kStart), 1u);
  EXPECT_EQ(timers.RunDue(kStart), 1u);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(timers.size(), 1u);
}

TEST(TimerQueue, ClearDropsEverythingAndStalesIds) {
  TimerQueue timers;
  int calls = 0;
  TimerId id = timers.Add(kStart, absl::ZeroDuration(), [&] { ++calls; });
  timers.Add(kStart, absl::Seconds(1), [&] { ++calls; });
  timers.Clear();
  EXPECT_TRUE(timers.empty());
  EXPECT_FALSE(timers.Cancel(id));
  EXPECT_EQ(timers.RunDue(kStart + absl::Seconds(5)), 0u);
  EXPECT_EQ(calls, 0);
  timers.Add(kStart, absl::ZeroDuration(), [&] { ++calls; });
  EXPECT_EQ(timers.RunDue(kStart), 1u);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace asyncwork::net
