// delivery_queue.h: payloads waiting for their delivery time.
//
// The shaping models say when bytes arrive; a DeliveryQueue holds them until
// then. A reactor arms one timer for NextDue() and drains the queue when it
// fires; a blocking pump sleeps until NextDue() and does the same. It holds
// any payload type: byte chunks of a stream, datagrams with their addresses.
//
//   DeliveryQueue<std::string> queue;
//   for (const Segment& s : link.ScheduleChunks(now, data.size())) {
//     queue.Push(s.deliver_at, data.substr(offset, s.bytes));
//     offset += s.bytes;
//   }
//   loop.RunAt(queue.NextDue(), [&] {
//     queue.PopDue(absl::Now(), [&](absl::Time due, std::string bytes) {
//       reader.Append(bytes);
//     });
//   });
//
// Payloads come out in order of due time; payloads due at the same time come
// out in the order they were pushed. A stream whose due times never decrease
// (as LinkDirection guarantees) therefore comes out in FIFO order, while
// datagrams pushed with earlier due times overtake, as a reordering model
// intends.
#ifndef ASYNCWORK_SIM_DELIVERY_QUEUE_H_
#define ASYNCWORK_SIM_DELIVERY_QUEUE_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"

namespace asyncwork::sim {

// DeliveryQueue owns its pending payloads. Not thread-safe: one owner (the
// reactor thread, or a pump holding the connection's lock) calls it.
template <typename Payload>
class DeliveryQueue {
 public:
  DeliveryQueue() = default;
  DeliveryQueue(DeliveryQueue&&) = default;
  DeliveryQueue& operator=(DeliveryQueue&&) = default;
  DeliveryQueue(const DeliveryQueue&) = delete;
  DeliveryQueue& operator=(const DeliveryQueue&) = delete;

  // Push adds `payload`, due for delivery at `due`.
  void Push(absl::Time due, Payload payload) {
    entries_.push_back(Entry{due, next_sequence_++, std::move(payload)});
    std::push_heap(entries_.begin(), entries_.end(), Later);
  }

  // NextDue returns the earliest due time, or absl::InfiniteFuture() when
  // the queue is empty (a timer armed for it never fires).
  absl::Time NextDue() const {
    return entries_.empty() ? absl::InfiniteFuture() : entries_.front().due;
  }

  // PopDue removes the payloads due at or before `now` and passes each to
  // `deliver`, in delivery order; returns how many it delivered. `deliver`
  // may Push. A payload pushed during the call is never delivered by the
  // same call, so one call always ends; if it is next in order, the call
  // stops there and the payloads behind it wait for the next call too, which
  // keeps the order. Callers re-arm their timer with NextDue() afterwards.
  size_t PopDue(absl::Time now,
                absl::FunctionRef<void(absl::Time due, Payload payload)> deliver) {
    // Entries pushed from `deliver` get sequence numbers from here on.
    const uint64_t pushed_before = next_sequence_;
    size_t delivered = 0;
    while (!entries_.empty() && entries_.front().due <= now &&
           entries_.front().sequence < pushed_before) {
      std::pop_heap(entries_.begin(), entries_.end(), Later);
      Entry entry = std::move(entries_.back());
      entries_.pop_back();
      // The entry is out of the heap before the callback runs, so a Push
      // from the callback sees a consistent heap.
      deliver(entry.due, std::move(entry.payload));
      ++delivered;
    }
    return delivered;
  }

  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    absl::Time due;
    // Push order, to keep payloads due at the same time first-in first-out.
    uint64_t sequence;
    Payload payload;
  };

  // Later orders the heap so its front is the earliest (due, sequence).
  static bool Later(const Entry& a, const Entry& b) {
    if (a.due != b.due) return a.due > b.due;
    return a.sequence > b.sequence;
  }

  std::vector<Entry> entries_;
  uint64_t next_sequence_ = 0;
};

}  // namespace asyncwork::sim

#endif  // ASYNCWORK_SIM_DELIVERY_QUEUE_H_
