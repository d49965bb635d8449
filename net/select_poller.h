// select_poller.h: the select(2) backend of Poller.
//
// Every wait copies three fd_sets and the kernel and this class both scan
// descriptors 0..highest: O(highest fd). An fd_set holds only descriptors
// below FD_SETSIZE (1024), so Add refuses a larger fd with InvalidArgument
// instead of corrupting memory as FD_SET would. select cannot report a
// hang-up: a closed peer shows as readable (read returns 0). Level-triggered
// only. Use MakePoller(Backend::kSelect) rather than this class directly.
#ifndef ASYNCWORK_NET_SELECT_POLLER_H_
#define ASYNCWORK_NET_SELECT_POLLER_H_

#include <sys/select.h>

#include <array>
#include <vector>

#include "net/poller.h"

namespace asyncwork::net {

class SelectPoller final : public Poller {
 public:
  SelectPoller();

  absl::Status Add(int fd, uint32_t interest, Trigger trigger,
                   uint64_t token) override;
  absl::Status Modify(int fd, uint32_t interest, Trigger trigger,
                      uint64_t token) override;
  absl::Status Remove(int fd) override;
  absl::Status Wait(absl::Duration timeout,
                    std::vector<ReadyEvent>* events) override;
  Backend backend() const override { return Backend::kSelect; }

 private:
  struct Entry {
    bool registered = false;
    uint32_t interest = 0;
    uint64_t token = 0;
  };

  absl::Status Check(int fd, Trigger trigger) const;
  void SetInterest(int fd, uint32_t interest);

  std::array<Entry, FD_SETSIZE> entries_;
  fd_set read_set_;
  fd_set write_set_;
  fd_set except_set_;
  int max_fd_ = -1;  // highest registered fd, -1 when none
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_SELECT_POLLER_H_
