// schedule.h: SendSchedule, when each request is due, so that latency is
// measured from when a request *should* have gone out rather than from when
// it did (coordinated omission).
//
// A client that stalls (a full window, a slow connect, a busy event loop)
// sends late; measuring from the late send would hide the stall, because the
// requests that waited behind it never show the wait. So every request gets a
// due time, stamped by the strategy, and
//
//     latency = completion time - due time.
//
// The due time depends on the mode:
//
//   * Paced (a target rate R): request i is due at start + i / R, its
//     intended send time, whatever the client is doing then. If the window is
//     full or the client is busy at that moment the request goes out late and
//     the lateness counts in its latency.
//   * Closed loop (no rate, as fast as the window allows): a request becomes
//     due the moment it may be sent, that is, when its window slot frees
//     (the previous answer arrived, a thread or connection became free; for
//     the first W requests of a window of W, the start of the run). The
//     strategy stamps that moment and passes it in as `eligible_at`. Anything
//     between that moment and the actual send (connecting, encoding, the
//     loop being busy elsewhere) counts; with no such delay this is the
//     completion minus the actual send time.
//
//   SendSchedule schedule = SendSchedule::ClosedLoop();
//   ...  // in the strategy, when request i's slot frees:
//   absl::Time due_at = schedule.DueAt(i, absl::Now());
//   ...  // when its verified answer arrives:
//   stats.RecordCompleted(LatencySince(due_at, absl::Now()));
//
// A paced client additionally waits until IntendedSendTime(i) before sending
// request i (or, from a timer, sends every request below SendsDueBy(now)).
//
// SendSchedule is an immutable value; any thread may call it.
#ifndef ASYNCWORK_CLIENTS_SCHEDULE_H_
#define ASYNCWORK_CLIENTS_SCHEDULE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace asyncwork::clients {

class SendSchedule {
 public:
  // ClosedLoop returns the schedule with no target rate: each request is due
  // when its window slot frees.
  static SendSchedule ClosedLoop();

  // Paced returns the schedule that sends `requests_per_second` requests per
  // second from `start` on, request 0 at `start`. The rate must be positive
  // and finite and its interval at least a nanosecond; otherwise
  // InvalidArgument.
  static absl::StatusOr<SendSchedule> Paced(double requests_per_second,
                                            absl::Time start);

  // paced returns whether there is a target rate.
  bool paced() const { return paced_; }

  // interval returns the time between two intended sends (zero when closed
  // loop).
  absl::Duration interval() const { return interval_; }

  // IntendedSendTime returns when request `i` (0-based) should go out:
  // start + i * interval when paced; absl::InfinitePast() in a closed loop,
  // where a request may go out as soon as its slot frees.
  absl::Time IntendedSendTime(uint64_t i) const;

  // DueAt returns the time request `i`'s latency is measured from. Paced:
  // IntendedSendTime(i), whether the request became eligible before that or
  // after it. Closed loop: `eligible_at`, the moment its slot freed.
  absl::Time DueAt(uint64_t i, absl::Time eligible_at) const;

  // SendsDueBy returns how many requests are due at or before `now`, that is
  // the number i such that requests 0..i-1 are due: floor((now - start) /
  // interval) + 1 when paced (0 before start). In a closed loop every
  // request is always eligible, so it returns UINT64_MAX.
  uint64_t SendsDueBy(absl::Time now) const;

 private:
  SendSchedule(bool paced, absl::Duration interval, absl::Time start)
      : paced_(paced), interval_(interval), start_(start) {}

  bool paced_;
  absl::Duration interval_;
  absl::Time start_;
};

// LatencySince returns `completed_at - due_at`, or zero if the clock makes
// that negative. It is the one latency every strategy records.
absl::Duration LatencySince(absl::Time due_at, absl::Time completed_at);

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_SCHEDULE_H_
