// io_watch.h: IoWatch, one descriptor's registration with an EventLoop.
//
// An IoWatch (muduo's Channel, libuv's uv_poll_t) says which events of one
// fd its owner wants and calls its handler with the ready bits. It does not
// own the fd: the owner keeps the fd open for as long as the watch is
// active, so declare the Fd before the IoWatch (members are destroyed in
// reverse order) or call Stop before closing the fd. A watch deregisters
// itself when stopped or destroyed, and after that none of its events is
// delivered, not even one the poller already returned in the current
// iteration.
//
//   class PipeReader {
//    public:
//     PipeReader(EventLoop* loop, Fd read_end)
//         : read_end_(std::move(read_end)),
//           watch_(loop, read_end_.get(),
//                  [this](uint32_t ready) { OnReady(ready); }) {}
//     absl::Status Start() { return watch_.EnableReading(); }
//
//    private:
//     void OnReady(uint32_t ready);  // reads read_end_
//     Fd read_end_;                  // declared first, so closed last
//     IoWatch watch_;
//   };
//
// The handler receives the ready bits masked by the current interest, plus
// kError and kHangup, which are always reported (see poller.h for how
// backends differ on hang-ups). A handler may stop or re-arm any watch,
// its own included, and destroy any watch but its own: to destroy its own,
// hand the owner to EventLoop::DeleteLater. An IoWatch is not movable; hold it by value in its
// owner or in a unique_ptr. The EventLoop must outlive it. Every method is
// loop thread only (see event_loop.h); the constructor may run on any
// thread.
#ifndef ASYNCWORK_NET_IO_WATCH_H_
#define ASYNCWORK_NET_IO_WATCH_H_

#include <cstdint>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "net/event_loop.h"
#include "net/poller.h"

namespace asyncwork::net {

class IoWatch {
 public:
  using Handler = absl::AnyInvocable<void(uint32_t ready_events)>;

  // IoWatch prepares a watch of `fd` (not owned) on `loop` (not owned; must
  // outlive the watch). It watches nothing until Watch or Enable*.
  IoWatch(EventLoop* loop, int fd, Handler handler);

  // ~IoWatch stops the watch. Aborts if called from this watch's own handler.
  ~IoWatch();

  IoWatch(const IoWatch&) = delete;
  IoWatch& operator=(const IoWatch&) = delete;

  // Watch sets the interest (kReadable | kWritable | kPriority; other bits
  // are ignored) and trigger, applied to the poller at once (epoll_ctl now,
  // not batched). An empty interest is Stop. Unchanged interest and trigger
  // make no syscall. On failure (an fd select cannot hold, kEdge on poll or
  // select, a closed fd) the watch keeps its previous state.
  absl::Status Watch(uint32_t interest, Trigger trigger = Trigger::kLevel);

  // EnableReading, DisableReading, EnableWriting, DisableWriting: Watch with
  // one bit added or removed, keeping the trigger.
  absl::Status EnableReading() { return Watch(interest_ | kReadable, trigger_); }
  absl::Status DisableReading() {
    return Watch(interest_ & ~kReadable, trigger_);
  }
  absl::Status EnableWriting() { return Watch(interest_ | kWritable, trigger_); }
  absl::Status DisableWriting() {
    return Watch(interest_ & ~kWritable, trigger_);
  }

  // Stop deregisters the watch; its pending events are dropped. Watch may
  // start it again (with a new token). Idempotent. DisableAll is the same.
  void Stop();
  void DisableAll() { Stop(); }

  int fd() const { return fd_; }
  uint32_t interest() const { return interest_; }
  Trigger trigger() const { return trigger_; }
  bool active() const { return token_ != 0; }
  bool reading() const { return (interest_ & kReadable) != 0; }
  bool writing() const { return (interest_ & kWritable) != 0; }
  EventLoop* loop() const { return loop_; }

 private:
  friend class EventLoop;

  EventLoop* const loop_;
  const int fd_;
  Handler handler_;
  uint32_t interest_ = 0;
  Trigger trigger_ = Trigger::kLevel;
  uint64_t token_ = 0;  // 0 while inactive
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_IO_WATCH_H_
