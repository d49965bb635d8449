#include "net/timer_queue.h"

#include <utility>

#include "net/check.h"

namespace asyncwork::net {

TimerId TimerQueue::Add(absl::Time deadline, absl::Duration interval,
                        absl::AnyInvocable<void()> callback) {
  uint32_t slot = Allocate();
  Slot& s = slots_[slot];
  s.callback = std::move(callback);
  s.deadline = deadline;
  s.interval = std::max(interval, absl::ZeroDuration());
  s.pending = true;
  ++pending_count_;
  Push(slot);
  return TimerId(slot, s.generation);
}

bool TimerQueue::Cancel(TimerId id) {
  if (!id.valid() || id.slot_ >= slots_.size()) return false;
  Slot& s = slots_[id.slot_];
  if (s.generation != id.generation_ || !s.pending) return false;
  s.pending = false;
  --pending_count_;
  // A timer in RunDue's batch (due or running) is released by RunDue once it
  // reaches it; only a timer still in the heap can be released here.
  if (s.heap_index != kNotInHeap) {
    EraseAt(s.heap_index);
    Release(id.slot_);
  }
  return true;
}

size_t TimerQueue::RunDue(absl::Time now) {
  ASYNCWORK_CHECK(!running_due_) << "TimerQueue::RunDue is not reentrant";
  running_due_ = true;
  // Collect the due batch first, so timers added by the callbacks below wait
  // for the next RunDue even when their deadline has already passed.
  due_.clear();
  while (!heap_.empty() && heap_[0].deadline <= now) {
    due_.push_back(heap_[0].slot);
    EraseAt(0);
  }
  size_t ran = 0;
  for (uint32_t slot : due_) {
    if (!slots_[slot].pending) {  // cancelled by an earlier callback
      Release(slot);
      continue;
    }
    if (slots_[slot].interval == absl::ZeroDuration()) {
      slots_[slot].pending = false;
      --pending_count_;
    }
    // Run a moved-out copy: the callback may Add timers, and growing slots_
    // would move the callable while it runs.
    absl::AnyInvocable<void()> callback = std::move(slots_[slot].callback);
    callback();
    ++ran;
    Slot& s = slots_[slot];
    if (!s.pending) {
      Release(slot);
      continue;
    }
    s.callback = std::move(callback);
    s.deadline += s.interval;
    if (s.deadline <= now) s.deadline = now + s.interval;
    Push(slot);
  }
  due_.clear();
  running_due_ = false;
  return ran;
}

void TimerQueue::Clear() {
  ASYNCWORK_CHECK(!running_due_) << "TimerQueue::Clear called from a timer";
  // Bump every generation so no outstanding id matches, then destroy the
  // callbacks only after the queue is consistent again, since their
  // captures' destructors may call back into it.
  std::vector<absl::AnyInvocable<void()>> doomed;
  doomed.reserve(slots_.size());
  free_slots_.clear();
  for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
    doomed.push_back(std::move(slots_[slot].callback));
    Release(slot);
  }
  heap_.clear();
  pending_count_ = 0;
}

absl::Time TimerQueue::NextDeadline() const {
  return heap_.empty() ? absl::InfiniteFuture() : heap_[0].deadline;
}

void TimerQueue::Place(uint32_t index, const HeapEntry& entry) {
  heap_[index] = entry;
  slots_[entry.slot].heap_index = index;
}

void TimerQueue::Push(uint32_t slot) {
  heap_.push_back({slots_[slot].deadline, next_sequence_++, slot});
  uint32_t index = static_cast<uint32_t>(heap_.size() - 1);
  slots_[slot].heap_index = index;
  SiftUp(index);
}

void TimerQueue::EraseAt(uint32_t index) {
  slots_[heap_[index].slot].heap_index = kNotInHeap;
  HeapEntry last = heap_.back();
  heap_.pop_back();
  if (index == heap_.size()) return;
  Place(index, last);
  SiftUp(index);
  SiftDown(slots_[last.slot].heap_index);
}

void TimerQueue::SiftUp(uint32_t index) {
  HeapEntry entry = heap_[index];
  while (index > 0) {
    uint32_t parent = (index - 1) / 2;
    if (!Before(entry, heap_[parent])) break;
    Place(index, heap_[parent]);
    index = parent;
  }
  Place(index, entry);
}

void TimerQueue::SiftDown(uint32_t index) {
  HeapEntry entry = heap_[index];
  const size_t n = heap_.size();
  while (true) {
    size_t child = 2 * static_cast<size_t>(index) + 1;
    if (child >= n) break;
    if (child + 1 < n && Before(heap_[child + 1], heap_[child])) ++child;
    if (!Before(heap_[child], entry)) break;
    Place(index, heap_[child]);
    index = static_cast<uint32_t>(child);
  }
  Place(index, entry);
}

uint32_t TimerQueue::Allocate() {
  if (!free_slots_.empty()) {
    uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  slots_.emplace_back();
  return static_cast<uint32_t>(slots_.size() - 1);
}

void TimerQueue::Release(uint32_t slot) {
  // Destroy the callback last: its captures' destructors may call back into
  // this queue, which must by then see the slot free and its ids stale.
  absl::AnyInvocable<void()> callback = std::move(slots_[slot].callback);
  Slot& s = slots_[slot];
  s.callback = nullptr;
  s.heap_index = kNotInHeap;
  s.pending = false;
  if (++s.generation == 0) s.generation = 1;
  free_slots_.push_back(slot);
}

}  // namespace asyncwork::net
