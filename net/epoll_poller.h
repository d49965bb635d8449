// epoll_poller.h: the epoll(7) backend of Poller, the default.
//
// Registrations go to the kernel at once with epoll_ctl (no per-iteration
// batching), so a Remove is final before the next Wait. The token travels in
// epoll_event.data.u64. Wait uses epoll_pwait2 (Linux 5.11+), whose timeout
// has nanosecond resolution; on an older kernel (ENOSYS) it falls back to
// epoll_wait, whose timeout is rounded up to whole milliseconds. Use
// MakePoller(Backend::kEpoll) rather than this class directly.
#ifndef ASYNCWORK_NET_EPOLL_POLLER_H_
#define ASYNCWORK_NET_EPOLL_POLLER_H_

#include <sys/epoll.h>

#include <vector>

#include "absl/status/statusor.h"
#include "net/fd.h"
#include "net/poller.h"

namespace asyncwork::net {

class EpollPoller final : public Poller {
 public:
  // Create opens the epoll instance (close-on-exec).
  static absl::StatusOr<std::unique_ptr<EpollPoller>> Create();

  // EpollPoller takes ownership of an epoll descriptor; prefer Create.
  explicit EpollPoller(Fd epoll_fd);

  absl::Status Add(int fd, uint32_t interest, Trigger trigger,
                   uint64_t token) override;
  absl::Status Modify(int fd, uint32_t interest, Trigger trigger,
                      uint64_t token) override;
  absl::Status Remove(int fd) override;
  absl::Status Wait(absl::Duration timeout,
                    std::vector<ReadyEvent>* events) override;
  Backend backend() const override { return Backend::kEpoll; }

 private:
  absl::Status Control(int op, int fd, uint32_t interest, Trigger trigger,
                       uint64_t token);

  Fd epoll_fd_;
  // Kernel output buffer for epoll_wait; doubles when a wait fills it.
  std::vector<epoll_event> buffer_;
  // False once epoll_pwait2 reported ENOSYS; then epoll_wait is used.
  bool have_pwait2_ = true;
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_EPOLL_POLLER_H_
