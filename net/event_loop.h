// event_loop.h: EventLoop, the reactor every asynchronous part runs on.
//
// One EventLoop runs on one thread. Each iteration (RunOnce) has these named
// phases, in this order:
//   0. deferred  every DeferredCall scheduled since the last deferred phase
//              (here: between iterations) runs once, in the order scheduled;
//   1. wait    the Poller blocks until a descriptor is ready, the next timer
//              is due, another thread posts a task or calls Stop, or
//              `max_wait` passes; it does not block while a DeferredCall is
//              scheduled;
//   2. io      each ready IoWatch's handler runs with its ready bits;
//   3. timers  every timer due at the time the wait ended runs, in deadline
//              order;
//   4. tasks   every task posted before this phase began runs, in post order;
//   5. deferred  every DeferredCall scheduled in phases 1-4 runs once, in
//              the order scheduled (deferred_call.h).
// The deferred phases are the one place per iteration to flush batched
// writes, as Redis ae's beforesleep: an iteration ends with the work its
// callbacks batched done, and the next wait sees the state it produced.
// A DeferredCall scheduled by a deferred phase runs in the next one. After
// each phase but the wait, objects handed to DeleteLater are destroyed.
//
// Unlike asyncore's loop, an iteration never asks every channel whether it
// is readable or writable: a watch's interest is kept by the poller and
// changes only when its owner calls IoWatch::Watch. An event the poller
// returned for a watch that is stopped or destroyed before its turn in the
// io phase is dropped, and a new watch on a reused fd number has a new token,
// so it never receives the old watch's events.
//
//   absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
//   if (!loop.ok()) return loop.status();
//   IoWatch watch(loop->get(), fd, [&](uint32_t ready) { /* read fd */ });
//   absl::Status watched = watch.EnableReading();
//   (*loop)->RunAfter(absl::Seconds(5), [&] { (*loop)->Stop(); });
//   (*loop)->Run();
//
// Threads. The loop thread is the thread inside Run or RunOnce; between
// runs, the thread that last ran the loop (at first, the creating thread).
// Methods marked "loop thread" abort through ASYNCWORK_CHECK when called on
// another thread while a thread is running the loop. While no thread runs
// it, any one thread may call them (setting up before Run, tearing down
// after joining the thread that ran it) provided it is synchronised with the
// last runner, as joining it is. Stop, Post, IsInLoopThread and backend may
// be called from any thread at any time.
//
// Callbacks must not throw. A callback may destroy any object except the
// IoWatch whose handler is running (and the loop): hand that object to
// DeleteLater instead.
#ifndef ASYNCWORK_NET_EVENT_LOOP_H_
#define ASYNCWORK_NET_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/deferred_call.h"
#include "net/fd.h"
#include "net/poller.h"
#include "net/timer_queue.h"

namespace asyncwork::net {

class IoWatch;

class EventLoop {
  struct Key {
    explicit Key() = default;
  };

 public:
  // Create makes a loop on `backend` with its wake-up eventfd. Fails only if
  // the kernel refuses a descriptor.
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create(
      Backend backend = Backend::kEpoll);

  // Use Create; the Key keeps this constructor private to it.
  EventLoop(Key, std::unique_ptr<Poller> poller, Fd wake_fd);

