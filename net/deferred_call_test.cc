#include "net/deferred_call.h"

#include <memory>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "net/event_loop.h"
#include "net/io_watch.h"
#include "net/reactor_test_util.h"

namespace asyncwork::net {
namespace {

using ::asyncwork::net::testing::MakeEventFd;
using ::asyncwork::net::testing::MakeLoop;
using ::asyncwork::net::testing::RunUntil;

TEST(DeferredCall, ManySchedulesInOneIterationRunOnce) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  int runs = 0;
  DeferredCall call(loop.get(), [&runs] { ++runs; });
  for (int i = 0; i < 100; ++i) call.Schedule();
  EXPECT_TRUE(call.scheduled());
  EXPECT_TRUE(loop->has_deferred_calls());
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(call.scheduled());
  EXPECT_FALSE(loop->has_deferred_calls());
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(runs, 1);
}

TEST(DeferredCall, ScheduledBetweenIterationsRunsBeforeTheWait) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  bool waited = false;
  DeferredCall call(loop.get(), [&] { EXPECT_FALSE(waited); });
  loop->RunAfter(absl::ZeroDuration(), [&] { waited = true; });
  call.Schedule();
  ASSERT_TRUE(loop->RunOnce(absl::Seconds(5)).ok());
  EXPECT_TRUE(waited);
  EXPECT_FALSE(call.scheduled());
}

TEST(DeferredCall, RunsInScheduleOrderAndCancelledCallsDoNotRun) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  std::vector<int> order;
  DeferredCall a(loop.get(), [&order] { order.push_back(1); });
  DeferredCall b(loop.get(), [&order] { order.push_back(2); });
  DeferredCall c(loop.get(), [&order] { order.push_back(3); });
  c.Schedule();
  a.Schedule();
  b.Schedule();
  b.Cancel();
  b.Cancel();
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(order, (std::vector<int>{3, 1}));
}

TEST(DeferredCall, ScheduledFromIoHandlerRunsAtTheEndOfThatIteration) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  Fd event = MakeEventFd(1);
  int runs = 0;
  DeferredCall call(loop.get(), [&runs] { ++runs; });
  IoWatch watch(loop.get(), event.get(), [&](uint32_t) {
    watch.Stop();
    call.Schedule();
  });
  ASSERT_TRUE(watch.EnableReading().ok());
  ASSERT_TRUE(loop->RunOnce(absl::Seconds(5)).ok());
  EXPECT_EQ(runs, 1);
  EXPECT_FALSE(call.scheduled());
}

TEST(DeferredCall, ReschedulingItselfRunsOncePerDeferredPhaseWithoutBlocking) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  int runs = 0;
  std::unique_ptr<DeferredCall> call;
  call = std::make_unique<DeferredCall>(loop.get(), [&] {
    ++runs;
    call->Schedule();
  });
  call->Schedule();
  absl::Time start = absl::Now();
  // Each iteration would block for 10 s if the rescheduled call did not
  // make its wait poll instead. It runs in both deferred phases (0 and 5)
  // of each iteration, once each.
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(loop->RunOnce(absl::Seconds(10)).ok());
  EXPECT_EQ(runs, 10);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  call->Cancel();
}

TEST(DeferredCall, CallDestroyedByAnEarlierCallDoesNotRun) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  int later_runs = 0;
  auto later =
      std::make_unique<DeferredCall>(loop.get(), [&] { ++later_runs; });
  DeferredCall first(loop.get(), [&] { later.reset(); });
  first.Schedule();
  later->Schedule();
  ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
  EXPECT_EQ(later, nullptr);
  EXPECT_EQ(later_runs, 0);
}

TEST(DeferredCall, OwnerHandedToDeleteLaterFromItsOwnCallbackIsDestroyed) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  struct Owner {
    explicit Owner(EventLoop* loop, bool* destroyed)
        : destroyed(destroyed),
          call(loop, [this, loop] { loop->DeleteLater(std::move(self)); }) {}
    ~Owner() { *destroyed = true; }
    bool* destroyed;
    std::unique_ptr<Owner> self;
    DeferredCall call;
  };
  bool destroyed = false;
  auto owner = std::make_unique<Owner>(loop.get(), &destroyed);
  Owner* raw = owner.get();
  raw->self = std::move(owner);
  raw->call.Schedule();
  ASSERT_TRUE(RunUntil(*loop, [&] { return destroyed; }));
}

TEST(DeferredCallDeathTest, DestroyedByItsOwnCallbackAborts) {
  EXPECT_DEATH(
      {
        std::unique_ptr<EventLoop> loop = MakeLoop();
        std::unique_ptr<DeferredCall> call;
        call = std::make_unique<DeferredCall>(loop.get(),
                                              [&call] { call.reset(); });
        call->Schedule();
        (void)loop->RunOnce(absl::ZeroDuration());
      },
      "DeferredCall destroyed by its own callback");
}

}  // namespace
}  // namespace asyncwork::net
