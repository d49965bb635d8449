// timer_queue.h: TimerQueue, the one-shot and repeating timers of EventLoop.
//
// An indexed binary heap ordered by deadline (ties fire in the order they
// were added): adding, cancelling and firing a timer cost O(log n), and a
// cancelled timer leaves the heap at once, so tens of thousands of
// per-request timeouts that are mostly cancelled stay cheap. Time is passed
// in explicitly, which makes the queue testable without sleeping.
//
//   TimerQueue timers;
//   TimerId id = timers.Add(now + absl::Seconds(1), absl::ZeroDuration(),
//                           [] { LogInfo("one second later"); });
//   timers.Cancel(id);          // true: it had not fired
//   timers.RunDue(absl::Now()); // runs every timer whose deadline has passed
//
// Most code uses EventLoop::RunAfter/RunEvery/RunAt/Cancel instead. A
// TimerQueue is not thread-safe: one thread (the loop's) calls everything.
#ifndef ASYNCWORK_NET_TIMER_QUEUE_H_
#define ASYNCWORK_NET_TIMER_QUEUE_H_

#include <cstdint>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"

namespace asyncwork::net {

// TimerId names one timer. A default TimerId names none. Ids are
// generation-checked: once a timer has fired (one-shot) or been cancelled,
// its id never cancels anything again, even a newer timer in the same slot.
class TimerId {
 public:
  TimerId() = default;
  bool valid() const { return generation_ != 0; }
  friend bool operator==(TimerId a, TimerId b) {
    return a.slot_ == b.slot_ && a.generation_ == b.generation_;
  }
  friend bool operator!=(TimerId a, TimerId b) { return !(a == b); }

 private:
  friend class TimerQueue;
  TimerId(uint32_t slot, uint32_t generation)
      : slot_(slot), generation_(generation) {}

  uint32_t slot_ = 0;
  uint32_t generation_ = 0;
};

class TimerQueue {
 public:
  TimerQueue() = default;
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Add schedules `callback` at `deadline`; with a positive `interval` it
  // repeats every `interval` after that until cancelled (a zero interval
  // means once). A deadline in the past fires at the next RunDue.
  TimerId Add(absl::Time deadline, absl::Duration interval,
              absl::AnyInvocable<void()> callback);

  // Cancel stops the timer `id` names and returns true, or returns false if
  // it already fired (one-shot), was cancelled, or `id` is stale or default.
  // Safe from inside any timer callback, including the timer's own: a
  // repeating timer cancelled from its own callback is not re-armed, and a
  // timer cancelled by an earlier callback in the same RunDue does not run.
  bool Cancel(TimerId id);

  // RunDue runs, in deadline order, every timer whose deadline is at or
  // before `now` when RunDue starts, and returns how many ran. Timers added
  // by those callbacks wait for the next RunDue even if already due, so a
  // callback that re-adds itself with no delay cannot starve the loop.
  // A repeating timer is re-armed at deadline + interval, or at now +
  // interval if that has passed already (missed ticks are skipped, not
  // replayed in a burst). Not reentrant.
  size_t RunDue(absl::Time now);

  // Clear cancels every timer and destroys its callback. Not from inside a
  // callback; outstanding ids become stale.
  void Clear();

  // NextDeadline is the earliest pending deadline, or absl::InfiniteFuture().
  absl::Time NextDeadline() const;

  // size is the number of pending timers: not yet fired (one-shot) and not
  // cancelled.
  size_t size() const { return pending_count_; }
  bool empty() const { return pending_count_ == 0; }

 private:
  static constexpr uint32_t kNotInHeap = UINT32_MAX;

  struct Slot {
    absl::AnyInvocable<void()> callback;
    absl::Time deadline;
    absl::Duration interval;
    uint32_t generation = 1;  // bumped on release; 0 is never used
    uint32_t heap_index = kNotInHeap;
    bool pending = false;     // armed, due or repeating, and not cancelled
  };

  // The heap holds its sort keys inline, so sifting compares neighbouring
  // entries instead of chasing slot indices through memory.
  struct HeapEntry {
    absl::Time deadline;
    uint64_t sequence;  // tie-break: equal deadlines fire in Add order
    uint32_t slot;
  };

  static bool Before(const HeapEntry& a, const HeapEntry& b) {
    if (a.deadline != b.deadline) return a.deadline < b.deadline;
    return a.sequence < b.sequence;
  }
  void Push(uint32_t slot);
  void EraseAt(uint32_t index);  // removes heap_[index]
  void SiftUp(uint32_t index);
  void SiftDown(uint32_t index);
  void Place(uint32_t index, const HeapEntry& entry);
  uint32_t Allocate();
  void Release(uint32_t slot);

  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<HeapEntry> heap_;  // a binary min-heap
  std::vector<uint32_t> due_;   // the batch RunDue is working through
  size_t pending_count_ = 0;
  bool running_due_ = false;
  uint64_t next_sequence_ = 0;
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_TIMER_QUEUE_H_
