// common_flags.h: the command-line flags every client binary shares, and
// ClientOptions, the same settings as one validated value.
//
// The flags are defined once, in common_flags.cc, so each client binary links
// this one target and gets them all:
//
//   int main(int argc, char** argv) {
//     absl::ParseCommandLine(argc, argv);
//     absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags();
//     if (!options.ok()) {            // "--in_flight=0: must be 1 to 1000000"
//       std::fprintf(stderr, "%s\n", options.status().ToString().c_str());
//       return 2;
//     }
//     ...
//   }
//
// --latency and --bandwidth have sim/'s flag types, so absl itself refuses
// a malformed value ("Illegal value '-3mbit' specified for flag
// 'bandwidth'; ..."). --server and --op stay strings that
// ValidateClientOptions parses (net::Address::Parse, ParseOp), so their
// errors name the flag and the value too. MakeRunConfig turns valid options
// into the RunConfig the strategies take.
//
// Flag values are process-global: read them from main before starting
// threads.
#ifndef ASYNCWORK_CLIENTS_COMMON_FLAGS_H_
#define ASYNCWORK_CLIENTS_COMMON_FLAGS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "clients/run_config.h"
#include "framing/work_message.h"
#include "net/address.h"
#include "sim/units.h"

ABSL_DECLARE_FLAG(std::string, server);
ABSL_DECLARE_FLAG(int64_t, requests);
ABSL_DECLARE_FLAG(absl::Duration, duration);
ABSL_DECLARE_FLAG(int, in_flight);
ABSL_DECLARE_FLAG(int, connections);
ABSL_DECLARE_FLAG(std::string, op);
ABSL_DECLARE_FLAG(int64_t, size);
ABSL_DECLARE_FLAG(int64_t, arg);
ABSL_DECLARE_FLAG(int, max_threads);
ABSL_DECLARE_FLAG(asyncwork::sim::LatencyFlag, latency);
ABSL_DECLARE_FLAG(asyncwork::sim::BandwidthFlag, bandwidth);
ABSL_DECLARE_FLAG(uint64_t, seed);
ABSL_DECLARE_FLAG(bool, json);
ABSL_DECLARE_FLAG(absl::Duration, deadline);
ABSL_DECLARE_FLAG(double, rate);
ABSL_DECLARE_FLAG(absl::Duration, poll_interval);
ABSL_DECLARE_FLAG(std::string, fault);

namespace asyncwork::clients {

// ClientOptions holds one client run's settings; the defaults are the flags'
// defaults. Each member's comment names its flag.
struct ClientOptions {
  // --server: the server's address in any stream form net/ accepts (TCP or
  // Unix stream); empty means the binary starts its own in-process server.
  std::string server;
  // --requests: how many requests to complete (at least 1). Ignored when
  // `duration` is set.
  int64_t requests = 10000;
  // --duration: when non-zero, send requests for this long instead of a
  // fixed count.
  absl::Duration duration = absl::ZeroDuration();
  // --in_flight: requests outstanding at once (per connection for the
  // pipelined and coroutine clients), 1 to kMaxInFlight.
  int in_flight = 16;
  // --connections: connections to the server for the pipelined and
  // coroutine clients, 1 to kMaxConnections.
  int connections = 1;
  // --max_threads: request threads at once for the threaded client, 1 to
  // kMaxThreads.
  int max_threads = 16;
  // --op: echo, reverse, hash or sleep (PROTOCOL.md's operations).
  std::string op = "echo";
  // --size: bytes of data in each work packet, 0 to kMaxSize.
  int64_t size = 64;
  // --arg: the request's arg, 0 to 2^32-1 (HASH rounds, SLEEP microseconds).
  int64_t arg = 0;
  // --latency: one-way latency added in-process by sim/; zero for none.
  absl::Duration latency = absl::ZeroDuration();
  // --bandwidth: the link's rate cap in each direction (sim/units.h's
  // notation, e.g. 10mbit or 1MiB/s); nullopt for unlimited.
  std::optional<sim::Bandwidth> bandwidth;
  // --seed: seeds the request data and the link's jitter, so runs repeat.
  uint64_t seed = 1;
  // --json: print the summary as one JSON object (report.h's FormatJson).
  bool json = false;
  // --deadline: how long any one request may take before it fails with
  // "deadline exceeded"; positive and finite.
  absl::Duration deadline = absl::Seconds(10);
  // --rate: target requests per second (schedule.h's Paced); 0 for a closed
  // loop, as fast as --in_flight allows.
  double rate = 0;
  // --poll_interval: the polling client's sleep after a pass that found
  // nothing; zero busy-polls.
  absl::Duration poll_interval = absl::ZeroDuration();
  // --fault: faults injected in-process into the connections, in
  // sim/fault.h's syntax ("close_after=4096,every=3"); "none" for none.
  std::string fault = "none";

  static constexpr int kMaxInFlight = 1000000;
  static constexpr int kMaxThreads = 10000;
  static constexpr int kMaxConnections = 10000;
  // kMaxSize keeps a request within PROTOCOL.md's 16 MiB body with its
  // 16-byte header.
  static constexpr int64_t kMaxSize = (int64_t{16} << 20) - 16;
};

// ParseOp returns the Op for "echo", "reverse", "hash" and "sleep" (lower
// case) and InvalidArgument naming --op and the value otherwise.
absl::StatusOr<framing::Op> ParseOp(absl::string_view op);

// ValidateOp returns ParseOp's status.
absl::Status ValidateOp(absl::string_view op);

// ParseServer parses --server's value: a stream address (TCP or Unix
// stream). Errors are InvalidArgument (NotFound for an unknown host name)
// naming --server and the value.
absl::StatusOr<net::Address> ParseServer(absl::string_view server);

// ValidateClientOptions checks every setting and returns InvalidArgument
// listing each bad one as "--flag=value: what is wrong", separated by "; ".
absl::Status ValidateClientOptions(const ClientOptions& options);

// ReadClientFlags returns the flags' current values, unchecked.
ClientOptions ReadClientFlags();

// ClientOptionsFromFlags returns the flags' values once they pass
// ValidateClientOptions.
absl::StatusOr<ClientOptions> ClientOptionsFromFlags();

// MakeRunConfig returns the RunConfig for valid `options` (see
// ValidateClientOptions), sending to `server`. The link is shaped when
// --latency or --bandwidth is set, alike in both directions; --fault's
// plan applies either way. `progress` is
// left null.
RunConfig MakeRunConfig(const ClientOptions& options,
                        const net::Address& server);

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_COMMON_FLAGS_H_
