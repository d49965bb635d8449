#include "net/io_watch.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "net/check.h"
#include "net/log.h"

namespace asyncwork::net {

IoWatch::IoWatch(EventLoop* loop, int fd, Handler handler)
    : loop_(loop), fd_(fd), handler_(std::move(handler)) {
  ASYNCWORK_CHECK(loop_ != nullptr) << "IoWatch needs a loop";
}

IoWatch::~IoWatch() {
  // Destroying the handler while it runs would free the very closure that
  // is executing; DeleteLater exists for exactly this.
  ASYNCWORK_CHECK(!loop_->IsDispatching(this))
      << "IoWatch on fd " << fd_ << " destroyed by its own handler; hand its "
      << "owner to EventLoop::DeleteLater instead";
  Stop();
}

absl::Status IoWatch::Watch(uint32_t interest, Trigger trigger) {
  loop_->AssertInLoopThread();
  interest &= kInterestMask;
  if (interest == 0) {
    // Deregister rather than keep an empty interest: epoll and poll would
    // still report hang-ups, and a level-triggered hang-up nobody reads
    // would wake the loop on every iteration.
    Stop();
    return absl::OkStatus();
  }
  if (token_ == 0) {
    uint64_t token = loop_->Register(this);
    if (absl::Status status = loop_->poller().Add(fd_, interest, trigger, token);
        !status.ok()) {
      loop_->Unregister(token);
      return status;
    }
    token_ = token;
  } else if (interest != interest_ || trigger != trigger_) {
    if (absl::Status status =
            loop_->poller().Modify(fd_, interest, trigger, token_);
        !status.ok()) {
      return status;
    }
  }
  interest_ = interest;
  trigger_ = trigger;
  return absl::OkStatus();
}

void IoWatch::Stop() {
  if (token_ == 0) return;
  loop_->AssertInLoopThread();
  if (absl::Status status = loop_->poller().Remove(fd_); !status.ok()) {
    // The registration is gone either way (closing an fd removes it from
    // epoll); the warning points at an fd closed before its watch stopped.
    LogWarning(absl::StrCat("IoWatch::Stop fd ", fd_, ": ", status.ToString()));
  }
  loop_->Unregister(std::exchange(token_, 0));
  interest_ = 0;
}

}  // namespace asyncwork::net
