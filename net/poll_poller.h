// poll_poller.h: the poll(2) backend of Poller.
//
// Keeps one pollfd array and passes all of it to every ppoll, then scans all
// of it for results: a wait costs O(registered descriptors), which is what
// the reactor benchmark shows against epoll. Add and Remove are O(1) (Remove
// moves the last entry into the hole). Level-triggered only. Use
// MakePoller(Backend::kPoll) rather than this class directly.
#ifndef ASYNCWORK_NET_POLL_POLLER_H_
#define ASYNCWORK_NET_POLL_POLLER_H_

#include <poll.h>

#include <vector>

#include "net/poller.h"

namespace asyncwork::net {

class PollPoller final : public Poller {
 public:
  absl::Status Add(int fd, uint32_t interest, Trigger trigger,
                   uint64_t token) override;
  absl::Status Modify(int fd, uint32_t interest, Trigger trigger,
                      uint64_t token) override;
  absl::Status Remove(int fd) override;
  absl::Status Wait(absl::Duration timeout,
                    std::vector<ReadyEvent>* events) override;
  Backend backend() const override { return Backend::kPoll; }

 private:
  static constexpr int kAbsent = -1;

  int IndexOf(int fd) const;

  std::vector<pollfd> fds_;
  std::vector<uint64_t> tokens_;  // tokens_[i] belongs to fds_[i]
  std::vector<int> index_of_fd_;  // fd -> index in fds_, or kAbsent
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_POLL_POLLER_H_
