// units.h: the values a shaped link is configured with, parsed from flags.
//
// Latency is an absl::Duration written with a unit: `250us`, `50ms`, `1.5ms`,
// `2s` (also `ns`); a bare `0` is the only value allowed without a unit.
// Bandwidth is a rate written in bits per second with decimal (SI) prefixes,
// `8000bit`, `512kbit`, `10mbit`, `1gbit` (kbit = 1000 bit/s), or in bytes per
// second with binary prefixes, `64KiB`, `1MiB`, `1GiB` (KiB = 1024 bytes/s),
// or decimal ones, `B`, `KB`, `MB`, `GB`; any of these may end in `/s`.
// `unlimited` means no cap. Zero, negative, malformed and unit-less values
// are refused with an error that names the flag and the value:
//
//   absl::StatusOr<absl::Duration> latency = ParseLatency("latency", "50ms");
//   absl::StatusOr<std::optional<Bandwidth>> cap =
//       ParseBandwidth("bandwidth", "-3mbit");
//   // cap.status().message() == "--bandwidth=-3mbit: bandwidth must be
//   //     positive (use 'unlimited' for no cap)"
//
// The same parsers back the absl flag types LatencyFlag and BandwidthFlag:
//
//   ABSL_FLAG(asyncwork::sim::LatencyFlag, latency, {}, "one-way latency");
//   ABSL_FLAG(asyncwork::sim::BandwidthFlag, bandwidth, {}, "rate cap");
//   absl::Duration latency = absl::GetFlag(FLAGS_latency).value();
//
// absl then reports a bad value as
//   Illegal value '-3mbit' specified for flag 'bandwidth'; bandwidth must be
//   positive (use 'unlimited' for no cap)
// so the flag and the value are named there too.
#ifndef ASYNCWORK_SIM_UNITS_H_
#define ASYNCWORK_SIM_UNITS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace asyncwork::sim {

// Bandwidth is a positive link rate, held as a whole number of bits per
// second. Whole bits keep every rate the units above can name exact (1 KiB/s
// is 8192 bit/s) and make the time to send N bytes computable without
// rounding drift (see TimeToSend). "No cap" is not a Bandwidth; interfaces
// that allow it take std::optional<Bandwidth>.
class Bandwidth {
 public:
  // BitsPerSecond returns a rate of `bits` bits per second; aborts when zero.
  static Bandwidth BitsPerSecond(uint64_t bits);
  // BytesPerSecond returns a rate of `bytes` bytes per second; aborts when
  // zero or when the rate in bits does not fit in 64 bits.
  static Bandwidth BytesPerSecond(uint64_t bytes);

  uint64_t bits_per_second() const { return bits_per_second_; }
  double bytes_per_second() const { return bits_per_second_ / 8.0; }

  // TimeToSend returns how long `bytes` bytes take at this rate, rounded up
  // to the next nanosecond, so it is never shorter than the exact time.
  // Exact for any byte count (128-bit arithmetic); a caller that keeps a
  // running byte total and calls TimeToSend(total) accumulates no rounding.
  absl::Duration TimeToSend(uint64_t bytes) const;

  friend bool operator==(Bandwidth a, Bandwidth b) = default;

 private:
  explicit Bandwidth(uint64_t bits) : bits_per_second_(bits) {}
  uint64_t bits_per_second_;
};

// ParseLatency parses a one-way latency or jitter for flag `flag_name`
// (written without dashes). Accepts a non-negative decimal number with unit
// `ns`, `us`, `ms` or `s`, or a bare `0`; rounds to the nearest nanosecond.
// Errors are InvalidArgument with "--flag_name=value: reason".
absl::StatusOr<absl::Duration> ParseLatency(absl::string_view flag_name,
                                            absl::string_view value);

// ParseBandwidth parses a rate for flag `flag_name`. Returns std::nullopt for
// `unlimited`. The rate is rounded to the nearest bit per second and must be
// at least 1 bit/s. Errors are InvalidArgument with "--flag_name=value: reason".
absl::StatusOr<std::optional<Bandwidth>> ParseBandwidth(
    absl::string_view flag_name, absl::string_view value);

// ParseProbability parses a probability for flag `flag_name`, written as a
// fraction (`0.01`) or a percentage (`1%`), between 0 and 1 inclusive.
absl::StatusOr<double> ParseProbability(absl::string_view flag_name,
                                        absl::string_view value);

// FormatLatency writes `latency` in the largest unit of s, ms, us, ns that
// keeps it at least 1, with exact decimals: "0", "250us", "1.5ms", "2s".
// ParseLatency reads every result back to the same value.
std::string FormatLatency(absl::Duration latency);

// FormatBandwidth writes a rate as "unlimited", or in the largest of gbit,
// mbit, kbit, bit that keeps it at least 1 ("10mbit", "1.5mbit"); a rate that
// is a whole number of KiB/s, MiB/s or GiB/s but not of kbit is written in
// that unit ("1MiB/s"). ParseBandwidth reads every result back.
std::string FormatBandwidth(std::optional<Bandwidth> bandwidth);

// LatencyFlag is the absl flag type for a latency:
//   ABSL_FLAG(asyncwork::sim::LatencyFlag, latency,
//             asyncwork::sim::LatencyFlag(absl::Milliseconds(50)),
//             "one-way latency");
//   absl::Duration latency = absl::GetFlag(FLAGS_latency).value();
// It holds whole nanoseconds in eight bytes, so absl keeps it in one atomic
// word: absl's sequence lock for larger flag types uses
// std::atomic_thread_fence, which GCC 12 refuses under -fsanitize=thread
// (-Werror=tsan), so a larger flag type would break the tsan build.
class LatencyFlag {
 public:
  LatencyFlag() = default;
  // LatencyFlag keeps `latency` truncated to whole nanoseconds.
  explicit LatencyFlag(absl::Duration latency)
      : nanos_(absl::ToInt64Nanoseconds(latency)) {}
  absl::Duration value() const { return absl::Nanoseconds(nanos_); }

 private:
  int64_t nanos_ = 0;
};

// BandwidthFlag is the absl flag type for a rate cap; the default is no cap.
//   ABSL_FLAG(asyncwork::sim::BandwidthFlag, bandwidth, {}, "rate cap");
//   std::optional<Bandwidth> cap = absl::GetFlag(FLAGS_bandwidth).value();
// Eight bytes, like LatencyFlag, for the same reason.
class BandwidthFlag {
 public:
  BandwidthFlag() = default;
  explicit BandwidthFlag(std::optional<Bandwidth> cap)
      : bits_per_second_(cap.has_value() ? cap->bits_per_second() : 0) {}
  std::optional<Bandwidth> value() const {
    if (bits_per_second_ == 0) return std::nullopt;
    return Bandwidth::BitsPerSecond(bits_per_second_);
  }

 private:
  // 0 means no cap; a Bandwidth is never 0.
  uint64_t bits_per_second_ = 0;
};

// AbslParseFlag and AbslUnparseFlag make the two types above absl flags. The
// error omits the flag and value because absl's own message names both.
bool AbslParseFlag(absl::string_view text, LatencyFlag* flag,
                   std::string* error);
std::string AbslUnparseFlag(const LatencyFlag& flag);
bool AbslParseFlag(absl::string_view text, BandwidthFlag* flag,
                   std::string* error);
std::string AbslUnparseFlag(const BandwidthFlag& flag);

}  // namespace asyncwork::sim

#endif  // ASYNCWORK_SIM_UNITS_H_
