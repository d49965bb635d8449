// fault.h: FaultPlan, the faults a relay injects into stream connections.
//
// A shaped link (shaper.h's Link, or the ShapingProxy behind //tools:shaper)
// can break some of its stream connections on purpose, so tests and soak
// runs can check that every request either completes or fails with its
// cause. One plan, one flag syntax, for both:
//
//   absl::StatusOr<FaultPlan> plan =
//       ParseFaultPlan("close_after=4096,every=3");
//   ShapingProfile profile;
//   profile.faults = *plan;  // Link::Create(profile) now relays and faults
//   std::string flag = FaultPlanToString(*plan);  // "close_after=4096,every=3"
//
// The faults (at most one of the first three per plan):
//  - close_after=N: once N bytes have been delivered (counted as
//    `direction` says), the relay closes both sides in order: each peer
//    reads the bytes before the cut, then end of stream.
//  - reset_after=N: as close_after, but both sides are reset (SO_LINGER 0
//    on TCP): each peer's next read or write fails with ECONNRESET (or
//    EPIPE), and what its kernel still held for it may be lost.
//  - stall_after=N: after N bytes nothing more is delivered in either
//    direction, but both connections stay open: a peer waiting for an
//    answer waits until its own deadline. The relay goes on reading both
//    sides and drops what it reads (so memory stays bounded and writers do
//    not block), which lets it see a peer close: the other side is then
//    closed too. A Link being destroyed closes stalled connections like
//    any other.
//  - slice=K: every write to a peer (in `direction`) carries at most K
//    bytes, each slice in its own write at least relay.h's kSliceGap
//    (100 us) after the previous one, so readers see frames arrive in tiny
//    pieces. Bytes and order are unchanged; a direction carries at most
//    K bytes per 100 us (10 KB/s at slice=1).
//  - connect_delay=D: the connection does not carry a byte until D after
//    it was asked for. Link::Connect in the blocking form sleeps for D
//    first; the reactor form and the proxy, which must not block their
//    loop, connect at once and hold the relay for D (a loop timer). The
//    connect's own errors are unchanged.
//
// Byte counts are exact: the relay never delivers byte N+1 in a counted
// direction, splitting a write when it must. With direction=both the count
// is the sum of the bytes delivered both ways, and the cut falls in the
// direction whose delivery reaches it. A fault that is never reached (the
// connection ends first) does nothing.
//
// every=M faults only connections 1, M+1, 2M+1, ... (numbered from 1 in
// the order a Link or proxy made them), so the connections in between run
// clean and a run keeps making progress, while even a client that opens
// one connection meets the fault; every=1 (the default) faults all.
//
// Spec syntax (ParseFaultPlan): comma-separated key=value pairs, any order,
// each key at most once; "" or "none" is the empty plan.
//   close_after=N | reset_after=N | stall_after=N   bytes, a whole number
//   slice=K                                           bytes, >= 1
//   connect_delay=D     a latency as units.h writes it: 50ms, 1.5s, 0
//   every=M             >= 1
//   direction=both | to_server | to_client
// FaultPlanToString writes keys in the order above, omits defaults, and
// ParseFaultPlan reads the result back to an equal plan.
//
// Datagram sockets are never faulted (their faults are loss, duplication
// and reordering: datagram_model.h).
#ifndef ASYNCWORK_SIM_FAULT_H_
#define ASYNCWORK_SIM_FAULT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace asyncwork::sim {

// FaultDirection says which delivered bytes a byte fault counts and which
// writes slicing applies to.
enum class FaultDirection {
  // Both ways: the count is the sum of both directions. The default, so a
  // cut can land inside a request or inside a response, whichever crosses
  // it, and both the server's and the client's handling of a broken frame
  // are exercised.
  kBoth,
  // Only bytes delivered to the server (client to server).
  kToServer,
  // Only bytes delivered to the client (server to client).
  kToClient,
};

// FaultPlan is what a relay does to the connections it faults. The default
// plan does nothing.
struct FaultPlan {
  // Byte faults; at most one is set (ValidateFaultPlan).
  std::optional<uint64_t> close_after_bytes;
  std::optional<uint64_t> reset_after_bytes;
  std::optional<uint64_t> stall_after_bytes;
  // At most this many bytes per write to a peer; 0 is no slicing.
  size_t slice_bytes = 0;
  // Hand the connection over no sooner than this after it was asked for.
  absl::Duration connect_delay = absl::ZeroDuration();
  // Fault connections 1, every_nth_connection + 1,
  // 2 * every_nth_connection + 1, ...; at least 1.
  int every_nth_connection = 1;
  FaultDirection direction = FaultDirection::kBoth;

  friend bool operator==(const FaultPlan& a, const FaultPlan& b) = default;
};

// ParseFaultPlan parses `spec` (syntax at the top of this file). Errors are
// InvalidArgument and quote the bad part ("fault 'slice=0': slice must be
// at least 1 byte", "fault 'colse_after=1': unknown key 'colse_after'").
absl::StatusOr<FaultPlan> ParseFaultPlan(absl::string_view spec);

// FaultPlanToString writes `plan` in the spec syntax; "none" for the empty
// plan.
std::string FaultPlanToString(const FaultPlan& plan);

// ValidateFaultPlan returns InvalidArgument naming the bad field: more than
// one byte fault, a negative or infinite connect_delay, every < 1.
absl::Status ValidateFaultPlan(const FaultPlan& plan);

// HasFaults is true when `plan` does anything to a connection.
bool HasFaults(const FaultPlan& plan);

// HasByteFault is true when `plan` closes, resets or stalls connections.
bool HasByteFault(const FaultPlan& plan);

// FaultsConnection is true when the plan applies to the connection with
// 1-based number `connection_number` (see every= above): HasFaults(plan)
// and connection_number - 1 is a multiple of every_nth_connection.
bool FaultsConnection(const FaultPlan& plan, uint64_t connection_number);

}  // namespace asyncwork::sim

#endif  // ASYNCWORK_SIM_FAULT_H_