  // ~EventLoop destroys pending DeleteLater objects, posted tasks and timer
  // callbacks (without running them) and unschedules DeferredCalls. Every
  // IoWatch on this loop must be stopped or destroyed by then, or it aborts.
  // Loop thread, not running.
  ~EventLoop();

  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Run runs iterations until Stop is called (from any thread, or from a
  // callback), then returns. A Stop that came before Run makes Run return at
  // once. A poller failure (a bug such as a closed
  // fd still registered with select) is logged and ends Run. Loop thread.
  void Run();

  // RunOnce runs one iteration, waiting at most `max_wait` in phase 1 (zero
  // polls without blocking, absl::InfiniteDuration() waits for an event).
  // The whole iteration runs even if the wait fails; the result is the
  // wait's failure, never a callback's. For asyncore's loop(count). Not from
  // inside a callback. Loop thread.
  absl::Status RunOnce(absl::Duration max_wait);

  // Stop makes the running (or next) Run return after its current iteration
  // and wakes the loop if it is waiting. Any thread.
  void Stop();

  // Post queues `task` to run on the loop thread in phase 4 and wakes the
  // loop. Tasks run exactly once, in the order posted; tasks still queued
  // when the loop is destroyed are destroyed without running. Any thread.
  void Post(absl::AnyInvocable<void()> task);

  // IsInLoopThread is true on the loop thread (see "Threads" above). Any
  // thread.
  bool IsInLoopThread() const;

  // AssertInLoopThread aborts if another thread is running the loop. Any
  // thread.
  void AssertInLoopThread() const;

  // RunAfter runs `callback` once, `delay` from now (measured afresh, not
  // from the cached Now()). Loop thread.
  TimerId RunAfter(absl::Duration delay, absl::AnyInvocable<void()> callback);

  // RunEvery runs `callback` every `interval` (which must be positive),
  // first at now + interval, until Cancel. Missed ticks are skipped, not
  // replayed. Loop thread.
  TimerId RunEvery(absl::Duration interval,
                   absl::AnyInvocable<void()> callback);

  // RunAt runs `callback` once at `deadline` (at the next timers phase if
  // it has passed). Loop thread.
  TimerId RunAt(absl::Time deadline, absl::AnyInvocable<void()> callback);

  // Cancel stops a pending timer and returns true; false if it already
  // fired, was cancelled or `id` is stale. Safe inside any callback,
  // including the timer's own. Loop thread.
  bool Cancel(TimerId id);

  // Now is the time the last wait ended (the time at Create before the first
  // iteration): cheap, and the same for every callback of one iteration.
  // Loop thread.
  absl::Time Now() const;

  // backend is the poller backend this loop was created with. Any thread.
  Backend backend() const { return backend_; }

  // watch_count is the number of active IoWatches (those watching an fd).
  // Loop thread.
  size_t watch_count() const;

  // timer_count is the number of pending timers. Loop thread.
  size_t timer_count() const;

  // has_deferred_calls is true while a DeferredCall is scheduled. Loop
  // thread.
  bool has_deferred_calls() const;

  // DeleteLater takes ownership of `object` and destroys it after the
  // current phase, so an object may hand itself over from inside its own
  // callback. If no iteration is running, it is destroyed at the end of the
  // next phase, or with the loop. Loop thread.
  template <typename T>
  void DeleteLater(std::unique_ptr<T> object) {
    AssertInLoopThread();
    if (object == nullptr) return;
    doomed_.push_back([object = std::move(object)]() mutable { object.reset(); });
  }

 private:
  friend class DeferredCall;
  friend class IoWatch;

  // Token 0 is the wake-up eventfd; watch tokens carry a generation >= 1 in
  // their upper 32 bits, so they are never 0.
  static constexpr uint64_t kWakeToken = 0;

  struct WatchSlot {
    IoWatch* watch = nullptr;
    uint32_t generation = 1;
  };

  // For IoWatch: the poller, and a fresh token naming `watch`.
  Poller& poller() { return *poller_; }
  uint64_t Register(IoWatch* watch);
  void Unregister(uint64_t token);
  IoWatch* FindWatch(uint64_t token) const;
  bool IsDispatching(const IoWatch* watch) const {
    return dispatching_ == watch;
  }

  // For DeferredCall: queue `call` (not yet scheduled) at the tail.
  void ScheduleDeferred(DeferredCall* call);
  bool IsRunningDeferred(const DeferredCall* call) const {
    return running_deferred_ == call;
  }

  void Enter();
  void Leave();
  void Wake();
  void DrainWake();
  void DispatchIo();
  void RunDeferredCalls();
  void RunPostedTasks();
  void DestroyDoomed();

  const Backend backend_;
  std::unique_ptr<Poller> poller_;
  Fd wake_fd_;

  std::atomic<std::thread::id> owner_;
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_requested_{false};

  // Loop-thread state.
  bool in_iteration_ = false;
  absl::Time now_;
  std::vector<ReadyEvent> ready_;
  std::vector<WatchSlot> watch_slots_;
  std::vector<uint32_t> free_watch_slots_;
  size_t watch_count_ = 0;
  const IoWatch* dispatching_ = nullptr;  // whose handler is running
  // The head of the circular list of scheduled DeferredCalls (empty: it
  // links to itself; set up in the constructor, and the loop never moves).
  internal::DeferredLink deferred_;
  const DeferredCall* running_deferred_ = nullptr;
  TimerQueue timers_;
  std::vector<absl::AnyInvocable<void()>> doomed_;
  std::vector<absl::AnyInvocable<void()>> running_tasks_;

  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // ThreadSanitizer, which then cannot see absl::Mutex synchronise. No
  // ABSL_GUARDED_BY: libstdc++'s std::mutex is not a clang "capability", so
  // clang (--config=fuzz) rejects the annotation.
  std::mutex posted_mutex_;
  std::vector<absl::AnyInvocable<void()>> posted_;  // under posted_mutex_
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_EVENT_LOOP_H_
