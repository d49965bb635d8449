#include "clients/common_flags.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/schedule.h"

// Defaults come from ClientOptions so that the struct and the flags cannot
// disagree.
namespace {
const asyncwork::clients::ClientOptions kDefaults;
}  // namespace

ABSL_FLAG(std::string, server, kDefaults.server,
          "server address (any form net/ accepts); empty starts an "
          "in-process server");
ABSL_FLAG(int64_t, requests, kDefaults.requests,
          "requests to complete; ignored when --duration is set");
ABSL_FLAG(absl::Duration, duration, kDefaults.duration,
          "send requests for this long instead of --requests (e.g. 10s); "
          "0 for a fixed count");
ABSL_FLAG(int, in_flight, kDefaults.in_flight,
          "requests outstanding at once (per connection when pipelined)");
ABSL_FLAG(int, connections, kDefaults.connections, "connections to the server");
ABSL_FLAG(std::string, op, kDefaults.op,
          "work operation: echo, reverse, hash or sleep");
ABSL_FLAG(int64_t, size, kDefaults.size, "bytes of data in each work packet");
ABSL_FLAG(int64_t, arg, kDefaults.arg,
          "request arg: HASH rounds or SLEEP microseconds (0 to 4294967295)");
ABSL_FLAG(absl::Duration, latency, kDefaults.latency,
          "one-way link latency added in-process (e.g. 5ms); 0 for none");
ABSL_FLAG(std::string, bandwidth, kDefaults.bandwidth,
          "link bandwidth to shape to in-process; empty for unlimited");
ABSL_FLAG(uint64_t, seed, kDefaults.seed, "seed for every random choice");
ABSL_FLAG(bool, json, kDefaults.json, "print the summary as one JSON object");
ABSL_FLAG(absl::Duration, deadline, kDefaults.deadline,
          "longest any one request may take before it fails");
ABSL_FLAG(double, rate, kDefaults.rate,
          "target requests per second, latency measured from each request's "
          "due time; 0 for a closed loop");

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

absl::Status ValidateOp(absl::string_view op) {
  for (absl::string_view known : {"echo", "reverse", "hash", "sleep"}) {
    if (op == known) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      Problem("op", op, "must be echo, reverse, hash or sleep"));
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
  if (absl::Status op = ValidateOp(options.op); !op.ok()) {
    problems.emplace_back(op.message());
  }
  CheckRange("size", options.size, 0, ClientOptions::kMaxSize, &problems);
  CheckRange("arg", options.arg, 0, std::numeric_limits<uint32_t>::max(),
             &problems);
  CheckDuration("latency", options.latency, /*positive=*/false, &problems);
  CheckDuration("deadline", options.deadline, /*positive=*/true, &problems);
  // Zero is the closed loop; any other rate must make a schedule.
  if (options.rate != 0) {
    absl::Status paced =
        SendSchedule::Paced(options.rate, absl::UnixEpoch()).status();
    if (!paced.ok()) {
      problems.push_back(Problem("rate", options.rate, paced.message()));
    }
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
  options.latency = absl::GetFlag(FLAGS_latency);
  options.bandwidth = absl::GetFlag(FLAGS_bandwidth);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.json = absl::GetFlag(FLAGS_json);
  options.deadline = absl::GetFlag(FLAGS_deadline);
  options.rate = absl::GetFlag(FLAGS_rate);
  return options;
}

absl::StatusOr<ClientOptions> ClientOptionsFromFlags() {
  ClientOptions options = ReadClientFlags();
  absl::Status status = ValidateClientOptions(options);
  if (!status.ok()) return status;
  return options;
}

}  // namespace asyncwork::clients
