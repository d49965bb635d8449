#include "server/poll_util.h"

#include <cerrno>
#include <algorithm>

#include "absl/status/status.h"
#include "absl/time/clock.h"

namespace asyncwork::server::internal {

absl::StatusOr<int> PollUntil(absl::Span<struct pollfd> fds,
                              absl::Time deadline) {
  while (true) {
    for (struct pollfd& entry : fds) entry.revents = 0;
    // ppoll takes nanoseconds, so a wait ends neither early nor a
    // millisecond late.
    struct timespec left;
    const struct timespec* timeout = nullptr;
    if (deadline != absl::InfiniteFuture()) {
      left = absl::ToTimespec(
          std::max(deadline - absl::Now(), absl::ZeroDuration()));
      timeout = &left;
    }
    int ready = ::ppoll(fds.data(), fds.size(), timeout, nullptr);
    if (ready > 0) return ready;
    if (ready < 0 && errno != EINTR) return absl::ErrnoToStatus(errno, "ppoll");
    if (ready == 0 && absl::Now() >= deadline) return 0;
  }
}

bool IsReadableNow(int fd) {
  struct pollfd entry = {fd, POLLIN, 0};
  absl::StatusOr<int> ready =
      PollUntil(absl::MakeSpan(&entry, 1), absl::InfinitePast());
  return ready.ok() && *ready > 0;
}

}  // namespace asyncwork::server::internal
