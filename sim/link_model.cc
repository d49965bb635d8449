#include "sim/link_model.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "net/check.h"
#include "sim/units.h"

namespace asyncwork::sim {
namespace {

absl::Status CheckDelay(absl::string_view field, absl::Duration value) {
  if (value < absl::ZeroDuration() || value == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "link ", field, " must be finite and not negative, not ",
        FormatLatency(value)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateLinkConfig(const LinkConfig& config) {
  absl::Status status = CheckDelay("latency", config.latency);
  if (!status.ok()) return status;
  return CheckDelay("jitter", config.jitter);
}

LinkProfile LinkProfile::Symmetric(const LinkConfig& config) {
  LinkProfile profile{config, config};
  profile.server_to_client.seed = config.seed + 1;
  return profile;
}

LinkDirection::LinkDirection(const LinkConfig& config)
    : config_(config), random_(config.seed) {
  absl::Status status = ValidateLinkConfig(config);
  ASYNCWORK_CHECK(status.ok()) << status.ToString();
  if (config_.bandwidth.has_value()) {
    burst_time_ = config_.bandwidth->TimeToSend(config_.burst_bytes);
  }
}

absl::Time LinkDirection::Schedule(absl::Time sent_at, size_t bytes) {
  absl::Duration jitter = DrawJitter();
  if (!config_.bandwidth.has_value()) return Deliver(sent_at, jitter);
  sent_at = StartWrite(sent_at);
  return Deliver(Send(sent_at, bytes), jitter);
}

std::vector<Segment> LinkDirection::ScheduleChunks(absl::Time sent_at,
                                                   size_t bytes,
                                                   size_t max_segment) {
  std::vector<Segment> segments;
  ScheduleChunks(sent_at, bytes, max_segment, &segments);
  return segments;
}

void LinkDirection::ScheduleChunks(absl::Time sent_at, size_t bytes,
                                   size_t max_segment,
                                   std::vector<Segment>* out) {
  ASYNCWORK_CHECK(max_segment > 0) << "segments must hold at least one byte";
  // Splitting an uncapped write would only give every segment the same time.
  if (!config_.bandwidth.has_value() || bytes == 0) {
    out->push_back(Segment{Schedule(sent_at, bytes), bytes});
    return;
  }
  // One jitter draw for the whole write: segments of one write travel
  // together, and the draw count per write stays one, as in Schedule.
  absl::Duration jitter = DrawJitter();
  sent_at = StartWrite(sent_at);
  for (size_t left = bytes; left > 0;) {
    size_t segment = std::min(left, max_segment);
    left -= segment;
    out->push_back(Segment{Deliver(Send(sent_at, segment), jitter), segment});
  }
}

absl::Time LinkDirection::StartWrite(absl::Time sent_at) {
  ASYNCWORK_CHECK(sent_at != absl::InfinitePast() &&
                  sent_at != absl::InfiniteFuture())
      << "a write needs a finite time";
  // Whole nanoseconds everywhere make the busy test below exact: the queue's
  // exact drain time lies in (idle_at_ - 1ns, idle_at_], so a write at a
  // whole-nanosecond time finds the link idle exactly when it is at or past
  // idle_at_. Moving a write later by under a nanosecond only delays it.
  int64_t nanos = absl::ToUnixNanos(sent_at);
  if (absl::FromUnixNanos(nanos) < sent_at) ++nanos;
  sent_at = absl::FromUnixNanos(nanos);
  // The token bucket as a virtual clock: an idle link has saved up at most
  // burst_time_ of sending, so the write's bytes count from
  // sent_at - burst_time_ unless the queue ahead of them lasts longer.
  absl::Time earliest = sent_at - burst_time_;
  if (earliest >= idle_at_) {
    anchor_ = earliest;
    anchor_bytes_ = 0;
  }
  return sent_at;
}

absl::Time LinkDirection::Send(absl::Time sent_at, size_t bytes) {
  anchor_bytes_ += bytes;
  idle_at_ = anchor_ + config_.bandwidth->TimeToSend(anchor_bytes_);
  // Saved-up tokens let bytes leave early, but not before they exist.
  return std::max(idle_at_, sent_at);
}

absl::Time LinkDirection::Deliver(absl::Time departure,
                                  absl::Duration jitter) {
  last_delivery_ =
      std::max(last_delivery_, departure + config_.latency + jitter);
  return last_delivery_;
}

absl::Duration LinkDirection::DrawJitter() {
  // No draw without jitter: nothing to vary, and it keeps the common
  // unjittered case free of engine calls.
  if (config_.jitter == absl::ZeroDuration()) return absl::ZeroDuration();
  return random_.UpTo(config_.jitter);
}

}  // namespace asyncwork::sim
