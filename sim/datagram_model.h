// datagram_model.h: what becomes of each datagram sent over a shaped link.
//
// Datagram sockets (UDP, Unix datagram) can lose, duplicate and reorder
// messages, which a stream cannot. A DatagramDirection adds those three to
// the stream model of link_model.h (latency, jitter, bandwidth cap), each
// decided per datagram from a seeded generator, so one seed replays one run:
//
//   DatagramConfig config;
//   config.link.latency = absl::Milliseconds(20);
//   config.loss = 0.01;
//   config.link.seed = 42;
//   DatagramDirection direction(config);
//   for (const Delivery& d : direction.OnSend(absl::Now(), datagram.size())) {
//     // deliver a copy of `datagram` at d.at
//   }
//
// Per datagram, in this order:
//  - Loss: with probability `loss` it is dropped before it reaches the link,
//    taking no bandwidth (as the kernel's netem drops on enqueue), and
//    OnSend returns no delivery.
//  - Otherwise it is serialized and delivered as by LinkDirection::Schedule
//    (a datagram arrives whole, when its last byte does).
//  - Reordering: with probability `reorder` it is held back a further
//    `reorder_delay` after its normal delivery time, without holding back
//    the datagrams after it, which may therefore overtake it.
//  - Duplication: with probability `duplicate` a second copy is serialized
//    right after it (taking bandwidth like any datagram) and delivered too.
// The three decisions are drawn for every datagram, lost or not, from a
// generator separate from the jitter's, so datagram N's fate depends only on
// the seed and N.
#ifndef ASYNCWORK_SIM_DATAGRAM_MODEL_H_
#define ASYNCWORK_SIM_DATAGRAM_MODEL_H_

#include <cstddef>
#include <cstdint>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sim/link_model.h"
#include "sim/seeded_random.h"

namespace asyncwork::sim {

// DatagramConfig describes one direction of a datagram link.
struct DatagramConfig {
  // Latency, jitter, bandwidth cap and seed, as for a stream.
  LinkConfig link;
  // Probabilities in [0, 1].
  double loss = 0;
  double duplicate = 0;
  double reorder = 0;
  // How long a reordered datagram is held back; must be positive when
  // reorder > 0.
  absl::Duration reorder_delay = absl::ZeroDuration();
};

// ValidateDatagramConfig returns InvalidArgument naming the field when a
// probability lies outside [0, 1], reorder > 0 has no positive
// reorder_delay, or the link config is invalid.
absl::Status ValidateDatagramConfig(const DatagramConfig& config);

// DatagramProfile is a datagram link's two directions.
struct DatagramProfile {
  DatagramConfig client_to_server;
  DatagramConfig server_to_client;

  // Symmetric returns a profile with `config` in both directions; the
  // server-to-client direction is seeded with config.link.seed + 1, so the
  // two directions' decisions are not the same sequence.
  static DatagramProfile Symmetric(const DatagramConfig& config);
};

// Delivery is one copy of a datagram arriving.
struct Delivery {
  absl::Time at;
  // True for the second copy made by duplication.
  bool duplicate = false;
  // True when this copy was held back by reordering.
  bool reordered = false;

  friend bool operator==(const Delivery& a, const Delivery& b) = default;
};

// Deliveries holds 0, 1 or 2 deliveries without allocating.
using Deliveries = absl::InlinedVector<Delivery, 2>;

// DatagramStats counts decisions since construction.
struct DatagramStats {
  uint64_t sent = 0;
  uint64_t lost = 0;
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
};

// DatagramDirection is one direction's model. Not thread-safe: one owner
// calls it.
class DatagramDirection {
 public:
  // DatagramDirection aborts when ValidateDatagramConfig(config) fails;
  // validate configuration from users first.
  explicit DatagramDirection(const DatagramConfig& config);

  // OnSend decides the fate of a datagram of `bytes` bytes sent at `sent_at`
  // and returns when each surviving copy arrives: none (lost), one, or two
  // (duplicated; the original first in the result).
  Deliveries OnSend(absl::Time sent_at, size_t bytes);

  const DatagramStats& stats() const { return stats_; }
  const DatagramConfig& config() const { return config_; }

 private:
  DatagramConfig config_;
  LinkDirection link_;
  SeededRandom decisions_;
  DatagramStats stats_;
};

}  // namespace asyncwork::sim

#endif  // ASYNCWORK_SIM_DATAGRAM_MODEL_H_
