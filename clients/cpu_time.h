// cpu_time.h: CPU time consumed by this process or this thread, and
// CpuStopwatch, which measures the CPU spent between two points.
//
// The strategies differ less in how fast the network is than in what waiting
// costs them: a polling client burns CPU on every pending request, a callback
// client does not. So every run reports CPU time per completed request, which
// needs the process's CPU clock (user + system, all threads) around the run.
//
//   CpuStopwatch cpu;                       // starts now, process clock
//   RunTheClient();
//   absl::Duration spent = cpu.Stop();
//
// Both clocks are clock_gettime(2)'s CLOCK_PROCESS_CPUTIME_ID and
// CLOCK_THREAD_CPUTIME_ID, which Linux keeps to the nanosecond (getrusage
// rounds to the scheduler tick on some kernels).
#ifndef ASYNCWORK_CLIENTS_CPU_TIME_H_
#define ASYNCWORK_CLIENTS_CPU_TIME_H_

#include "absl/time/time.h"

namespace asyncwork::clients {

// ProcessCpuTime returns the CPU time (user + system) used so far by every
// thread of this process, living or finished. Any thread may call it.
absl::Duration ProcessCpuTime();

// ThreadCpuTime returns the CPU time used so far by the calling thread.
absl::Duration ThreadCpuTime();

enum class CpuClock {
  kProcess,  // ProcessCpuTime: every thread of the process
  kThread,   // ThreadCpuTime: only the thread that reads it
};

// CpuStopwatch measures CPU time on one clock from Start to Stop.
//
// A kThread stopwatch must be started, read and stopped on one thread: each
// reading is of the calling thread's clock. A kProcess stopwatch may be used
// from any thread, one at a time.
class CpuStopwatch {
 public:
  // CpuStopwatch starts running at construction.
  explicit CpuStopwatch(CpuClock clock = CpuClock::kProcess);

  // Start (re)starts the measurement from zero, now.
  void Start();

  // Stop ends the measurement and returns the CPU time between Start and
  // now. Stopping a stopped stopwatch returns the same value again.
  absl::Duration Stop();

  // Elapsed returns the CPU time so far while running, or the final value
  // once stopped.
  absl::Duration Elapsed() const;

  bool running() const { return running_; }

 private:
  absl::Duration Now() const;

  CpuClock clock_;
  bool running_ = false;
  absl::Duration started_at_;
  absl::Duration elapsed_;
};

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_CPU_TIME_H_
