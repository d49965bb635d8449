// deferred_call.h: DeferredCall, work an owner schedules for just before the
// loop next waits (Redis ae's beforesleep, for one object at a time).
//
// Batching needs one place per iteration where queued work is done: a
// connection that is handed 1,000 frames by one burst of callbacks should
// write them with one syscall, not 1,000. A DeferredCall is that place for
// one owner. Schedule marks it due; the loop runs every due call once, in
// the order scheduled, in its next deferred phase (see event_loop.h): at the
// end of the current iteration when scheduled from an io handler, timer or
// posted task, or at the start of the next iteration when scheduled between
// iterations; either way before the loop blocks again. Scheduling an
// already-due call does nothing, so its owner may call Schedule on every
// change.
//
//   class Writer {
//    public:
//     explicit Writer(EventLoop* loop) : flush_(loop, [this] { Flush(); }) {}
//     void Send(absl::string_view bytes) {
//       pending_.append(bytes);
//       flush_.Schedule();  // one Flush per iteration, however many Sends
//     }
//
//    private:
//     void Flush();           // writes pending_
//     std::string pending_;
//     DeferredCall flush_;    // cancelled when the Writer is destroyed
//   };
//
// Scheduling and cancelling cost O(1) (the due calls form an intrusive
// list), and only due calls are visited: an idle owner costs nothing per
// iteration. A call scheduled while a deferred phase runs (its own included)
// runs in the next deferred phase, and the wait before it does not block,
// so a call that always reschedules itself cannot starve I/O. A DeferredCall
// cancels itself when destroyed; the EventLoop must outlive it. Destroying a
// DeferredCall from inside its own callback aborts (hand its owner to
// EventLoop::DeleteLater). Every method is loop thread only; the
// constructor may run on any thread.
#ifndef ASYNCWORK_NET_DEFERRED_CALL_H_
#define ASYNCWORK_NET_DEFERRED_CALL_H_

#include "absl/functional/any_invocable.h"

namespace asyncwork::net {

class EventLoop;

namespace internal {

// DeferredLink is one node of the loop's circular list of due calls; the
// loop's own node is the list's head.
struct DeferredLink {
  DeferredLink* prev = nullptr;
  DeferredLink* next = nullptr;

  bool linked() const { return next != nullptr; }
  // Unlink removes this node from whichever list holds it.
  void Unlink();
  // LinkBefore inserts this (unlinked) node just before `node`; before a
  // list's head, that is at its tail.
  void LinkBefore(DeferredLink* node);
};

}  // namespace internal

class DeferredCall : private internal::DeferredLink {
 public:
  // DeferredCall prepares a call of `callback` on `loop` (not owned; must
  // outlive this). Nothing is scheduled yet.
  DeferredCall(EventLoop* loop, absl::AnyInvocable<void()> callback);

  // ~DeferredCall cancels the call. Aborts if called from its own callback.
  ~DeferredCall();

  DeferredCall(const DeferredCall&) = delete;
  DeferredCall& operator=(const DeferredCall&) = delete;

  // Schedule makes the callback run once in the loop's next deferred phase.
  // Does nothing if it is already due. Loop thread.
  void Schedule();

  // Cancel unschedules the call if it is due; idempotent. Loop thread.
  void Cancel();

  // scheduled is true from Schedule until the callback starts or Cancel.
  bool scheduled() const { return linked(); }

 private:
  friend class EventLoop;

  EventLoop* const loop_;
  absl::AnyInvocable<void()> callback_;
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_DEFERRED_CALL_H_
