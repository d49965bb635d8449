// relay.h: ShapedRelay, two sockets joined through a shaped link.
//
// A ShapedRelay is the one piece of code that delays bytes. It joins two
// connected, non-blocking sockets on one EventLoop: the client side (the
// local program, or its end of a socketpair) and the server side (the real
// peer). Whatever it reads from one side it hands to the link model
// (link_model.h, datagram_model.h), holds in a DeliveryQueue until the model
// says it arrives, and then writes to the other side. Client-to-server
// traffic follows the profile's client_to_server direction, the reverse
// follows server_to_client. No thread per connection: reads and writes run
// on the loop's readiness events, and each direction has one loop timer,
// re-armed to its next due time. Both forms of shaping use it: Link
// (shaper.h) for in-process shaping and ShapingProxy (shaping_proxy.h).
//
//   RelaySet relays(loop);
//   absl::Status started = relays.Start(ShapedRelay::ForStream(
//       loop, std::move(client_end), std::move(upstream),
//       LinkProfile::Symmetric(config)));
//   loop->Run();
//
// Streams (TCP, Unix stream):
//  - Order and content. Every byte arrives, once, in order; a read of N
//    bytes at time t is split into TCP-sized segments that arrive as
//    LinkDirection::ScheduleChunks(t, N) says (t is when the relay read it,
//    never earlier than the program wrote it).
//  - Backpressure. Each direction holds at most
//    RelayOptions::max_held_bytes plus what the link carries in flight (its
//    bandwidth times latency plus jitter), plus one read of 64 KiB; at that
//    point the relay stops reading the source, whose kernel buffers then
//    fill and block its writer, as a slow network would. A destination
//    whose kernel buffer is full is waited for (until writable); nothing is
//    dropped. An uncapped link therefore carries at most
//    max_held_bytes / latency (80 MiB/s at 4 MiB and 50 ms).
//  - Half-close. End of stream from one side travels like a zero-byte write:
//    once every byte before it is delivered, the relay shuts down writing
//    on the other side (shutdown(SHUT_WR)); the other direction goes on.
//    The relay finishes, with an OK status, when both directions have ended.
//  - Failure. When a side fails (a reset, or a write that finds it closed),
//    the relay stops reading both sides and drops what was on its way to
//    the failed side; what the failed side had sent is still delivered at
//    its due time, and then the relay closes, with the failure as its
//    status. Its TCP sockets are then closed with SO_LINGER 0, so a TCP
//    peer sees a reset, as it would had the connection broken end to end.
//  - Faults. A stream relay given a FaultPlan (fault.h) applies it to its
//    connection: every_nth_connection is its caller's business (the caller
//    passes the plan only to the connections it faults). The connect delay
//    holds the relay, reading nothing, for that long after Start. A byte
//    fault counts delivered bytes and never delivers one beyond its limit:
//    a close shuts both sides down in order (each peer reads end of stream
//    after the last byte), a reset closes both with SO_LINGER 0 (a TCP
//    peer sees ECONNRESET; a Unix stream peer sees end of stream, or a
//    reset if it had sent bytes the relay had not read), and a stall drops
//    what is held, delivers nothing more, and reads and drops what either
//    side sends until one of them ends or fails; the relay then closes both
//    in order. Slicing writes at most slice_bytes per write, and each slice
//    at least kSliceGap after the previous one in that direction, so a
//    reader that keeps up sees the pieces apart. A relay cut by a fault
//    reports an Aborted status naming the fault.
//
// Datagrams (UDP, Unix datagram; the client side is one end of a
// SOCK_DGRAM socketpair, the server side a connected socket): each
// datagram's fate (lost, duplicated, reordered, when it arrives) comes from
// the seeded DatagramDirection of each direction, so one seed replays one
// run's decisions. Errors on the server side belong to the network (UDP's
// ICMP "connection refused", a peer's full queue): the datagram is dropped
// and counted, and the relay goes on. A datagram has no end of stream, so
// a datagram relay ends only when its client side fails (its owner closed
// the socketpair's other end, seen when a delivery to it is refused), or
// when the relay is destroyed; datagrams in flight then are lost.
//
// Threads and ownership: a ShapedRelay owns both sockets. Every method,
// its destructor included, runs on the loop thread (see event_loop.h).
// The loop must outlive the relay.
#ifndef ASYNCWORK_SIM_RELAY_H_
#define ASYNCWORK_SIM_RELAY_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "net/event_loop.h"
#include "net/io_watch.h"
#include "net/socket.h"
#include "net/timer_queue.h"
#include "sim/datagram_model.h"
#include "sim/fault.h"
#include "sim/link_model.h"

