#include "net/poll_poller.h"

#include <poll.h>

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace asyncwork::net {
namespace {

short ToPoll(uint32_t interest) {
  short bits = 0;
  if (interest & kReadable) bits |= POLLIN;
  if (interest & kWritable) bits |= POLLOUT;
  if (interest & kPriority) bits |= POLLPRI;
  return bits;
}

uint32_t FromPoll(short bits) {
  uint32_t events = 0;
  if (bits & POLLIN) events |= kReadable;
  if (bits & POLLOUT) events |= kWritable;
  if (bits & POLLPRI) events |= kPriority;
  if (bits & (POLLERR | POLLNVAL)) events |= kError;
  if (bits & POLLHUP) events |= kHangup;
  return events;
}

absl::Status CheckRegistration(int fd, Trigger trigger) {
  if (fd < 0) return absl::InvalidArgumentError(absl::StrCat("poll: bad fd ", fd));
  if (trigger == Trigger::kEdge) {
    return absl::InvalidArgumentError(
        "poll: edge-triggered registration needs the epoll backend");
  }
  return absl::OkStatus();
}

}  // namespace

int PollPoller::IndexOf(int fd) const {
  if (fd < 0 || static_cast<size_t>(fd) >= index_of_fd_.size()) return kAbsent;
  return index_of_fd_[fd];
}

absl::Status PollPoller::Add(int fd, uint32_t interest, Trigger trigger,
                             uint64_t token) {
  if (absl::Status status = CheckRegistration(fd, trigger); !status.ok()) {
    return status;
  }
  if (IndexOf(fd) != kAbsent) {
    return absl::AlreadyExistsError(absl::StrCat("poll: fd ", fd, " already registered"));
  }
  if (static_cast<size_t>(fd) >= index_of_fd_.size()) {
    index_of_fd_.resize(fd + 1, kAbsent);
  }
  index_of_fd_[fd] = static_cast<int>(fds_.size());
  fds_.push_back({fd, ToPoll(interest), 0});
  tokens_.push_back(token);
  return absl::OkStatus();
}

absl::Status PollPoller::Modify(int fd, uint32_t interest, Trigger trigger,
                                uint64_t token) {
  if (absl::Status status = CheckRegistration(fd, trigger); !status.ok()) {
    return status;
  }
  int index = IndexOf(fd);
  if (index == kAbsent) {
    return absl::NotFoundError(absl::StrCat("poll: fd ", fd, " not registered"));
  }
  fds_[index].events = ToPoll(interest);
  tokens_[index] = token;
  return absl::OkStatus();
}

absl::Status PollPoller::Remove(int fd) {
  int index = IndexOf(fd);
  if (index == kAbsent) {
    return absl::NotFoundError(absl::StrCat("poll: fd ", fd, " not registered"));
  }
  int last = static_cast<int>(fds_.size()) - 1;
  if (index != last) {
    fds_[index] = fds_[last];
    tokens_[index] = tokens_[last];
    index_of_fd_[fds_[index].fd] = index;
  }
  fds_.pop_back();
  tokens_.pop_back();
  index_of_fd_[fd] = kAbsent;
  return absl::OkStatus();
}

absl::Status PollPoller::Wait(absl::Duration timeout,
                              std::vector<ReadyEvent>* events) {
  events->clear();
  timespec ts;
  bool finite = internal::ToWaitTimespec(timeout, &ts);
  int n = ::ppoll(fds_.data(), fds_.size(), finite ? &ts : nullptr, nullptr);
  if (n < 0) {
    if (errno == EINTR) return absl::OkStatus();
    return absl::ErrnoToStatus(errno, "ppoll");
  }
  for (size_t i = 0; i < fds_.size() && n > 0; ++i) {
    if (fds_[i].revents == 0) continue;
    events->push_back({tokens_[i], FromPoll(fds_[i].revents)});
    --n;
  }
  return absl::OkStatus();
}

}  // namespace asyncwork::net
