// run_config.h: RunConfig, everything one client run needs to know, in the
// types the strategies use (an Address, an Op, Durations).
//
// The command-line binaries build it from their flags (common_flags.h's
// MakeRunConfig); benchmarks and tests fill it in directly:
//
//   RunConfig config;
//   config.server = server->address();
//   config.requests = 1000;
//   config.in_flight = 32;
//   config.op = framing::Op::kHash;
//   absl::StatusOr<RunStats> stats =
//       RunStrategy(StrategyKind::kCallback, config);
//
// How many requests each strategy keeps waiting at once:
//   blocking                 1
//   threaded                 max_threads (one thread per request)
//   polling, callback        in_flight (one connection per request waiting)
//   pipelined, coroutine     in_flight per connection, over `connections`
#ifndef ASYNCWORK_CLIENTS_RUN_CONFIG_H_
#define ASYNCWORK_CLIENTS_RUN_CONFIG_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "framing/work_message.h"
#include "net/address.h"
#include "sim/fault.h"
#include "sim/link_model.h"

namespace asyncwork::clients {

class ProgressLine;

struct RunConfig {
  // The server, a stream address (TCP or Unix stream).
  net::Address server;
  // How many requests to send (at least 1), unless `duration` is set.
  uint64_t requests = 10000;
  // When non-zero, send requests for this long instead of a fixed count;
  // requests still waiting then finish (or pass their deadline).
  absl::Duration duration = absl::ZeroDuration();
  // Requests waiting at once (see the table above).
  int in_flight = 16;
  // Connections for the pipelined and coroutine clients.
  int connections = 1;
  // Threads at once for the threaded client.
  int max_threads = 16;
  // Every request's operation, data size and arg.
  framing::Op op = framing::Op::kEcho;
  size_t size = 64;
  uint32_t arg = 0;
  // Seeds the request data (the same seed sends the same bytes).
  uint64_t seed = 1;
  // How long one request may take, from when it is sent (connecting
  // included) to its answer, before it fails as "deadline exceeded".
  absl::Duration deadline = absl::Seconds(10);
  // When `shaped`, every connection goes through sim/'s in-process link with
  // `link`'s latency and bandwidth in each direction.
  bool shaped = false;
  sim::LinkProfile link;
  // Faults injected into the connections (sim/fault.h), whether or not the
  // link is `shaped`: a plan with faults relays every connection in-process.
  sim::FaultPlan faults;
  // Target requests per second (schedule.h's Paced); 0 for a closed loop.
  double rate = 0;
  // Polling client only: how long to sleep after a pass over the pending
  // requests that found nothing to do; zero busy-polls (yielding the CPU
  // between passes), which is what makes polling's cost visible.
  absl::Duration poll_interval = absl::ZeroDuration();
  // Optional live progress line, not owned; drawn from the thread that
  // calls RunStrategy.
  ProgressLine* progress = nullptr;
};

// kMaxRequestSize keeps a request within PROTOCOL.md's 16 MiB body with its
// 16-byte header.
inline constexpr size_t kMaxRequestSize = (size_t{16} << 20) - 16;

// kMaxWaiting bounds in_flight * connections, the most requests any
// strategy keeps waiting at once.
inline constexpr int64_t kMaxWaiting = 1000000;

// ValidateRunConfig returns InvalidArgument naming the first field that no
// strategy can run with (an unset or datagram server address, zero requests
// without a duration, a window below 1 or above kMaxWaiting, a non-positive deadline, a request
// above kMaxRequestSize, an invalid rate, link or fault plan).
absl::Status ValidateRunConfig(const RunConfig& config);

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_RUN_CONFIG_H_
