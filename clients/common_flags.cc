#include "clients/common_flags.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/schedule.h"
#include "net/check.h"
#include "sim/fault.h"

// Defaults come from ClientOptions so that the struct and the flags cannot
// disagree.
namespace {
const asyncwork::clients::ClientOptions kDefaults;
}  // namespace

ABSL_FLAG(std::string, server, kDefaults.server,
          "server address: host:port, [v6]:port, tcp://..., unix:/path or "
          "unix:@abstract; empty starts an in-process server (see "
          "--in_process_server)");
ABSL_FLAG(int64_t, requests, kDefaults.requests,
          "requests to send, each counted as completed or failed; ignored "
          "when --duration is set");
ABSL_FLAG(absl::Duration, duration, kDefaults.duration,
          "send requests for this long instead of --requests (e.g. 10s); "
          "0 for a fixed count");
ABSL_FLAG(int, in_flight, kDefaults.in_flight,
          "requests waiting at once: one connection each for polling and "
          "callback, per connection for pipelined and coroutine; blocking "
          "keeps 1, threaded uses --max_threads");
ABSL_FLAG(int, connections, kDefaults.connections,
          "connections to the server (pipelined and coroutine)");
ABSL_FLAG(int, max_threads, kDefaults.max_threads,
          "request threads at once (threaded)");
ABSL_FLAG(std::string, op, kDefaults.op,
          "work operation: echo, reverse, hash or sleep");
ABSL_FLAG(int64_t, size, kDefaults.size, "bytes of data in each work packet");
ABSL_FLAG(int64_t, arg, kDefaults.arg,
          "request arg: HASH rounds or SLEEP microseconds (0 to 4294967295)");
ABSL_FLAG(asyncwork::sim::LatencyFlag, latency,
          asyncwork::sim::LatencyFlag(kDefaults.latency),
          "one-way link latency added in-process in each direction (e.g. "
          "5ms, 250us); 0 for none");
ABSL_FLAG(asyncwork::sim::BandwidthFlag, bandwidth,
          asyncwork::sim::BandwidthFlag(kDefaults.bandwidth),
          "link rate cap in each direction, in-process (e.g. 10mbit, "
          "1MiB/s); unlimited for none");
ABSL_FLAG(uint64_t, seed, kDefaults.seed,
          "seed for the request data and the link's jitter (same seed, same "
          "bytes)");
ABSL_FLAG(bool, json, kDefaults.json, "print the summary as one JSON object");
ABSL_FLAG(absl::Duration, deadline, kDefaults.deadline,
          "longest any one request may take before it fails");
ABSL_FLAG(double, rate, kDefaults.rate,
          "target requests per second, latency measured from each request's "
          "due time; 0 for a closed loop");
ABSL_FLAG(absl::Duration, poll_interval, kDefaults.poll_interval,
          "polling: sleep after a pass that found nothing; 0 busy-polls");
ABSL_FLAG(std::string, fault, kDefaults.fault,
          "faults injected in-process, comma-separated key=value: "
          "close_after=N, reset_after=N or stall_after=N (bytes, then close, "
          "reset or stop delivering), slice=K (at most K bytes per write), "
          "connect_delay=D, every=M (fault every Mth connection only), "
          "direction=both|to_server|to_client; e.g. close_after=4096,every=3");

