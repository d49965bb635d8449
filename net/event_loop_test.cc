#include "net/event_loop.h"

#include <algorithm>
#include <atomic>
#include <future>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "net/check.h"
#include "net/io_watch.h"
#include "net/reactor_test_util.h"
#include "net/test_util.h"

namespace asyncwork::net {
namespace {

using ::asyncwork::net::testing::CountOpenFds;
using ::asyncwork::net::testing::MakeEventFd;
using ::asyncwork::net::testing::RunUntil;

std::unique_ptr<EventLoop> MakeLoop(Backend backend = Backend::kEpoll) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(backend);
  EXPECT_TRUE(loop.ok()) << loop.status();
  return loop.ok() ? *std::move(loop) : nullptr;
}

TEST(EventLoop, CreatesEachBackend) {
  for (Backend backend : kAllBackends) {
    std::unique_ptr<EventLoop> loop = MakeLoop(backend);
    ASSERT_NE(loop, nullptr);
    EXPECT_EQ(loop->backend(), backend);
    EXPECT_EQ(loop->watch_count(), 0u);
    EXPECT_TRUE(loop->IsInLoopThread());
  }
}

TEST(EventLoop, RunOnceWithNothingReadyReturnsAfterMaxWait) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  absl::Time start = absl::Now();
  EXPECT_TRUE(loop->RunOnce(absl::Milliseconds(20)).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(19));
  EXPECT_GE(loop->Now(), start);
}

TEST(EventLoop, ThousandTimersWithRandomDelaysFireInDeadlineOrder) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  std::mt19937 random(7);
  std::uniform_int_distribution<int> delay_us(0, 30000);
  std::vector<absl::Time> fired;
  absl::Time base = absl::Now();
  for (int i = 0; i < 1000; ++i) {
    absl::Time deadline = base + absl::Microseconds(delay_us(random));
    loop->RunAt(deadline, [&fired, deadline, &loop] {
      EXPECT_GE(loop->Now(), deadline);
      fired.push_back(deadline);
    });
  }
  EXPECT_EQ(loop->timer_count(), 1000u);
  ASSERT_TRUE(RunUntil(*loop, [&] { return fired.size() == 1000; }));
  EXPECT_TRUE(std::is_sorted(fired.begin(), fired.end()));
  EXPECT_EQ(loop->timer_count(), 0u);
}

TEST(EventLoop, RunWakesForTimerWithoutOtherEvents) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  int calls = 0;
  loop->RunAfter(absl::Milliseconds(5), [&] {
    ++calls;
    loop->Stop();
  });
  // Safety net: a timer that never wakes the loop fails instead of hanging.
  loop->RunAfter(absl::Seconds(20), [&] { loop->Stop(); });
  loop->Run();
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, RepeatingTimerFiresNTimesThenCancelsItself) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  int calls = 0;
  TimerId id;
  id = loop->RunEvery(absl::Milliseconds(1), [&] {
    if (++calls == 5) {
      EXPECT_TRUE(loop->Cancel(id));
      // Wait a few more intervals to show it stays cancelled.
      loop->RunAfter(absl::Milliseconds(20), [&] { loop->Stop(); });
    }
  });
  loop->RunAfter(absl::Seconds(20), [&] { loop->Stop(); });
  loop->Run();
  EXPECT_EQ(calls, 5);
  EXPECT_FALSE(loop->Cancel(id));
}

TEST(EventLoop, CallbackCancelsAnotherPendingTimer) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  int victim_calls = 0;
  TimerId victim = loop->RunAfter(absl::Milliseconds(30), [&] { ++victim_calls; });
  bool cancelled = false;
  loop->RunAfter(absl::Milliseconds(1), [&] { cancelled = loop->Cancel(victim); });
  ASSERT_TRUE(RunUntil(*loop, [&] { return loop->timer_count() == 0; }));
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(victim_calls, 0);
}

TEST(EventLoop, StaleTimerIdDoesNotCancelNewerTimer) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  bool first_fired = false;
  TimerId first = loop->RunAfter(absl::ZeroDuration(), [&] { first_fired = true; });
  ASSERT_TRUE(RunUntil(*loop, [&] { return first_fired; }));
  bool second_fired = false;
  TimerId second = loop->RunAfter(absl::Milliseconds(1), [&] { second_fired = true; });
  EXPECT_NE(first, second);
  EXPECT_FALSE(loop->Cancel(first));
  EXPECT_TRUE(RunUntil(*loop, [&] { return second_fired; }));
}

TEST(EventLoop, PostFromFourThreadsRunsEveryTaskOnceOnLoopThread) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  constexpr int kThreads = 4;
  constexpr int kTasksPerThread = 1000;
  std::vector<int> runs(kThreads * kTasksPerThread, 0);  // loop thread only
  int total = 0;
  int off_thread = 0;
  std::vector<int> last_seen(kThreads, -1);
  int out_of_order = 0;
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t) {
    posters.emplace_back([&, t] {
      for (int i = 0; i < kTasksPerThread; ++i) {
        loop->Post([&, t, i] {
          if (!loop->IsInLoopThread()) ++off_thread;
          if (i <= last_seen[t]) ++out_of_order;
          last_seen[t] = i;
          ++runs[t * kTasksPerThread + i];
          if (++total == kThreads * kTasksPerThread) loop->Stop();
        });
      }
    });
  }
  loop->RunAfter(absl::Seconds(20), [&] { loop->Stop(); });
  loop->Run();
  for (std::thread& poster : posters) poster.join();
  EXPECT_EQ(total, kThreads * kTasksPerThread);
  EXPECT_EQ(off_thread, 0);
  EXPECT_EQ(out_of_order, 0);
  EXPECT_EQ(std::count(runs.begin(), runs.end(), 1), kThreads * kTasksPerThread);
}

