// shaping_test_util.h: helpers shared by the shaping tests and benchmark
// (testonly).
//
//   std::string sent = Pattern(1 << 20, /*seed=*/3);   // repeatable bytes
//   Drained got = Drain(socket);                        // what is there now
//   std::string stamp = Timestamp(absl::Now());         // 8 bytes
//   absl::Duration delay = absl::Now() - ReadTimestamp(stamp);
#ifndef ASYNCWORK_SIM_SHAPING_TEST_UTIL_H_
#define ASYNCWORK_SIM_SHAPING_TEST_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/socket.h"
#include "sim/fault.h"

namespace asyncwork::sim::testing {

// Pattern returns `size` bytes that depend on `seed` and on each byte's
// position, so a lost, repeated or reordered byte shows.
std::string Pattern(size_t size, uint64_t seed);

// Drained is what one Drain call found.
struct Drained {
  std::string bytes;
  bool eof = false;
  // The read error, if one ended the drain (a reset, say).
  absl::Status error;
};

// Drain reads `socket` until it would block, ends or fails; never waits.
// On a datagram socket each datagram is appended in turn; DrainDatagrams
// keeps them apart.
Drained Drain(net::Socket& socket);

// DrainDatagrams reads every datagram waiting on `socket`, in order.
std::vector<std::string> DrainDatagrams(net::Socket& socket);

// WriteSome writes as much of `data` from `*offset` as the socket takes
// now and advances `*offset`; aborts on an error.
void WriteSome(net::Socket& socket, absl::string_view data, size_t* offset);

// ReadToEnd reads `socket`, waiting until `deadline` at most, until end of
// stream or an error, which it returns (OK at end of stream), collecting
// the bytes in `*got`.
absl::Status ReadToEnd(net::Socket& socket, absl::Time deadline,
                       std::string* got);

// PlanOrDie parses a fault plan (fault.h); aborts when `spec` is bad.
FaultPlan PlanOrDie(absl::string_view spec);

// kTimestampBytes is the size of a Timestamp.
inline constexpr size_t kTimestampBytes = 8;

// Timestamp encodes `time` (nanoseconds since the epoch) in 8 bytes.
std::string Timestamp(absl::Time time);

// ReadTimestamp decodes the first 8 bytes of `bytes`.
absl::Time ReadTimestamp(absl::string_view bytes);

}  // namespace asyncwork::sim::testing

#endif  // ASYNCWORK_SIM_SHAPING_TEST_UTIL_H_
