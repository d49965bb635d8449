#include "clients/cpu_time.h"

#include <cstdint>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace asyncwork::clients {
namespace {

// BurnThreadCpu spins until the calling thread has used `amount` of CPU, or
// gives up after a generous wall-clock deadline on a starved machine.
// Returns the CPU the thread actually used.
absl::Duration BurnThreadCpu(absl::Duration amount) {
  absl::Duration start = ThreadCpuTime();
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  volatile uint64_t sink = 1;
  while (ThreadCpuTime() - start < amount && absl::Now() < deadline) {
    for (int i = 0; i < 10000; ++i) sink = sink * 6364136223846793005u + 1;
  }
  return ThreadCpuTime() - start;
}

TEST(CpuTime, ClocksAdvanceWhileBusy) {
  absl::Duration process_before = ProcessCpuTime();
  absl::Duration burnt = BurnThreadCpu(absl::Milliseconds(20));
  ASSERT_GE(burnt, absl::Milliseconds(20));
  EXPECT_GE(ProcessCpuTime() - process_before, burnt);
}

TEST(CpuStopwatch, ThreadClockExcludesOtherThreads) {
  CpuStopwatch mine(CpuClock::kThread);
  CpuStopwatch all(CpuClock::kProcess);
  absl::Duration burnt;
  std::thread worker(
      [&burnt] { burnt = BurnThreadCpu(absl::Milliseconds(60)); });
  worker.join();
  ASSERT_GE(burnt, absl::Milliseconds(60));
  // This thread only waited for the worker; the process paid for its work.
  EXPECT_LT(mine.Stop(), burnt / 2);
  EXPECT_GE(all.Stop(), burnt);
}

TEST(CpuStopwatch, StopFreezesTheReading) {
  CpuStopwatch watch(CpuClock::kThread);
  EXPECT_TRUE(watch.running());
  BurnThreadCpu(absl::Milliseconds(5));
  absl::Duration first = watch.Stop();
  EXPECT_FALSE(watch.running());
  EXPECT_GE(first, absl::Milliseconds(5));
  BurnThreadCpu(absl::Milliseconds(5));
  EXPECT_EQ(watch.Elapsed(), first);
  EXPECT_EQ(watch.Stop(), first);
}

TEST(CpuStopwatch, StartMeasuresFromZeroAgain) {
  CpuStopwatch watch(CpuClock::kThread);
  BurnThreadCpu(absl::Milliseconds(30));
  watch.Stop();
  watch.Start();
  EXPECT_TRUE(watch.running());
  EXPECT_LT(watch.Elapsed(), absl::Milliseconds(30));
  BurnThreadCpu(absl::Milliseconds(2));
  EXPECT_GE(watch.Elapsed(), absl::Milliseconds(2));
}

}  // namespace
}  // namespace asyncwork::clients
