#include "tools/bound.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/cpu_time.h"
#include "framing/frame.h"
#include "framing/operation.h"
#include "tools/format.h"

namespace asyncwork::tools {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// PerSecond returns `count` per `period`, infinite for a zero period.
double PerSecond(double count, absl::Duration period) {
  if (period <= absl::ZeroDuration()) return kInfinity;
  return count / absl::ToDoubleSeconds(period);
}

}  // namespace

std::string OpFlagName(framing::Op op) {
  return absl::AsciiStrToLower(framing::OpName(op));
}

uint64_t RequestWireBytes(const Workload& workload) {
  return framing::kFrameHeaderSize + framing::kMessageHeaderSize +
         workload.size;
}

uint64_t ResponseWireBytes(const Workload& workload) {
  const uint64_t result =
      workload.op == framing::Op::kHash ? sizeof(uint64_t) : workload.size;
  return framing::kFrameHeaderSize + framing::kMessageHeaderSize + result;
}

absl::Duration ServiceTime(const Workload& workload,
                           double hash_ns_per_byte_round) {
  switch (workload.op) {
    case framing::Op::kSleep:
      return absl::Microseconds(workload.arg);
    case framing::Op::kHash: {
      const double rounds = std::max<uint32_t>(workload.arg, 1);
      return absl::Nanoseconds(rounds * static_cast<double>(workload.size) *
                               hash_ns_per_byte_round);
    }
    default:
      return absl::ZeroDuration();
  }
}

double MeasureHashNanosPerByteRound(absl::Duration budget) {
  // 4 KiB per call keeps each call long enough for the clock to resolve it
  // and short enough to check the budget often.
  const std::string data(4096, 'w');
  constexpr uint32_t kRounds = 4;
  uint64_t sink = 0;
  uint64_t calls = 0;
  // The thread's CPU clock, not the wall clock: on a busy machine the thread
  // may wait for a core, and that wait is not what hashing costs.
  const absl::Duration start = clients::ThreadCpuTime();
  absl::Duration elapsed;
  do {
    sink += framing::Fnv1a64(data, kRounds);
    ++calls;
    elapsed = clients::ThreadCpuTime() - start;
  } while (elapsed < budget);
  // The sum is used so the calls cannot be optimised away.
  if (sink == 42) ++calls;
  return absl::ToDoubleNanoseconds(elapsed) /
         (static_cast<double>(calls) * kRounds * data.size());
}

absl::string_view BoundLimitName(BoundLimit limit) {
  switch (limit) {
    case BoundLimit::kWindow:
      return "window";
    case BoundLimit::kBandwidth:
      return "bandwidth";
    case BoundLimit::kServer:
      return "server";
    case BoundLimit::kNone:
      break;
  }
  return "none";
}

Bound ComputeBound(const BoundConfig& config) {
  Bound bound;
  const int in_flight = std::max(config.in_flight, 1);
  absl::Duration transmit = absl::ZeroDuration();
  if (config.bandwidth.has_value()) {
    transmit = config.bandwidth->TimeToSend(config.request_bytes) +
               config.bandwidth->TimeToSend(config.response_bytes);
    const uint64_t busier =
        std::max(config.request_bytes, config.response_bytes);
    bound.bandwidth_per_s = busier == 0 ? kInfinity
                                        : config.bandwidth->bytes_per_second() /
                                              static_cast<double>(busier);
  } else {
    bound.bandwidth_per_s = kInfinity;
  }
  bound.round_trip =
      2 * config.one_way_latency + config.service_time + transmit;
  bound.window_per_s = PerSecond(in_flight, bound.round_trip);
  bound.server_per_s =
      config.server_parallelism == kUnlimitedParallelism
          ? kInfinity
          : PerSecond(config.server_parallelism, config.service_time);
  const int connections = std::max(config.client_connections, 1);
  if (config.server_connections != kUnlimitedParallelism &&
      config.server_connections < connections) {
    // Requests on the connections the server is not serving wait; the
    // served ones carry their share of the window each.
    const double per_connection =
        std::ceil(static_cast<double>(in_flight) / connections);
    bound.server_per_s =
        std::min(bound.server_per_s,
                 PerSecond(config.server_connections * per_connection,
                           bound.round_trip));
  }

  bound.per_second = kInfinity;
  const std::pair<double, BoundLimit> terms[] = {
      {bound.window_per_s, BoundLimit::kWindow},
      {bound.bandwidth_per_s, BoundLimit::kBandwidth},
      {bound.server_per_s, BoundLimit::kServer},
  };
  for (const auto& [rate, limit] : terms) {
    if (rate < bound.per_second) {
      bound.per_second = rate;
      bound.limit = limit;
    }
  }
  return bound;
}

double BoundFraction(double measured_per_s, const Bound& bound) {
  if (!bound.finite() || bound.per_second <= 0) return 0;
  return measured_per_s / bound.per_second;
}

std::string DescribeBound(const Bound& bound, int in_flight) {
  const std::string rate = FormatSi(bound.per_second, "/s");
  const std::string round_trip = FormatShortDuration(
      std::chrono::nanoseconds(absl::ToInt64Nanoseconds(bound.round_trip)));
  switch (bound.limit) {
    case BoundLimit::kWindow:
      return absl::StrCat(rate, " (window: ", std::max(in_flight, 1),
                          " in flight per ", round_trip, " round trip)");
    case BoundLimit::kBandwidth:
      return absl::StrCat(rate, " (bandwidth)");
    case BoundLimit::kServer:
      return absl::StrCat(rate, " (the server's own limit)");
    case BoundLimit::kNone:
      break;
  }
  return "none (unshaped link, no server limit)";
}

}  // namespace asyncwork::tools
