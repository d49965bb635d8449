#include "clients/task.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "net/event_loop.h"
#include "net/reactor_test_util.h"

namespace asyncwork::clients {
namespace {

std::unique_ptr<net::EventLoop> MakeLoop() {
  absl::StatusOr<std::unique_ptr<net::EventLoop>> loop =
      net::EventLoop::Create();
  EXPECT_TRUE(loop.ok()) << loop.status();
  return *std::move(loop);
}

Task Record(std::vector<std::string>* log, std::string name) {
  log->push_back(name + " runs");
  co_return;
}

TEST(Task, RunsNothingUntilStarted) {
  std::vector<std::string> log;
  Task task = Record(&log, "a");
  EXPECT_TRUE(log.empty());
  EXPECT_FALSE(task.done());
  task.Start();
  EXPECT_EQ(log, std::vector<std::string>{"a runs"});
  EXPECT_TRUE(task.done());
}

Task Outer(std::vector<std::string>* log) {
  log->push_back("outer starts");
  Task inner = Record(log, "inner");
  co_await inner;
  log->push_back("outer resumes");
}

TEST(Task, AwaitingATaskRunsItThenResumesTheAwaiter) {
  std::vector<std::string> log;
  Task outer = Outer(&log);
  outer.Start();
  EXPECT_EQ(log, (std::vector<std::string>{"outer starts", "inner runs",
                                           "outer resumes"}));
  EXPECT_TRUE(outer.done());
}

Task Sleeper(net::EventLoop* loop, absl::Duration delay,
             std::vector<std::string>* log, std::string name) {
  co_await SleepUntil(loop, absl::Now() + delay);
  log->push_back(name);
}

TEST(SleepUntil, ResumesEachCoroutineFromTheLoopInDeadlineOrder) {
  std::unique_ptr<net::EventLoop> loop = MakeLoop();
  std::vector<std::string> log;
  Task slow = Sleeper(loop.get(), absl::Milliseconds(60), &log, "slow");
  Task fast = Sleeper(loop.get(), absl::Milliseconds(10), &log, "fast");
  absl::Time start = absl::Now();
  slow.Start();
  fast.Start();
  EXPECT_TRUE(log.empty());
  ASSERT_TRUE(net::testing::RunUntil(
      *loop, [&] { return slow.done() && fast.done(); }));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(60));
  EXPECT_EQ(log, (std::vector<std::string>{"fast", "slow"}));
}

TEST(SleepUntil, APassedTimeDoesNotSuspend) {
  std::unique_ptr<net::EventLoop> loop = MakeLoop();
  std::vector<std::string> log;
  Task task = Sleeper(loop.get(), -absl::Seconds(1), &log, "at once");
  task.Start();
  EXPECT_TRUE(task.done());
  EXPECT_EQ(loop->timer_count(), 0u);
}

// Witness counts its destruction, to see a coroutine frame go away.
struct Witness {
  int* destroyed;
  ~Witness() { ++*destroyed; }
};

Task HoldsAWitness(net::EventLoop* loop, int* destroyed) {
  Witness witness{destroyed};
  co_await SleepUntil(loop, absl::Now() + absl::Hours(1));
}

TEST(Task, DestroyingASuspendedTaskDestroysItsFrame) {
  int destroyed = 0;
  {
    std::unique_ptr<net::EventLoop> loop = MakeLoop();
    Task task = HoldsAWitness(loop.get(), &destroyed);
    task.Start();
    EXPECT_FALSE(task.done());
    EXPECT_EQ(destroyed, 0);
  }  // the Task goes first, then the loop with its (never run) timer
  EXPECT_EQ(destroyed, 1);
}

TEST(Task, MovingHandsOverTheCoroutine) {
  std::vector<std::string> log;
  Task first = Record(&log, "moved");
  Task second = std::move(first);
  EXPECT_TRUE(first.done());
  second.Start();
  EXPECT_EQ(log, std::vector<std::string>{"moved runs"});
}

}  // namespace
}  // namespace asyncwork::clients
