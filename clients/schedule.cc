#include "clients/schedule.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace asyncwork::clients {

SendSchedule SendSchedule::ClosedLoop() {
  return SendSchedule(false, absl::ZeroDuration(), absl::InfinitePast());
}

absl::StatusOr<SendSchedule> SendSchedule::Paced(double requests_per_second,
                                                 absl::Time start) {
  if (!(requests_per_second > 0) || std::isinf(requests_per_second)) {
    return absl::InvalidArgumentError(
        absl::StrCat("send rate ", requests_per_second,
                     " per second: must be positive and finite"));
  }
  absl::Duration interval = absl::Seconds(1) / requests_per_second;
  // Below a nanosecond the schedule could not tell requests apart; no client
  // sends a billion requests a second anyway.
  if (interval < absl::Nanoseconds(1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("send rate ", requests_per_second,
                     " per second: above one request per nanosecond"));
  }
  return SendSchedule(true, interval, start);
}

absl::Time SendSchedule::IntendedSendTime(uint64_t i) const {
  if (!paced_) return absl::InfinitePast();
  // Integer multiplication of a Duration is exact, so request i is due at
  // exactly i intervals and SendsDueBy agrees with this to the nanosecond.
  return start_ + interval_ * static_cast<int64_t>(i);
}

absl::Time SendSchedule::DueAt(uint64_t i, absl::Time eligible_at) const {
  return paced_ ? IntendedSendTime(i) : eligible_at;
}

uint64_t SendSchedule::SendsDueBy(absl::Time now) const {
  if (!paced_) return std::numeric_limits<uint64_t>::max();
  if (now < start_) return 0;
  absl::Duration remainder;
  int64_t whole_intervals =
      absl::IDivDuration(now - start_, interval_, &remainder);
  return static_cast<uint64_t>(whole_intervals) + 1;
}

absl::Duration LatencySince(absl::Time due_at, absl::Time completed_at) {
  absl::Duration latency = completed_at - due_at;
  return latency < absl::ZeroDuration() ? absl::ZeroDuration() : latency;
}

}  // namespace asyncwork::clients
