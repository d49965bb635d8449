// shaper.h: Link, the one interface through which clients open connections.
//
// The classic demo put its shaping inside the socket wrapper, so no client
// could send around it. asyncwork keeps that rule with one front door:
// every client obtains its connections from Link::Connect and never from
// the sockets layer directly, so shaping cannot be bypassed by accident.
// A Link with an unshaped profile hands out plain connected sockets, with
// no relay and no overhead.
//
// A shaped connection is a socketpair: Connect connects to the server
// itself (so "connection refused" surfaces as such), then returns one end
// of a fresh Unix socketpair and gives the other end, with the real
// connection, to a ShapedRelay (relay.h). The relay applies the profile in
// both directions: client-to-server bytes are delayed on their way out,
// server-to-client bytes on their way in. The client process therefore
// shapes both directions of its own links, and any server, ours or a
// foreign one, can be used unmodified and unshaped.
//
// Two forms, one relay:
//  - Blocking code: Link::Create starts one shaping thread, with one
//    EventLoop, for every connection of this Link (not one per socket).
//    A write returns once the kernel has queued it, as over a real link;
//    the relay delivers it later.
//      absl::StatusOr<std::unique_ptr<Link>> link = Link::Create(
//          ShapingProfile::FromLink(LinkProfile::Symmetric(config)));
//      absl::StatusOr<net::Socket> socket =
//          (*link)->Connect(server, absl::Now() + absl::Seconds(5));
//      absl::Status sent = net::WriteAll(*socket, request, deadline);
//  - Reactor code: Link::CreateOnLoop runs the relays on the caller's own
//    loop, so delivery is driven by that loop's timers; Connect is then
//    called on the loop thread (or before the loop runs).
//
// The returned socket is non-blocking, like every net::Socket; blocking
// callers use net/blocking_io.h, which waits with deadlines. A shaped
// stream connection is a Unix stream socket (kUnixStream) and a shaped
// datagram connection a Unix datagram socketpair end (kUnixDatagram), so
// TCP options (SetNoDelay) do not apply to them; the relay sets
// TCP_NODELAY on the real TCP connection itself, since it writes each
// segment at its due time.
//
// Not shaped: the connect handshake (it costs no simulated round trip).
// Destroying a Link closes its shaped connections at once (the client sees
// end of stream or a reset) and drops what is still in flight.
//
// Faults (ShapingProfile::faults, fault.h) apply to the stream connections
// fault.h's every= picks, numbered in the order this Link made them.
// A plan with faults makes the Link relay every stream connection, shaped
// or not. A plan that resets connections makes the client's end a TCP
// loopback connection (kTcp) rather than a Unix socketpair, so the client
// sees a real reset (ECONNRESET). The connect delay: in the blocking form
// Connect itself sleeps, on the caller's thread only, before connecting
// (DeadlineExceeded if the delay outlasts the deadline); in the reactor
// form Connect returns at once, so as not to block the loop, and the
// relay holds the connection, delivering nothing either way, until the
// delay has passed (a loop timer). A stall keeps both connections open
// until a peer closes its end or the Link is destroyed.
#ifndef ASYNCWORK_SIM_SHAPER_H_
#define ASYNCWORK_SIM_SHAPER_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/address.h"
#include "net/event_loop.h"
#include "net/socket.h"
#include "sim/datagram_model.h"
#include "sim/fault.h"
#include "sim/link_model.h"
#include "sim/loop_thread.h"
#include "sim/relay.h"

namespace asyncwork::sim {

// ShapingProfile is what a Link applies: one profile for stream
// connections (TCP, Unix stream) and one for datagram sockets (UDP, Unix
// datagram), which adds loss, duplication and reordering, plus the faults
// (fault.h) injected into stream connections. The default shapes nothing.
struct ShapingProfile {
  LinkProfile stream;
  DatagramProfile datagram;
  // Stream connections only; a Link whose plan HasFaults relays every
  // stream connection, even when it shapes no latency or bandwidth.
  FaultPlan faults;

  // FromLink applies `link` to both kinds, with no datagram faults.
  static ShapingProfile FromLink(const LinkProfile& link);
};

// ValidateShapingProfile returns InvalidArgument naming the bad field
// (a negative latency, a probability outside [0, 1], ...).
absl::Status ValidateShapingProfile(const ShapingProfile& profile);

// ShapesStreams is false when `profile` leaves streams exactly as they
// are: no latency, jitter or cap in either direction.
bool ShapesStreams(const LinkProfile& profile);

// ShapesDatagrams is ShapesStreams for datagrams, whose faults count too.
bool ShapesDatagrams(const DatagramProfile& profile);

class Link {
  struct Key {
    explicit Key() = default;
  };

 public:
  // Create makes a Link for blocking code. If `profile` shapes anything it
  // starts the Link's shaping thread, which runs until the Link is
  // destroyed. Fails on an invalid profile.
  static absl::StatusOr<std::unique_ptr<Link>> Create(
      const ShapingProfile& profile, const RelayOptions& options = {});

  // CreateOnLoop makes a Link whose relays run on `loop` (not owned; it
  // must outlive the Link). Call on the loop thread, or before it runs.
  static absl::StatusOr<std::unique_ptr<Link>> CreateOnLoop(
      net::EventLoop* loop, const ShapingProfile& profile,
      const RelayOptions& options = {});

  // Use Create or CreateOnLoop; the Key keeps this constructor private.
  Link(Key, const ShapingProfile& profile, const RelayOptions& options,
       std::unique_ptr<LoopThread> thread, net::EventLoop* loop);

  // ~Link closes every shaped connection still open (see the top of this
  // file). Blocking form: the owning thread, not a shaping callback.
  // Reactor form: the loop thread.
  ~Link();

  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Connect connects to `server` (any transport net::Address names) and
  // returns the client's socket: the connection itself when the profile
  // leaves that transport unshaped, otherwise the client's end of a shaped
  // socketpair (see the top of this file). A stream connect waits until
  // `deadline`; its error is the connect's own ("connect 127.0.0.1:7000:
  // Connection refused"). A datagram socket is connected at once; a Unix
  // datagram one is first bound to an autobound abstract name, so the
  // server can reply. Blocking form: any thread, concurrently. Reactor
  // form: the loop thread (a stream connect then blocks the loop for one
  // handshake).
  absl::StatusOr<net::Socket> Connect(const net::Address& server,
                                      absl::Time deadline);

  // open_relays counts the shaped connections still relaying. Blocking
  // form: any thread. Reactor form: the loop thread.
  size_t open_relays();

  const ShapingProfile& profile() const { return profile_; }

 private:
  // OnLoop runs `task` on the shaping loop's thread and waits for it.
  void OnLoop(absl::AnyInvocable<void()> task);

  const ShapingProfile profile_;
  const RelayOptions options_;
  const bool shapes_streams_;
  const bool shapes_datagrams_;
  // Blocking form only; null in the reactor form.
  std::unique_ptr<LoopThread> thread_;
  net::EventLoop* const loop_;
  // Null when nothing is shaped.
  std::unique_ptr<RelaySet> relays_;
  // Stream connections asked for so far; numbers them for
  // FaultPlan::every_nth_connection.
  std::atomic<uint64_t> stream_connections_{0};
};

}  // namespace asyncwork::sim

#endif  // ASYNCWORK_SIM_SHAPER_H_
