#include "net/epoll_poller.h"

#include <sys/epoll.h>

#include <cerrno>
#include <climits>

#include "absl/strings/str_cat.h"

namespace asyncwork::net {
namespace {

constexpr size_t kInitialBuffer = 64;

uint32_t ToEpoll(uint32_t interest, Trigger trigger) {
  uint32_t bits = 0;
  if (interest & kReadable) bits |= EPOLLIN;
  if (interest & kWritable) bits |= EPOLLOUT;
  if (interest & kPriority) bits |= EPOLLPRI;
  if (trigger == Trigger::kEdge) bits |= EPOLLET;
  return bits;
}

uint32_t FromEpoll(uint32_t bits) {
  uint32_t events = 0;
  if (bits & EPOLLIN) events |= kReadable;
  if (bits & EPOLLOUT) events |= kWritable;
  if (bits & EPOLLPRI) events |= kPriority;
  if (bits & EPOLLERR) events |= kError;
  if (bits & EPOLLHUP) events |= kHangup;
  return events;
}

// EpollTimeout is epoll_wait's millisecond timeout, for kernels without
// epoll_pwait2. It rounds up: rounding down would wake the loop just before
// a timer is due and make it spin until the deadline.
int EpollTimeout(absl::Duration timeout) {
  if (timeout == absl::InfiniteDuration()) return -1;
  if (timeout <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(timeout, absl::Milliseconds(1)));
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

absl::StatusOr<std::unique_ptr<EpollPoller>> EpollPoller::Create() {
  absl::StatusOr<Fd> fd = Fd::Adopt(::epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
  if (!fd.ok()) return fd.status();
  return std::make_unique<EpollPoller>(*std::move(fd));
}

EpollPoller::EpollPoller(Fd epoll_fd)
    : epoll_fd_(std::move(epoll_fd)), buffer_(kInitialBuffer) {}

absl::Status EpollPoller::Control(int op, int fd, uint32_t interest,
                                  Trigger trigger, uint64_t token) {
  if (fd < 0) return absl::InvalidArgumentError(absl::StrCat("epoll: bad fd ", fd));
  epoll_event event{};
  event.events = ToEpoll(interest, trigger);
  event.data.u64 = token;
  if (::epoll_ctl(epoll_fd_.get(), op, fd, &event) == 0) {
    return absl::OkStatus();
  }
  int error = errno;
  const char* call = op == EPOLL_CTL_ADD   ? "epoll_ctl(ADD)"
                     : op == EPOLL_CTL_MOD ? "epoll_ctl(MOD)"
                                           : "epoll_ctl(DEL)";
  std::string message = absl::StrCat(call, " fd ", fd);
  if (error == EEXIST) return absl::AlreadyExistsError(message);
  if (error == ENOENT) return absl::NotFoundError(message);
  return absl::ErrnoToStatus(error, message);
}

absl::Status EpollPoller::Add(int fd, uint32_t interest, Trigger trigger,
                              uint64_t token) {
  return Control(EPOLL_CTL_ADD, fd, interest, trigger, token);
}

absl::Status EpollPoller::Modify(int fd, uint32_t interest, Trigger trigger,
                                 uint64_t token) {
  return Control(EPOLL_CTL_MOD, fd, interest, trigger, token);
}

absl::Status EpollPoller::Remove(int fd) {
  return Control(EPOLL_CTL_DEL, fd, 0, Trigger::kLevel, 0);
}

absl::Status EpollPoller::Wait(absl::Duration timeout,
                               std::vector<ReadyEvent>* events) {
  events->clear();
  const int capacity = static_cast<int>(buffer_.size());
  int n = -1;
  const char* call = "epoll_pwait2";
  if (have_pwait2_) {
    // epoll_pwait2 takes a timespec, so a timer 300 us away wakes the loop
    // after 300 us rather than a whole millisecond (SLEEP and link shaping
    // need sub-millisecond timers).
    timespec wait_for;
    const bool bounded = internal::ToWaitTimespec(timeout, &wait_for);
    n = ::epoll_pwait2(epoll_fd_.get(), buffer_.data(), capacity,
                       bounded ? &wait_for : nullptr, nullptr);
    if (n < 0 && errno == ENOSYS) have_pwait2_ = false;  // kernel before 5.11
  }
  if (!have_pwait2_) {
    call = "epoll_wait";
    n = ::epoll_wait(epoll_fd_.get(), buffer_.data(), capacity,
                     EpollTimeout(timeout));
  }
  if (n < 0) {
    if (errno == EINTR) return absl::OkStatus();
    return absl::ErrnoToStatus(errno, call);
  }
  events->reserve(n);
  for (int i = 0; i < n; ++i) {
    events->push_back({buffer_[i].data.u64, FromEpoll(buffer_[i].events)});
  }
  // A full buffer means more may be ready: give the next wait more room.
  if (static_cast<size_t>(n) == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  return absl::OkStatus();
}

}  // namespace asyncwork::net