namespace asyncwork::sim {

// RelayOptions tunes a relay's buffering.
struct RelayOptions {
  // max_held_bytes bounds the bytes one direction holds beyond what its link
  // carries in flight (see "Backpressure" above); at least 1.
  size_t max_held_bytes = size_t{4} << 20;
};

// RelayDirectionStats counts one direction's traffic since Start.
struct RelayDirectionStats {
  // Bytes read from the source and written to the destination.
  uint64_t bytes_read = 0;
  uint64_t bytes_delivered = 0;
  // Writes to the destination that moved bytes (one per datagram).
  uint64_t writes = 0;
  // Stream bytes read but never delivered: dropped when the destination
  // failed, or by a fault (a cut, or what a stalled connection sends).
  uint64_t bytes_dropped = 0;
  // Datagrams only: read, delivered, lost or duplicated by the model, and
  // dropped because the network side refused them or they were too long
  // (over kMaxDatagramBytes).
  uint64_t datagrams_read = 0;
  uint64_t datagrams_delivered = 0;
  uint64_t datagrams_lost = 0;
  uint64_t datagrams_duplicated = 0;
  uint64_t datagrams_reordered = 0;
  uint64_t datagrams_dropped = 0;
  // Bytes held now (scheduled or due but not yet written), and the most
  // held at any time.
  size_t held_bytes = 0;
  size_t peak_held_bytes = 0;
};

struct RelayStats {
  RelayDirectionStats client_to_server;
  RelayDirectionStats server_to_client;
};

// kSliceGap is the least time between two slices of one direction of a
// relay that slices its writes (FaultPlan::slice_bytes).
inline constexpr absl::Duration kSliceGap = absl::Microseconds(100);

// kMaxDatagramBytes is the longest datagram a relay forwards; longer ones
// are dropped and counted (Unix datagrams may be longer than UDP's 65,507).
inline constexpr size_t kMaxDatagramBytes = size_t{256} << 10;

namespace internal {
class Pipe;
}  // namespace internal

class ShapedRelay {
  struct Key {
    explicit Key() = default;
  };

 public:
  // ClosedCallback receives OK when both directions of a stream ended
  // cleanly, or the failure that closed the relay, naming the side.
  using ClosedCallback = absl::AnyInvocable<void(absl::Status status)>;

  // ForStream joins two connected stream sockets (TCP or Unix stream, any
  // mix). `profile` must pass ValidateLinkConfig in both directions (the
  // model aborts otherwise), `faults` ValidateFaultPlan; the relay applies
  // `faults` whatever its every_nth_connection (see "Faults" above).
  // `loop` is not owned.
  static std::unique_ptr<ShapedRelay> ForStream(
      net::EventLoop* loop, net::Socket client, net::Socket server,
      const LinkProfile& profile, const RelayOptions& options = {},
      const FaultPlan& faults = {});

  // ForDatagrams joins one end of a SOCK_DGRAM socketpair (`client`) and a
  // connected UDP or Unix datagram socket (`server`). `profile` must pass
  // ValidateDatagramConfig in both directions.
  static std::unique_ptr<ShapedRelay> ForDatagrams(
      net::EventLoop* loop, net::Socket client, net::Socket server,
      const DatagramProfile& profile, const RelayOptions& options = {});

  // Use ForStream or ForDatagrams; the Key keeps this constructor private.
  ShapedRelay(Key, net::EventLoop* loop, net::Socket client,
              net::Socket server, std::unique_ptr<internal::Pipe> to_server,
              std::unique_ptr<internal::Pipe> to_client);

  // ~ShapedRelay closes both sockets at once, dropping what is held, and
  // does not run the ClosedCallback. Not from inside the relay's own
  // callbacks (the ClosedCallback included): hand it to DeleteLater there.
  ~ShapedRelay();

  ShapedRelay(const ShapedRelay&) = delete;
  ShapedRelay& operator=(const ShapedRelay&) = delete;

  // Start begins relaying. `on_closed` runs once, on the loop thread, when
  // the relay has finished or failed and closed both sockets; it may hand
  // the relay to loop->DeleteLater but must not destroy it directly. An
  // error (the poller refused a socket) leaves the relay closed and
  // `on_closed` never runs. Call once.
  absl::Status Start(ClosedCallback on_closed);

  // stats counts each direction's traffic.
  RelayStats stats() const;

  // closed is true once the relay has closed its sockets.
  bool closed() const { return closed_; }

  // fault_fired is true once the plan's byte fault has cut or stalled the
  // connection.
  bool fault_fired() const { return fault_fired_; }