TEST(EventLoop, StopFromAnotherThreadEndsRunPromptly) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  std::promise<void> running;
  std::promise<void> returned;
  loop->Post([&] { running.set_value(); });
  std::thread runner([&] {
    loop->Run();
    returned.set_value();
  });
  ASSERT_EQ(running.get_future().wait_for(std::chrono::seconds(20)),
            std::future_status::ready);
  EXPECT_FALSE(loop->IsInLoopThread());
  // The loop now blocks in its wait with no timer: only Stop's wake-up can
  // end it.
  loop->Stop();
  std::future<void> done = returned.get_future();
  bool stopped = done.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  // The runner cannot be joined if Stop was lost, so fail by aborting.
  ASYNCWORK_CHECK(stopped) << "Run did not return within 20 s of Stop";
  runner.join();
}

TEST(EventLoop, StopBeforeRunMakesRunReturnAndRunCanRestart) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  loop->Stop();
  loop->Run();  // returns at once
  int calls = 0;
  loop->RunAfter(absl::Milliseconds(1), [&] {
    ++calls;
    loop->Stop();
  });
  loop->Run();
  EXPECT_EQ(calls, 1);
}

TEST(EventLoop, LoopHandsOverToThreadThatRunsItAndBack) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  std::atomic<bool> in_thread{false};
  std::thread runner([&] {
    EXPECT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
    in_thread = loop->IsInLoopThread();
  });
  runner.join();
  EXPECT_TRUE(in_thread);
  // After joining the runner, the test thread may use the loop again.
  EXPECT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_TRUE(loop->IsInLoopThread());
}

class Tracked {
 public:
  Tracked(int* destroyed) : destroyed_(destroyed) {}
  ~Tracked() { ++*destroyed_; }

 private:
  int* destroyed_;
};

TEST(EventLoop, DeleteLaterDestroysAfterTheCallbackReturns) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  int destroyed = 0;
  auto object = std::make_unique<Tracked>(&destroyed);
  int destroyed_inside = -1;
  loop->Post([&] {
    loop->DeleteLater(std::move(object));
    destroyed_inside = destroyed;
  });
  ASSERT_TRUE(loop->RunOnce(absl::Seconds(5)).ok());
  EXPECT_EQ(destroyed_inside, 0);
  EXPECT_EQ(destroyed, 1);
}

TEST(EventLoop, DestructorDestroysPendingWorkWithoutRunningIt) {
  int destroyed = 0;
  int ran = 0;
  {
    std::unique_ptr<EventLoop> loop = MakeLoop();
    loop->DeleteLater(std::make_unique<Tracked>(&destroyed));
    auto in_task = std::make_shared<Tracked>(&destroyed);
    loop->Post([in_task, &ran] { ++ran; });
    in_task.reset();
    auto in_timer = std::make_shared<Tracked>(&destroyed);
    loop->RunAfter(absl::Hours(1), [in_timer, &ran] { ++ran; });
    in_timer.reset();
  }
  EXPECT_EQ(destroyed, 3);
  EXPECT_EQ(ran, 0);
}

TEST(EventLoop, NowIsFixedWithinAnIterationAndAdvancesAcrossThem) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  std::vector<absl::Time> seen;
  loop->Post([&] { seen.push_back(loop->Now()); });
  loop->Post([&] { seen.push_back(loop->Now()); });
  ASSERT_TRUE(loop->RunOnce(absl::Seconds(5)).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], seen[1]);
  absl::SleepFor(absl::Milliseconds(2));
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_GT(loop->Now(), seen[0]);
}

TEST(EventLoop, ThousandLoopsOfEachBackendLeaveNoFdOpen) {
  int before = CountOpenFds();
  for (Backend backend : kAllBackends) {
    for (int i = 0; i < 1000; ++i) {
      std::unique_ptr<EventLoop> loop = MakeLoop(backend);
      ASSERT_NE(loop, nullptr);
    }
  }
  EXPECT_EQ(CountOpenFds(), before);
}

TEST(EventLoopDeathTest, UseFromAnotherThreadWhileRunningAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        std::unique_ptr<EventLoop> loop = MakeLoop();
        std::promise<void> running;
        loop->Post([&] { running.set_value(); });
        std::thread runner([&] { loop->Run(); });
        running.get_future().wait();
        loop->RunAfter(absl::Seconds(1), [] {});
        runner.join();
      },
      "off its thread");
}

TEST(EventLoopDeathTest, RunOnceInsideCallbackAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        std::unique_ptr<EventLoop> loop = MakeLoop();
        loop->Post([&] { (void)loop->RunOnce(absl::ZeroDuration()); });
        (void)loop->RunOnce(absl::Seconds(1));
      },
      "inside a callback");
}

TEST(EventLoopDeathTest, DestroyingLoopWithActiveWatchAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Fd fd = MakeEventFd();
        std::unique_ptr<EventLoop> loop = MakeLoop();
        auto watch = std::make_unique<IoWatch>(loop.get(), fd.get(), [](uint32_t) {});
        (void)watch->EnableReading();
        loop.reset();
      },
      "still active");
}

}  // namespace
}  // namespace asyncwork::net
