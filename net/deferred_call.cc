#include "net/deferred_call.h"

#include <utility>

#include "net/check.h"
#include "net/event_loop.h"

namespace asyncwork::net {
namespace internal {

void DeferredLink::Unlink() {
  if (next == nullptr) return;
  prev->next = next;
  next->prev = prev;
  prev = next = nullptr;
}

void DeferredLink::LinkBefore(DeferredLink* node) {
  prev = node->prev;
  next = node;
  prev->next = this;
  node->prev = this;
}

}  // namespace internal

DeferredCall::DeferredCall(EventLoop* loop, absl::AnyInvocable<void()> callback)
    : loop_(loop), callback_(std::move(callback)) {
  ASYNCWORK_CHECK(loop_ != nullptr) << "DeferredCall needs a loop";
}

DeferredCall::~DeferredCall() {
  // The running callback is this object's own member: destroying it now
  // would free the closure that is executing.
  ASYNCWORK_CHECK(!loop_->IsRunningDeferred(this))
      << "DeferredCall destroyed by its own callback; hand its owner to "
      << "EventLoop::DeleteLater instead";
  Cancel();
}

void DeferredCall::Schedule() {
  loop_->AssertInLoopThread();
  if (linked()) return;
  loop_->ScheduleDeferred(this);
}

void DeferredCall::Cancel() {
  if (!linked()) return;
  loop_->AssertInLoopThread();
  Unlink();
}

}  // namespace asyncwork::net
