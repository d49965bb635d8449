#include "server/shutdown_signal.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#include "absl/time/clock.h"
#include "server/poll_util.h"

namespace asyncwork::server {
namespace {

void Raise(int fd) {
  uint64_t one = 1;
  // The counter only grows and is never read, so the fd stays readable; a
  // failed write (the counter cannot overflow from ones) would change nothing.
  (void)!::write(fd, &one, sizeof one);
}

}  // namespace

absl::StatusOr<ShutdownSignal> ShutdownSignal::Create() {
  absl::StatusOr<net::Fd> drain =
      net::Fd::Adopt(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd");
  if (!drain.ok()) return drain.status();
  absl::StatusOr<net::Fd> abort =
      net::Fd::Adopt(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd");
  if (!abort.ok()) return abort.status();
  return ShutdownSignal(std::move(*drain), std::move(*abort));
}

void ShutdownSignal::Drain() const { Raise(drain_.get()); }

void ShutdownSignal::Abort() const {
  Raise(drain_.get());
  Raise(abort_.get());
}

bool ShutdownSignal::draining() const {
  return internal::IsReadableNow(drain_.get());
}

bool ShutdownSignal::aborted() const {
  return internal::IsReadableNow(abort_.get());
}

absl::Status ShutdownSignal::SleepUntil(absl::Time until) const {
  struct pollfd entry = {abort_.get(), POLLIN, 0};
  absl::StatusOr<int> ready =
      internal::PollUntil(absl::MakeSpan(&entry, 1), until);
  if (!ready.ok()) return ready.status();
  return *ready > 0 ? AbortedError() : absl::OkStatus();
}

absl::Status AbortedError() {
  return absl::CancelledError("server stopping: aborted the wait");
}

}  // namespace asyncwork::server
