// poller.h: the readiness backends behind EventLoop, chosen at one switch.
//
// A Poller watches descriptors and reports which are ready. Three backends
// implement the same small interface, as asyncore's loop offered select and
// poll and Redis's ae offers epoll, kqueue and select:
//
//   kEpoll   epoll(7); cost per wait grows with the ready descriptors only.
//            Level- and edge-triggered registrations. The default.
//   kPoll    poll(2); every wait passes and scans the whole array: O(n).
//   kSelect  select(2); O(highest fd) per wait, and refuses fd >= FD_SETSIZE.
//
// A registration carries an opaque 64-bit token chosen by the caller, and
// every ReadyEvent reports the token, never the fd: EventLoop uses a
// generation-stamped token so an event for a registration that was removed
// (even if the fd number was reused since) cannot reach the wrong object.
//
//   absl::StatusOr<std::unique_ptr<Poller>> poller = MakePoller(Backend::kPoll);
//   if (!poller.ok()) return poller.status();
//   absl::Status added = (*poller)->Add(fd, kReadable, Trigger::kLevel, 42);
//   std::vector<ReadyEvent> ready;
//   absl::Status waited = (*poller)->Wait(absl::Milliseconds(10), &ready);
//   // each ready[i].token is 42 here, ready[i].events has kReadable set
//
// Most code never touches a Poller: it uses EventLoop and IoWatch.
// A Poller is not thread-safe; its owner (an EventLoop) calls it from one
// thread.
#ifndef ASYNCWORK_NET_POLLER_H_
#define ASYNCWORK_NET_POLLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace asyncwork::net {

enum class Backend { kEpoll, kPoll, kSelect };

// kAllBackends lists every backend, for tests and benchmarks that cover all.
inline constexpr Backend kAllBackends[] = {Backend::kEpoll, Backend::kPoll,
                                           Backend::kSelect};

// ParseBackend maps "epoll", "poll" or "select" to a Backend; anything else
// is InvalidArgument naming the accepted values.
absl::StatusOr<Backend> ParseBackend(absl::string_view name);

// BackendName is the inverse of ParseBackend: "epoll", "poll" or "select".
absl::string_view BackendName(Backend backend);

// Event bits, used both as interest (what to watch) and as readiness (what
// happened). kError and kHangup are reported whether asked for or not, as
// epoll and poll do; asking for them is harmless.
inline constexpr uint32_t kReadable = 1u << 0;  // data, EOF or a connection
inline constexpr uint32_t kWritable = 1u << 1;  // room to write
// kPriority is urgent or exceptional data (POLLPRI, select's exceptfds):
// what asyncore's handle_expt reacts to.
inline constexpr uint32_t kPriority = 1u << 2;
inline constexpr uint32_t kError = 1u << 3;   // EPOLLERR/POLLERR/POLLNVAL
inline constexpr uint32_t kHangup = 1u << 4;  // EPOLLHUP/POLLHUP
inline constexpr uint32_t kInterestMask = kReadable | kWritable | kPriority;

// EventsToString renders bits for logs and test failures: "readable|hangup".
std::string EventsToString(uint32_t events);

// Trigger: level-triggered registrations report a descriptor every wait while
// it stays ready; edge-triggered ones report it once per change to ready, so
// the handler must drain it (read until EAGAIN). Only kEpoll supports kEdge;
// kPoll and kSelect refuse it with InvalidArgument rather than emulate it.
enum class Trigger { kLevel, kEdge };

// ReadyEvent is one ready registration: its token and the bits that are set.
// Hang-ups differ by backend: epoll and poll report kHangup (possibly without
// kReadable) when the peer is gone; select cannot tell, and reports the
// descriptor readable (a read then returns 0). Treat kHangup like kReadable.
struct ReadyEvent {
  uint64_t token;
  uint32_t events;
};

class Poller {
 public:
  virtual ~Poller() = default;

  // Add starts watching `fd` (not owned; it must stay open until Remove) for
  // `interest`, reporting `token` with its events. AlreadyExists if `fd` is
  // registered; InvalidArgument for a negative fd, an fd the backend cannot
  // hold or a trigger it does not support; otherwise the syscall's errno.
  virtual absl::Status Add(int fd, uint32_t interest, Trigger trigger,
                           uint64_t token) = 0;

  // Modify replaces the interest, trigger and token of a registered `fd`.
  // NotFound if `fd` is not registered.
  virtual absl::Status Modify(int fd, uint32_t interest, Trigger trigger,
                              uint64_t token) = 0;

  // Remove stops watching `fd`. NotFound if it is not registered. Call it
  // before closing `fd`: poll would report a closed fd as kError every wait
  // and select would fail with EBADF.
  virtual absl::Status Remove(int fd) = 0;

  // Wait blocks up to `timeout` (absl::InfiniteDuration() waits for ever,
  // zero or negative polls) and replaces `*events` with the ready
  // registrations. A signal interrupting the wait is not an error: Wait
  // returns OK with no events. Any other failure names the syscall.
  virtual absl::Status Wait(absl::Duration timeout,
                            std::vector<ReadyEvent>* events) = 0;

  virtual Backend backend() const = 0;
};

// MakePoller creates a poller of the given backend: the single switch point.
// Fails only if the kernel refuses (for example epoll_create1 at the fd
// limit).
absl::StatusOr<std::unique_ptr<Poller>> MakePoller(Backend backend);

namespace internal {

// ToWaitTimespec converts a Wait timeout for ppoll/pselect. It returns false
// for an infinite timeout (pass a null timespec) and clamps a negative one to
// zero.
bool ToWaitTimespec(absl::Duration timeout, struct timespec* out);

}  // namespace internal

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_POLLER_H_
