// bound.h: the most work per second a configuration allows, so a measured
// rate can be read as a fraction of what was possible.
//
// Three things cap a client's rate, whatever its strategy:
//
//   window     in_flight / round trip: with W requests outstanding and each
//              taking one round trip (2 x one-way latency, the server's
//              service time, and the time to put both messages on a capped
//              link), at most W finish per round trip (Little's law).
//   bandwidth  bandwidth / bytes per request: each direction of a shaped
//              link is capped separately, so the direction that carries
//              more bytes per request is the bottleneck.
//   server     the server's own limit, the lower of two: a server that works
//              on P requests at once, each taking S (SLEEP's arg, HASH's
//              CPU), finishes at most P / S per second; and a server that
//              serves only C of the client's K connections at once (the
//              blocking server serves one) leaves the requests on the others
//              waiting, so at most C x (in_flight / K) per round trip.
//
// The bound is the smallest of the three; a term that does not apply (no
// latency, no cap, no service time) is infinite, and with all three infinite
// (an unshaped ECHO) there is no bound to speak of: Bound::finite() is false
// and BoundFraction returns 0, which tools/plot reads as "no bound".
//
//   BoundConfig config;
//   config.in_flight = 32;
//   config.one_way_latency = absl::Milliseconds(10);
//   config.request_bytes = RequestWireBytes({framing::Op::kEcho, 64, 0});
//   config.response_bytes = ResponseWireBytes({framing::Op::kEcho, 64, 0});
//   Bound bound = ComputeBound(config);     // 1600/s, limited by the window
//   double fraction = BoundFraction(measured_per_s, bound);
//
// Everything here is a pure function except MeasureHashNanosPerByteRound,
// which times the HASH operation on this machine.
#ifndef ASYNCWORK_TOOLS_BOUND_H_
#define ASYNCWORK_TOOLS_BOUND_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "framing/work_message.h"
#include "sim/units.h"

namespace asyncwork::tools {

// Workload is what each request asks the server to do.
struct Workload {
  framing::Op op = framing::Op::kEcho;
  uint64_t size = 64;  // bytes of data in each request
  uint32_t arg = 0;    // HASH rounds, SLEEP microseconds
};

// OpFlagName returns the --op spelling of `op` (clients/common_flags.h's
// ParseOp reads it back): "echo", "reverse", "hash", "sleep" or "unknown".
std::string OpFlagName(framing::Op op);

// RequestWireBytes returns the bytes one request puts on the link: the frame
// header, the message header and the data.
uint64_t RequestWireBytes(const Workload& workload);

// ResponseWireBytes returns the bytes of its answer: HASH answers 8 bytes of
// result, every other op answers as many bytes as it was sent.
uint64_t ResponseWireBytes(const Workload& workload);

// ServiceTime returns how long a server spends on one request: SLEEP's arg,
// HASH's max(arg, 1) x size x `hash_ns_per_byte_round`, zero for ECHO and
// REVERSE (their cost is the transport's, which no term here models).
absl::Duration ServiceTime(const Workload& workload,
                           double hash_ns_per_byte_round);

// MeasureHashNanosPerByteRound times framing::Fnv1a64 on this machine for
// about `budget` of the calling thread's CPU time and returns its cost per byte per round in nanoseconds.
double MeasureHashNanosPerByteRound(
    absl::Duration budget = absl::Milliseconds(20));

// kUnlimitedParallelism says the server's parallelism does not limit it.
inline constexpr int kUnlimitedParallelism = 0;

// BoundConfig is everything the bound depends on.
struct BoundConfig {
  // Requests outstanding at once over the whole run (all connections).
  int in_flight = 1;
  absl::Duration one_way_latency = absl::ZeroDuration();
  // The link's cap in each direction; std::nullopt for none.
  std::optional<sim::Bandwidth> bandwidth;
  uint64_t request_bytes = 0;
  uint64_t response_bytes = 0;
  // Time the server spends on each request (ServiceTime).
  absl::Duration service_time = absl::ZeroDuration();
  // Requests the server works on at once, or kUnlimitedParallelism.
  int server_parallelism = kUnlimitedParallelism;
  // Connections the client spreads `in_flight` over, and how many of them
  // the server serves at once (kUnlimitedParallelism: all).
  int client_connections = 1;
  int server_connections = kUnlimitedParallelism;
};

// BoundLimit names the term that set the bound.
enum class BoundLimit { kNone, kWindow, kBandwidth, kServer };

// BoundLimitName returns "none", "window", "bandwidth" or "server".
absl::string_view BoundLimitName(BoundLimit limit);

// Bound is the result: the smallest term and every term, each in requests
// per second and +infinity when it does not apply.
struct Bound {
  double per_second = 0;
  BoundLimit limit = BoundLimit::kNone;
  double window_per_s = 0;
  double bandwidth_per_s = 0;
  double server_per_s = 0;
  absl::Duration round_trip = absl::ZeroDuration();

  // finite returns whether anything bounds the rate.
  bool finite() const { return limit != BoundLimit::kNone; }
};

// ComputeBound returns the bound for `config`. in_flight below 1 counts as 1.
Bound ComputeBound(const BoundConfig& config);

// BoundFraction returns measured_per_s / bound.per_second, or 0 when the
// bound is not finite.
double BoundFraction(double measured_per_s, const Bound& bound);

// DescribeBound returns one line for people: "1.6k/s (window: 32 in flight
// per 20 ms round trip)", or "none (unshaped link, no server limit)".
std::string DescribeBound(const Bound& bound, int in_flight);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_BOUND_H_
