#include "sim/loop_thread.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "net/event_loop.h"

namespace asyncwork::sim {
namespace {

TEST(LoopThread, RunsTasksOnItsOwnThreadAndWaitsForThem) {
  absl::StatusOr<std::unique_ptr<LoopThread>> thread = LoopThread::Start();
  ASSERT_TRUE(thread.ok()) << thread.status();
  std::thread::id ran_on;
  bool in_loop_thread = false;
  (*thread)->RunAndWait([&] {
    ran_on = std::this_thread::get_id();
    in_loop_thread = (*thread)->loop()->IsInLoopThread();
  });
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_TRUE(in_loop_thread);
}

TEST(LoopThread, RunsTimersWhileTheOwnerWaits) {
  absl::StatusOr<std::unique_ptr<LoopThread>> thread = LoopThread::Start();
  ASSERT_TRUE(thread.ok()) << thread.status();
  std::atomic<int> fired{0};
  (*thread)->RunAndWait([&] {
    (*thread)->loop()->RunAfter(absl::Milliseconds(1), [&] { ++fired; });
  });
  for (int i = 0; i < 10000 && fired.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(fired.load(), 1);
}

TEST(LoopThread, AfterStopTasksRunOnTheCaller) {
  absl::StatusOr<std::unique_ptr<LoopThread>> thread = LoopThread::Start();
  ASSERT_TRUE(thread.ok()) << thread.status();
  (*thread)->Stop();
  (*thread)->Stop();  // idempotent
  std::thread::id ran_on;
  (*thread)->RunAndWait([&] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  // The loop is this thread's to use now.
  EXPECT_TRUE((*thread)->loop()->RunOnce(absl::ZeroDuration()).ok());
}

TEST(LoopThread, TaskOnTheLoopThreadRunsInline) {
  absl::StatusOr<std::unique_ptr<LoopThread>> thread = LoopThread::Start();
  ASSERT_TRUE(thread.ok()) << thread.status();
  int depth = 0;
  (*thread)->RunAndWait([&] {
    // Would deadlock if it posted and waited for itself.
    (*thread)->RunAndWait([&] { depth = 2; });
  });
  EXPECT_EQ(depth, 2);
}

}  // namespace
}  // namespace asyncwork::sim
