// link_model.h: when each byte written into a shaped stream link arrives.
//
// A LinkDirection models one direction of a link: one-way latency, optional
// jitter, and an optional bandwidth cap. It does no I/O and has no clock of
// its own: the caller says when bytes were written and the model says when
// they are delivered, so the in-process shaping (blocking or reactor-driven)
// and the shaping proxy share one model and tests need no sleeping.
//
//   LinkConfig config;
//   config.latency = absl::Milliseconds(50);
//   config.bandwidth = Bandwidth::BitsPerSecond(10'000'000);
//   LinkDirection link(config);
//   for (const Segment& s : link.ScheduleChunks(absl::Now(), data.size())) {
//     // hand s.bytes more bytes of `data` to the reader at s.deliver_at
//   }
//
// The rules, for a link with cap `bandwidth` and no burst:
//  - Byte-accurate serialization. Bytes leave the sender one after another at
//    `bandwidth`; a byte written at t leaves no sooner than
//    t + (bytes queued ahead of it, itself included) / bandwidth, and is
//    delivered `latency` (plus jitter) after it leaves. An idle link starts
//    serializing a write the moment it is written. Without jitter a write's
//    last byte is delivered at exactly that bound, rounded up to the next
//    nanosecond. The link keeps a running byte count while it stays busy, so
//    10,000 back-to-back writes end exactly where one write of their total
//    size would: rounding never accumulates.
//  - Token bucket. `burst_bytes` is the bucket's depth: while the link idles
//    it saves up to that many bytes' worth of sending time, which later bytes
//    may spend to leave early, but never before they are written. Over any
//    interval T the link sends at most burst_bytes + bandwidth * T. With a
//    burst of B bytes the bound above loosens by B / bandwidth (rounded up
//    to the nanosecond); the default, 0, keeps it exact.
//  - Jitter. Each write is delayed by an extra amount drawn uniformly from
//    [0, jitter] (never negative, so the bound above still holds) from a
//    std::mt19937_64 seeded with `seed`; one seed replays one run. A
//    delivery is never earlier than the one before it, so jitter never
//    reorders a stream's bytes.
//  - Without a bandwidth cap a write is delivered whole at t + latency
//    (+ jitter).
//
// Times passed in need not increase (absl::Now() may step back); deliveries
// still never go backwards.
#ifndef ASYNCWORK_SIM_LINK_MODEL_H_
#define ASYNCWORK_SIM_LINK_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sim/seeded_random.h"
#include "sim/units.h"

namespace asyncwork::sim {

// LinkConfig describes one direction of a link.
struct LinkConfig {
  // One-way latency added to every byte; must not be negative.
  absl::Duration latency = absl::ZeroDuration();
  // Extra delay per write, uniform in [0, jitter]; must not be negative.
  absl::Duration jitter = absl::ZeroDuration();
  // The rate cap; std::nullopt means no cap.
  std::optional<Bandwidth> bandwidth;
  // Token bucket depth in bytes (see the rules above); 0 means none.
  uint64_t burst_bytes = 0;
  // Seeds the jitter (and, for datagrams, the loss, duplication and reorder
  // decisions).
  uint64_t seed = 1;
};

// ValidateLinkConfig returns InvalidArgument naming the field when `config`
// has a negative or infinite latency or jitter.
absl::Status ValidateLinkConfig(const LinkConfig& config);

// LinkProfile is a link's two directions.
struct LinkProfile {
  LinkConfig client_to_server;
  LinkConfig server_to_client;

  // Symmetric returns a profile with `config` in both directions; the
  // server-to-client direction is seeded with config.seed + 1 so the two
  // directions' jitter is not the same sequence.
  static LinkProfile Symmetric(const LinkConfig& config);
};

// Segment is a run of consecutive bytes of one write that arrives together.
struct Segment {
  absl::Time deliver_at;
  size_t bytes = 0;

  friend bool operator==(const Segment& a, const Segment& b) = default;
};

// kDefaultSegmentBytes is the largest segment ScheduleChunks makes by
// default: one TCP segment on Ethernet (1500 - 20 IP - 20 TCP - 12 options).
inline constexpr size_t kDefaultSegmentBytes = 1448;

// LinkDirection is one direction's model. Not thread-safe: one owner (the
// reactor thread, or whoever holds the connection's lock) calls it.
class LinkDirection {
 public:
  // LinkDirection aborts when ValidateLinkConfig(config) fails; validate
  // configuration from users first.
  explicit LinkDirection(const LinkConfig& config);

  // Schedule accounts for a write of `bytes` bytes at `sent_at` and returns
  // when its last byte is delivered. A write of 0 bytes (an end of stream,
  // say) takes no sending time but is delivered after everything before it.
  absl::Time Schedule(absl::Time sent_at, size_t bytes);

  // ScheduleChunks is Schedule for a reader that should see a large write
  // arrive progressively: it splits the write into segments of at most
  // `max_segment` bytes (> 0) and returns when each arrives, in order, with
  // increasing (non-decreasing under jitter) times. Without a bandwidth cap
  // the write is one segment. A write of 0 bytes gives one empty segment.
  std::vector<Segment> ScheduleChunks(absl::Time sent_at, size_t bytes,
                                      size_t max_segment = kDefaultSegmentBytes);

  // ScheduleChunks appends to `out` (owned by the caller) instead, so a hot
  // path can reuse one vector.
  void ScheduleChunks(absl::Time sent_at, size_t bytes, size_t max_segment,
                      std::vector<Segment>* out);

  // last_delivery returns the latest delivery time handed out so far, or
  // absl::InfinitePast() before the first write.
  absl::Time last_delivery() const { return last_delivery_; }

  // idle_at returns when the link's queue drains at the cap: the last byte
  // written so far leaves then (or at its write time, if a burst lets it go
  // earlier). absl::InfinitePast() before the first write or without a cap.
  absl::Time idle_at() const { return idle_at_; }

  const LinkConfig& config() const { return config_; }

 private:
  // StartWrite rounds `sent_at` up to a whole nanosecond, moves the
  // bucket's anchor there (less the burst allowance) when the link is idle
  // by then, and returns the rounded time.
  absl::Time StartWrite(absl::Time sent_at);
  // Send serializes `bytes` more bytes of a write made at `sent_at` and
  // returns when the last of them leaves the sender.
  absl::Time Send(absl::Time sent_at, size_t bytes);
  // Deliver turns a departure time into a delivery time: latency, this
  // write's jitter, and the no-reordering clamp.
  absl::Time Deliver(absl::Time departure, absl::Duration jitter);
  absl::Duration DrawJitter();

  LinkConfig config_;
  SeededRandom random_;
  // Sending time the bucket can save up: burst_bytes at the cap.
  absl::Duration burst_time_ = absl::ZeroDuration();
  // While the link stays busy, bytes leave at anchor_ + TimeToSend(count):
  // one running count, so per-write rounding never adds up.
  absl::Time anchor_ = absl::InfinitePast();
  uint64_t anchor_bytes_ = 0;
  absl::Time idle_at_ = absl::InfinitePast();
  absl::Time last_delivery_ = absl::InfinitePast();
};

}  // namespace asyncwork::sim

#endif  // ASYNCWORK_SIM_LINK_MODEL_H_
