// poll_util.h: poll(2) with an absolute deadline, for the blocking servers.
//
// net/blocking_io.h waits for one socket; the socketserver family often
// waits for several descriptors at once (a connection and the shutdown
// signal; a listener, a wake-up eventfd and children's pidfds), so this is
// the one multi-descriptor wait they share.
//
//   struct pollfd fds[2] = {{socket_fd, POLLIN, 0}, {drain_fd, POLLIN, 0}};
//   absl::StatusOr<int> ready = internal::PollUntil(absl::MakeSpan(fds),
//                                                   deadline);
//   if (ready.ok() && *ready == 0) { /* the deadline passed */ }
#ifndef ASYNCWORK_SERVER_POLL_UTIL_H_
#define ASYNCWORK_SERVER_POLL_UTIL_H_

#include <poll.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace asyncwork::server::internal {

// PollUntil waits until one of `fds` has an event or `deadline` passes, and
// returns how many have events (revents set), 0 only once the deadline has
// really passed. EINTR is retried with the time left; other errors name
// ppoll. A deadline already past still checks readiness once.
absl::StatusOr<int> PollUntil(absl::Span<struct pollfd> fds,
                              absl::Time deadline);

// IsReadableNow returns whether `fd` polls readable right now.
bool IsReadableNow(int fd);

}  // namespace asyncwork::server::internal

#endif  // ASYNCWORK_SERVER_POLL_UTIL_H_
