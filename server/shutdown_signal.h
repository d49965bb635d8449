// shutdown_signal.h: ShutdownSignal, how a stopping server tells its
// handlers to wind down, in every thread and in every forked child.
//
// A server stops in two steps. Drain: take no new work, but finish the
// requests already received and send the answers owed, then close each
// connection at its next pause. Abort: stop now; waits for input, output and
// SLEEP end at once. Both are eventfds that, once written, stay readable for
// good, so one write reaches every handler that polls them, and (because a
// forked child shares the parent's open file descriptions) every child too.
//
//   absl::StatusOr<ShutdownSignal> signal = ShutdownSignal::Create();
//   // handler thread: sleep for a SLEEP request, but not past an abort
//   absl::Status slept = signal->SleepUntil(absl::Now() + absl::Seconds(1));
//   // stopping thread:
//   signal->Drain();   // handlers finish what they hold, then close
//   signal->Abort();   // after a grace period: stop waiting altogether
#ifndef ASYNCWORK_SERVER_SHUTDOWN_SIGNAL_H_
#define ASYNCWORK_SERVER_SHUTDOWN_SIGNAL_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/fd.h"

namespace asyncwork::server {

class ShutdownSignal {
 public:
  // Create makes both eventfds. Fails only if the kernel refuses one.
  static absl::StatusOr<ShutdownSignal> Create();

  ShutdownSignal(ShutdownSignal&&) noexcept = default;
  ShutdownSignal& operator=(ShutdownSignal&&) noexcept = default;

  // Drain asks handlers to finish what they hold and close. Idempotent; any
  // thread, and visible in forked children.
  void Drain() const;
  // Abort drains and also ends every wait at once. Idempotent; any thread.
  void Abort() const;

  // draining and aborted poll the eventfds (one syscall each). Any thread.
  bool draining() const;
  bool aborted() const;

  // drain_fd and abort_fd are readable once Drain (Abort) was called; poll
  // them beside a socket. Owned by this object; never read or close them.
  int drain_fd() const { return drain_.get(); }
  int abort_fd() const { return abort_.get(); }

  // SleepUntil waits until `until`, or returns Cancelled at once if the
  // signal is aborted first. Any thread.
  absl::Status SleepUntil(absl::Time until) const;

 private:
  ShutdownSignal(net::Fd drain, net::Fd abort)
      : drain_(std::move(drain)), abort_(std::move(abort)) {}

  net::Fd drain_;
  net::Fd abort_;
};

// AbortedError is the status a wait returns when the signal was aborted.
absl::Status AbortedError();

}  // namespace asyncwork::server

#endif  // ASYNCWORK_SERVER_SHUTDOWN_SIGNAL_H_
