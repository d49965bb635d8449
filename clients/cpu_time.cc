#include "clients/cpu_time.h"

#include <time.h>

#include <cerrno>
#include <cstring>

#include "net/check.h"

namespace asyncwork::clients {
namespace {

// ReadClock fails only for a clock id the kernel does not know, which for
// these two fixed ids would be a broken platform, not an error to handle.
absl::Duration ReadClock(clockid_t clock) {
  timespec ts;
  ASYNCWORK_CHECK(::clock_gettime(clock, &ts) == 0)
      << "clock_gettime: " << std::strerror(errno);
  return absl::DurationFromTimespec(ts);
}

}  // namespace

absl::Duration ProcessCpuTime() { return ReadClock(CLOCK_PROCESS_CPUTIME_ID); }

absl::Duration ThreadCpuTime() { return ReadClock(CLOCK_THREAD_CPUTIME_ID); }

CpuStopwatch::CpuStopwatch(CpuClock clock) : clock_(clock) { Start(); }

void CpuStopwatch::Start() {
  running_ = true;
  elapsed_ = absl::ZeroDuration();
  started_at_ = Now();
}

absl::Duration CpuStopwatch::Stop() {
  if (running_) {
    elapsed_ = Now() - started_at_;
    running_ = false;
  }
  return elapsed_;
}

absl::Duration CpuStopwatch::Elapsed() const {
  return running_ ? Now() - started_at_ : elapsed_;
}

absl::Duration CpuStopwatch::Now() const {
  return clock_ == CpuClock::kThread ? ThreadCpuTime() : ProcessCpuTime();
}

}  // namespace asyncwork::clients