namespace asyncwork::clients {
namespace {

template <typename T>
std::string Problem(absl::string_view flag, const T& value,
                    absl::string_view what) {
  return absl::StrCat("--", flag, "=", value, ": ", what);
}

// CheckRange appends a problem unless min <= value <= max.
void CheckRange(absl::string_view flag, int64_t value, int64_t min, int64_t max,
                std::vector<std::string>* problems) {
  if (value >= min && value <= max) return;
  problems->push_back(
      Problem(flag, value, absl::StrCat("must be ", min, " to ", max)));
}

// CheckDuration appends a problem unless the duration is finite and not
// negative (and, with `positive`, above zero).
void CheckDuration(absl::string_view flag, absl::Duration value, bool positive,
                   std::vector<std::string>* problems) {
  bool ok =
      value != absl::InfiniteDuration() &&
      (positive ? value > absl::ZeroDuration() : value >= absl::ZeroDuration());
  if (ok) return;
  problems->push_back(Problem(flag, absl::FormatDuration(value),
                              positive
                                  ? "must be positive and finite"
                                  : "must be zero or positive, and finite"));
}

}  // namespace

absl::StatusOr<framing::Op> ParseOp(absl::string_view op) {
  for (framing::Op known : {framing::Op::kEcho, framing::Op::kReverse,
                            framing::Op::kHash, framing::Op::kSleep}) {
    if (op == absl::AsciiStrToLower(framing::OpName(known))) return known;
  }
  return absl::InvalidArgumentError(
      Problem("op", op, "must be echo, reverse, hash or sleep"));
}

absl::Status ValidateOp(absl::string_view op) { return ParseOp(op).status(); }

absl::StatusOr<net::Address> ParseServer(absl::string_view server) {
  absl::StatusOr<net::Address> address = net::Address::Parse(server);
  if (!address.ok()) {
    return absl::Status(address.status().code(),
                        Problem("server", server, address.status().message()));
  }
  if (!address->is_stream()) {
    return absl::InvalidArgumentError(Problem(
        "server", server,
        "must be a stream address (TCP or unix:); the clients send frames "
        "over a stream"));
  }
  return address;
}

absl::Status ValidateClientOptions(const ClientOptions& options) {
  std::vector<std::string> problems;
  CheckDuration("duration", options.duration, /*positive=*/false, &problems);
  if (options.duration == absl::ZeroDuration()) {
    CheckRange("requests", options.requests, 1,
               std::numeric_limits<int64_t>::max(), &problems);
  }
  CheckRange("in_flight", options.in_flight, 1, ClientOptions::kMaxInFlight,
             &problems);
  CheckRange("connections", options.connections, 1,
             ClientOptions::kMaxConnections, &problems);
  CheckRange("max_threads", options.max_threads, 1, ClientOptions::kMaxThreads,
             &problems);
  if (absl::Status op = ValidateOp(options.op); !op.ok()) {
    problems.emplace_back(op.message());
  }
  CheckRange("size", options.size, 0, ClientOptions::kMaxSize, &problems);
  CheckRange("arg", options.arg, 0, std::numeric_limits<uint32_t>::max(),
             &problems);
  CheckDuration("latency", options.latency, /*positive=*/false, &problems);
  CheckDuration("deadline", options.deadline, /*positive=*/true, &problems);
  CheckDuration("poll_interval", options.poll_interval, /*positive=*/false,
                &problems);
  if (!options.server.empty()) {
    if (absl::Status server = ParseServer(options.server).status();
        !server.ok()) {
      problems.emplace_back(server.message());
    }
  }
  // Zero is the closed loop; any other rate must make a schedule.
  if (options.rate != 0) {
    absl::Status paced =
        SendSchedule::Paced(options.rate, absl::UnixEpoch()).status();
    if (!paced.ok()) {
      problems.push_back(Problem("rate", options.rate, paced.message()));
    }
  }
  if (absl::Status fault = sim::ParseFaultPlan(options.fault).status();
      !fault.ok()) {
    problems.push_back(Problem("fault", options.fault, fault.message()));
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
}

ClientOptions ReadClientFlags() {
  ClientOptions options;
  options.server = absl::GetFlag(FLAGS_server);
  options.requests = absl::GetFlag(FLAGS_requests);
  options.duration = absl::GetFlag(FLAGS_duration);
  options.in_flight = absl::GetFlag(FLAGS_in_flight);
  options.connections = absl::GetFlag(FLAGS_connections);
  options.op = absl::GetFlag(FLAGS_op);
  options.size = absl::GetFlag(FLAGS_size);
  options.arg = absl::GetFlag(FLAGS_arg);
  options.max_threads = absl::GetFlag(FLAGS_max_threads);
  options.latency = absl::GetFlag(FLAGS_latency).value();
  options.bandwidth = absl::GetFlag(FLAGS_bandwidth).value();
  options.seed = absl::GetFlag(FLAGS_seed);
  options.json = absl::GetFlag(FLAGS_json);
  options.deadline = absl::GetFlag(FLAGS_deadline);
  options.rate = absl::GetFlag(FLAGS_rate);
  options.poll_interval = absl::GetFlag(FLAGS_poll_interval);
  options.fault = absl::GetFlag(FLAGS_fault);
  return options;
}

absl::StatusOr<ClientOptions> ClientOptionsFromFlags() {
  ClientOptions options = ReadClientFlags();
  absl::Status status = ValidateClientOptions(options);
  if (!status.ok()) return status;
  return options;
}

RunConfig MakeRunConfig(const ClientOptions& options,
                        const net::Address& server) {
  RunConfig config;
  config.server = server;
  config.requests = static_cast<uint64_t>(options.requests);
  config.duration = options.duration;
  config.in_flight = options.in_flight;
  config.connections = options.connections;
  config.max_threads = options.max_threads;
  absl::StatusOr<framing::Op> op = ParseOp(options.op);
  ASYNCWORK_CHECK(op.ok()) << op.status();
  config.op = *op;
  config.size = static_cast<size_t>(options.size);
  config.arg = static_cast<uint32_t>(options.arg);
  config.seed = options.seed;
  config.deadline = options.deadline;
  config.shaped =
      options.latency > absl::ZeroDuration() || options.bandwidth.has_value();
  config.link = sim::LinkProfile::Symmetric(sim::LinkConfig{
      .latency = options.latency,
      .bandwidth = options.bandwidth,
      .seed = options.seed,
  });
  config.rate = options.rate;
  config.poll_interval = options.poll_interval;
  absl::StatusOr<sim::FaultPlan> faults = sim::ParseFaultPlan(options.fault);
  ASYNCWORK_CHECK(faults.ok()) << faults.status();
  config.faults = *faults;
  return config;
}

}  // namespace asyncwork::clients