 private:
  enum class End { kOpen, kEnding, kEnded };

  // Direction is one way through the relay; dirs_[side] carries what
  // `side` sends.
  struct Direction {
    std::unique_ptr<internal::Pipe> pipe;
    // Reading pauses while the pipe holds `cap` bytes or more.
    size_t cap = 0;
    bool reading = true;
    // The last write to the destination would have blocked.
    bool blocked = false;
    End end = End::kOpen;
    // The end is the source's end of stream (shut the destination down),
    // not a failure.
    bool eof = false;
    net::TimerId timer;
    absl::Time armed_for = absl::InfiniteFuture();
    // Slicing: the next slice is not written before this.
    absl::Time next_slice_at = absl::InfinitePast();
  };

  static constexpr int kClient = 0;
  static constexpr int kServer = 1;
  static int Other(int side) { return 1 - side; }
  static const char* SideName(int side);

  // How Close closes the sockets.
  enum class Closing {
    kPlain,    // close(2): the relay ended cleanly
    kOrderly,  // shut down, drain, close: end of stream for each peer
    kAbort,    // SO_LINGER 0 on TCP: a reset for each peer
  };

  void OnReady(int side, uint32_t ready);
  void OnTimer(int direction);
  void OnHoldOver();
  void ReadFrom(int side);
  // DropFrom is ReadFrom for a stalled relay: it reads and drops.
  void DropFrom(int side);
  void Flush(int direction);
  void Fail(int side, const absl::Status& status);
  // Counted is true when `direction`'s bytes count toward the byte fault
  // and its writes are sliced.
  bool Counted(int direction) const;
  // FireFault applies the byte fault once its budget is spent.
  void FireFault();
  void SettleStalled();
  // Settle runs after every event: it delivers what is due, ends finished
  // directions, closes the relay when both have ended, and otherwise
  // re-arms the timers and the sockets' interest.
  void Settle();
  void ArmTimer(int direction);
  void Close(absl::Status status, Closing how);
  void StopEverything();

  net::EventLoop* const loop_;
  std::array<net::Socket, 2> sockets_;
  // Declared after the sockets, so each watch stops before its fd closes.
  std::array<std::unique_ptr<net::IoWatch>, 2> watches_;
  std::array<Direction, 2> dirs_;
  ClosedCallback on_closed_;
  // The first failure; closes the relay once the failed side's outgoing
  // data is delivered.
  absl::Status failure_;
  bool started_ = false;
  bool closed_ = false;
  // Faults (streams only; empty otherwise).
  FaultPlan faults_;
  // Bytes left to deliver before the byte fault; none without one.
  std::optional<uint64_t> fault_budget_;
  bool fault_fired_ = false;
  bool stalled_ = false;
  // What each side sent after the stall, read and dropped.
  std::array<uint64_t, 2> dropped_while_stalled_ = {0, 0};
  // Set from Start until the connect delay is over.
  bool holding_ = false;
  net::TimerId hold_timer_;
};

// RelaySet owns the relays running on one loop and destroys each one when
// it closes, so its owner (a Link, the proxy) need not track them.
//
//   RelaySet relays(loop, [](const absl::Status& status) { log it });
//   absl::Status started = relays.Start(ShapedRelay::ForStream(...));
//
// Loop thread only, its constructor and destructor included; the loop must
// outlive it.
class RelaySet {
 public:
  using ClosedHook = absl::AnyInvocable<void(const absl::Status& status)>;

  // RelaySet runs `on_closed` (may be null) with each relay's final status.
  explicit RelaySet(net::EventLoop* loop, ClosedHook on_closed = nullptr);

  // ~RelaySet destroys the relays still open, closing their sockets.
  ~RelaySet();

  RelaySet(const RelaySet&) = delete;
  RelaySet& operator=(const RelaySet&) = delete;

  // Start starts `relay` and keeps it until it closes. On error the relay
  // is destroyed (its sockets closed) and the error returned.
  absl::Status Start(std::unique_ptr<ShapedRelay> relay);

  // size is the number of relays still open.
  size_t size() const { return relays_.size(); }

  // TotalStats sums the open relays' stats (closed relays are gone).
  RelayStats TotalStats() const;

 private:
  void OnClosed(uint64_t id, const absl::Status& status);

  net::EventLoop* const loop_;
  ClosedHook on_closed_;
  uint64_t next_id_ = 1;
  absl::flat_hash_map<uint64_t, std::unique_ptr<ShapedRelay>> relays_;
};

}  // namespace asyncwork::sim

#endif  // ASYNCWORK_SIM_RELAY_H_
