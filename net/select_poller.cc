#include "net/select_poller.h"

#include <sys/select.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace asyncwork::net {

SelectPoller::SelectPoller() {
  FD_ZERO(&read_set_);
  FD_ZERO(&write_set_);
  FD_ZERO(&except_set_);
}

absl::Status SelectPoller::Check(int fd, Trigger trigger) const {
  if (fd < 0) return absl::InvalidArgumentError(absl::StrCat("select: bad fd ", fd));
  if (fd >= FD_SETSIZE) {
    return absl::InvalidArgumentError(
        absl::StrCat("select: fd ", fd, " is not below FD_SETSIZE (", FD_SETSIZE,
                     "); use the epoll or poll backend"));
  }
  if (trigger == Trigger::kEdge) {
    return absl::InvalidArgumentError(
        "select: edge-triggered registration needs the epoll backend");
  }
  return absl::OkStatus();
}

void SelectPoller::SetInterest(int fd, uint32_t interest) {
  entries_[fd].interest = interest;
  if (interest & kReadable) FD_SET(fd, &read_set_); else FD_CLR(fd, &read_set_);
  if (interest & kWritable) FD_SET(fd, &write_set_); else FD_CLR(fd, &write_set_);
  // exceptfds is also where select would report errors it has no other
  // place for, so it follows kPriority only, as asyncore's select loop did.
  if (interest & kPriority) FD_SET(fd, &except_set_); else FD_CLR(fd, &except_set_);
}

absl::Status SelectPoller::Add(int fd, uint32_t interest, Trigger trigger,
                               uint64_t token) {
  if (absl::Status status = Check(fd, trigger); !status.ok()) return status;
  Entry& entry = entries_[fd];
  if (entry.registered) {
    return absl::AlreadyExistsError(absl::StrCat("select: fd ", fd, " already registered"));
  }
  entry.registered = true;
  entry.token = token;
  SetInterest(fd, interest);
  if (fd > max_fd_) max_fd_ = fd;
  return absl::OkStatus();
}

absl::Status SelectPoller::Modify(int fd, uint32_t interest, Trigger trigger,
                                  uint64_t token) {
  if (absl::Status status = Check(fd, trigger); !status.ok()) return status;
  Entry& entry = entries_[fd];
  if (!entry.registered) {
    return absl::NotFoundError(absl::StrCat("select: fd ", fd, " not registered"));
  }
  entry.token = token;
  SetInterest(fd, interest);
  return absl::OkStatus();
}

absl::Status SelectPoller::Remove(int fd) {
  if (fd < 0 || fd >= FD_SETSIZE || !entries_[fd].registered) {
    return absl::NotFoundError(absl::StrCat("select: fd ", fd, " not registered"));
  }
  SetInterest(fd, 0);
  entries_[fd] = Entry{};
  while (max_fd_ >= 0 && !entries_[max_fd_].registered) --max_fd_;
  return absl::OkStatus();
}

absl::Status SelectPoller::Wait(absl::Duration timeout,
                                std::vector<ReadyEvent>* events) {
  events->clear();
  fd_set readable = read_set_;
  fd_set writable = write_set_;
  fd_set exceptional = except_set_;
  timespec ts;
  bool finite = internal::ToWaitTimespec(timeout, &ts);
  int n = ::pselect(max_fd_ + 1, &readable, &writable, &exceptional,
                    finite ? &ts : nullptr, nullptr);
  if (n < 0) {
    if (errno == EINTR) return absl::OkStatus();
    return absl::ErrnoToStatus(errno, "pselect");
  }
  for (int fd = 0; fd <= max_fd_ && n > 0; ++fd) {
    uint32_t ready = 0;
    if (FD_ISSET(fd, &readable)) ready |= kReadable;
    if (FD_ISSET(fd, &writable)) ready |= kWritable;
    if (FD_ISSET(fd, &exceptional)) ready |= kPriority;
    if (ready == 0) continue;
    events->push_back({entries_[fd].token, ready});
    // pselect counts a descriptor once per set it is ready in.
    n -= __builtin_popcount(ready);
  }
  return absl::OkStatus();
}

}  // namespace asyncwork::net
