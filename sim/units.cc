#include "sim/units.h"

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/check.h"

namespace asyncwork::sim {

// units.h explains why the flag types must stay one atomic word.
static_assert(sizeof(LatencyFlag) == 8 &&
              std::is_trivially_copyable_v<LatencyFlag>);
static_assert(sizeof(BandwidthFlag) == 8 &&
              std::is_trivially_copyable_v<BandwidthFlag>);

namespace {

using Uint128 = unsigned __int128;

constexpr uint64_t kNanosPerSecond = 1'000'000'000;

// A unit suffix and how many base units (nanoseconds, bits per second) one of
// it is. Integer scales keep `1.5ms` and `1.5mbit` exact.
struct Unit {
  absl::string_view name;
  uint64_t scale;
};

constexpr std::array<Unit, 4> kDurationUnits = {{
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", kNanosPerSecond},
}};

constexpr uint64_t kKiB = 1024;
constexpr std::array<Unit, 14> kRateUnits = {{
    {"bit", 1},
    {"kbit", 1'000},
    {"Kbit", 1'000},
    {"mbit", 1'000'000},
    {"Mbit", 1'000'000},
    {"gbit", 1'000'000'000},
    {"Gbit", 1'000'000'000},
    {"B", 8},
    {"KB", 8 * 1'000},
    {"MB", 8 * 1'000'000},
    {"GB", 8 * 1'000'000'000ull},
    {"KiB", 8 * kKiB},
    {"MiB", 8 * kKiB * kKiB},
    {"GiB", 8 * kKiB * kKiB * kKiB},
}};

constexpr absl::string_view kDurationUnitList = "ns, us, ms or s";
constexpr absl::string_view kRateUnitList =
    "bit, kbit, mbit, gbit (per second) or B, KB, MB, GB, KiB, MiB, GiB "
    "(per second, optionally written with /s)";

// Decimal is a non-negative decimal number held exactly:
// mantissa / 10^fraction_digits.
struct Decimal {
  uint64_t mantissa = 0;
  int fraction_digits = 0;
};

// 10^19 is the largest power of ten below 2^64, so 19 significant digits can
// never overflow the mantissa.
constexpr int kMaxDigits = 19;

Uint128 PowerOfTen(int exponent) {
  Uint128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

// SplitNumber takes the leading `digits[.digits]` off `text` and returns it
// as a Decimal; `text` keeps what follows (the unit). A separate scan rather
// than strtod because strtod also takes signs, exponents, hex, "inf" and
// "nan", none of which a flag value should be, and rounds in binary.
absl::StatusOr<Decimal> SplitNumber(absl::string_view& text) {
  Decimal number;
  int digits = 0;
  bool seen_point = false;
  size_t i = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !seen_point) {
      seen_point = true;
      continue;
    }
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) break;
    // Leading zeros carry no information and do not count against the limit.
    if (number.mantissa == 0 && c == '0' && !seen_point) continue;
    if (++digits > kMaxDigits) {
      return absl::InvalidArgumentError("too many digits");
    }
    number.mantissa = number.mantissa * 10 + static_cast<uint64_t>(c - '0');
    if (seen_point) ++number.fraction_digits;
  }
  absl::string_view consumed = text.substr(0, i);
  if (consumed.empty() || consumed == ".") {
    return absl::InvalidArgumentError("expected a number");
  }
  text.remove_prefix(i);
  return number;
}

// Scale returns number * scale rounded to the nearest integer, or nullopt
// when the result does not fit in `limit`. The product of a 19-digit mantissa
// and a scale below 2^64 fits in 128 bits.
std::optional<uint64_t> Scale(const Decimal& number, uint64_t scale,
                              uint64_t limit) {
  Uint128 product = static_cast<Uint128>(number.mantissa) * scale;
  Uint128 divisor = PowerOfTen(number.fraction_digits);
  Uint128 rounded = (product + divisor / 2) / divisor;
  if (rounded > limit) return std::nullopt;
  return static_cast<uint64_t>(rounded);
}

template <size_t N>
const Unit* FindUnit(const std::array<Unit, N>& units, absl::string_view name) {
  for (const Unit& unit : units) {
    if (unit.name == name) return &unit;
  }
  return nullptr;
}

// WithFlag turns a bare reason into the public error form
// "--flag=value: reason".
template <typename T>
absl::StatusOr<T> WithFlag(absl::string_view flag_name, absl::string_view value,
                           absl::StatusOr<T> parsed) {
  if (parsed.ok()) return parsed;
  return absl::InvalidArgumentError(absl::StrCat(
      "--", flag_name, "=", value, ": ", parsed.status().message()));
}

// StoreFlag is the body of an AbslParseFlag: absl adds the flag and value to
// `error` itself, so only the reason goes there.
template <typename Flag, typename T>
bool StoreFlag(absl::StatusOr<T> parsed, Flag* flag, std::string* error) {
  if (!parsed.ok()) {
    *error = std::string(parsed.status().message());
    return false;
  }
  *flag = Flag(*std::move(parsed));
  return true;
}

// LeadingNumber checks what every value starts with: something, no minus
// sign (refused with `negative`), then a number, which it takes off `rest`.
// `expected` describes a good value for the error text.
absl::StatusOr<Decimal> LeadingNumber(absl::string_view& rest,
                                      absl::string_view expected,
                                      absl::string_view negative) {
  if (rest.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("empty value; expected ", expected));
  }
  if (rest[0] == '-') return absl::InvalidArgumentError(negative);
  absl::StatusOr<Decimal> number = SplitNumber(rest);
  if (!number.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(number.status().message(), "; expected ", expected));
  }
  return number;
}

// The Parse*Reason functions below do the parsing; their errors carry only
// the reason, because absl's flag errors already name the flag and value.

absl::StatusOr<absl::Duration> ParseLatencyReason(absl::string_view value) {
  absl::string_view rest = value;
  absl::StatusOr<Decimal> number = LeadingNumber(
      rest, "a duration such as 50ms", "a duration must not be negative");
  if (!number.ok()) return number.status();
  if (rest.empty()) {
    if (number->mantissa == 0) return absl::ZeroDuration();
    return absl::InvalidArgumentError(
        absl::StrCat("missing unit; use ", kDurationUnitList));
  }
  const Unit* unit = FindUnit(kDurationUnits, rest);
  if (unit == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown unit '", rest, "'; use ", kDurationUnitList));
  }
  std::optional<uint64_t> nanos =
      Scale(*number, unit->scale, std::numeric_limits<int64_t>::max());
  if (!nanos.has_value()) return absl::InvalidArgumentError("out of range");
  return absl::Nanoseconds(static_cast<int64_t>(*nanos));
}

absl::StatusOr<std::optional<Bandwidth>> ParseBandwidthReason(
    absl::string_view value) {
  if (value == "unlimited") return std::nullopt;
  constexpr absl::string_view kPositive =
      "bandwidth must be positive (use 'unlimited' for no cap)";
  absl::string_view rest = value;
  absl::StatusOr<Decimal> number = LeadingNumber(
      rest, "a rate such as 10mbit, or unlimited", kPositive);
  if (!number.ok()) return number.status();
  if (number->mantissa == 0) return absl::InvalidArgumentError(kPositive);
  if (rest.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing unit; use ", kRateUnitList));
  }
  absl::string_view unit_name = rest;
  absl::ConsumeSuffix(&unit_name, "/s");
  const Unit* unit = FindUnit(kRateUnits, unit_name);
  if (unit == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown unit '", rest, "'; use ", kRateUnitList));
  }
  std::optional<uint64_t> bits =
      Scale(*number, unit->scale, std::numeric_limits<uint64_t>::max());
  if (!bits.has_value()) return absl::InvalidArgumentError("out of range");
  if (*bits == 0) {
    return absl::InvalidArgumentError("bandwidth must be at least 1bit");
  }
  return Bandwidth::BitsPerSecond(*bits);
}

absl::StatusOr<double> ParseProbabilityReason(absl::string_view value) {
  constexpr absl::string_view kRange =
      "a probability must be between 0 and 1 (or 0% and 100%)";
  constexpr absl::string_view kExpected = "a probability such as 0.01 or 1%";
  absl::string_view rest = value;
  absl::StatusOr<Decimal> number = LeadingNumber(rest, kExpected, kRange);
  if (!number.ok()) return number.status();
  int fraction_digits = number->fraction_digits;
  if (rest == "%") {
    fraction_digits += 2;
  } else if (!rest.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected '", rest, "'; expected ", kExpected));
  }
  // Compare exactly before converting, so 1.0000000001 is refused rather
  // than rounded to 1.
  if (static_cast<Uint128>(number->mantissa) > PowerOfTen(fraction_digits)) {
    return absl::InvalidArgumentError(kRange);
  }
  return static_cast<double>(number->mantissa) /
         static_cast<double>(PowerOfTen(fraction_digits));
}

// FormatScaled writes value / scale as an exact decimal with no trailing
// zeros, followed by `unit`. `scale` is a power of ten.
std::string FormatScaled(uint64_t value, uint64_t scale,
                         absl::string_view unit) {
  std::string text = absl::StrCat(value / scale);
  uint64_t remainder = value % scale;
  if (remainder != 0) {
    std::string fraction = absl::StrCat(scale + remainder).substr(1);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    absl::StrAppend(&text, ".", fraction);
  }
  absl::StrAppend(&text, unit);
  return text;
}

// LargestUnit returns the last unit of `units` (ordered by increasing scale)
// whose scale does not exceed `value`, or the first unit.
template <size_t N>
const Unit& LargestUnit(const std::array<Unit, N>& units, uint64_t value) {
  const Unit* best = &units[0];
  for (const Unit& unit : units) {
    if (unit.scale <= value) best = &unit;
  }
  return *best;
}

}  // namespace

Bandwidth Bandwidth::BitsPerSecond(uint64_t bits) {
  ASYNCWORK_CHECK(bits > 0) << "a Bandwidth must be positive";
  return Bandwidth(bits);
}

Bandwidth Bandwidth::BytesPerSecond(uint64_t bytes) {
  ASYNCWORK_CHECK(bytes <= std::numeric_limits<uint64_t>::max() / 8)
      << bytes << " bytes per second overflows the rate in bits";
  return BitsPerSecond(bytes * 8);
}

absl::Duration Bandwidth::TimeToSend(uint64_t bytes) const {
  // Rounding up each call keeps "no sooner than the exact time"; callers that
  // pass running totals never add up the per-call rounding.
  Uint128 bit_nanos = static_cast<Uint128>(bytes) * 8 * kNanosPerSecond;
  Uint128 nanos = (bit_nanos + bits_per_second_ - 1) / bits_per_second_;
  ASYNCWORK_CHECK(nanos <= std::numeric_limits<int64_t>::max())
      << bytes << " bytes take longer than absl::Duration's range";
  return absl::Nanoseconds(static_cast<int64_t>(nanos));
}

absl::StatusOr<absl::Duration> ParseLatency(absl::string_view flag_name,
                                            absl::string_view value) {
  return WithFlag(flag_name, value, ParseLatencyReason(value));
}

absl::StatusOr<std::optional<Bandwidth>> ParseBandwidth(
    absl::string_view flag_name, absl::string_view value) {
  return WithFlag(flag_name, value, ParseBandwidthReason(value));
}

absl::StatusOr<double> ParseProbability(absl::string_view flag_name,
                                        absl::string_view value) {
  return WithFlag(flag_name, value, ParseProbabilityReason(value));
}

std::string FormatLatency(absl::Duration latency) {
  if (latency == absl::ZeroDuration()) return "0";
  if (latency == absl::InfiniteDuration()) return "inf";
  if (latency == -absl::InfiniteDuration()) return "-inf";
  int64_t nanos = absl::ToInt64Nanoseconds(latency);
  std::string sign = nanos < 0 ? "-" : "";
  // Negate in unsigned arithmetic so INT64_MIN does not overflow.
  uint64_t magnitude = nanos < 0 ? 0 - static_cast<uint64_t>(nanos)
                                 : static_cast<uint64_t>(nanos);
  const Unit& unit = LargestUnit(kDurationUnits, magnitude);
  return sign + FormatScaled(magnitude, unit.scale, unit.name);
}

std::string FormatBandwidth(std::optional<Bandwidth> bandwidth) {
  if (!bandwidth.has_value()) return "unlimited";
  uint64_t bits = bandwidth->bits_per_second();
  constexpr std::array<Unit, 4> kBitUnits = {{
      {"bit", 1},
      {"kbit", 1'000},
      {"mbit", 1'000'000},
      {"gbit", 1'000'000'000},
  }};
  // Scales here are in bytes, largest first.
  constexpr std::array<Unit, 3> kBinaryByteUnits = {{
      {"GiB", kKiB * kKiB * kKiB},
      {"MiB", kKiB * kKiB},
      {"KiB", kKiB},
  }};
  const Unit& bit_unit = LargestUnit(kBitUnits, bits);
  if (bits % bit_unit.scale != 0 && bits % 8 == 0) {
    // A rate such as 1 MiB/s is clearer in its binary byte unit than as
    // 8.388608mbit.
    uint64_t bytes = bits / 8;
    for (const Unit& unit : kBinaryByteUnits) {
      if (bytes >= unit.scale && bytes % unit.scale == 0) {
        return absl::StrCat(bytes / unit.scale, unit.name, "/s");
      }
    }
  }
  return FormatScaled(bits, bit_unit.scale, bit_unit.name);
}

bool AbslParseFlag(absl::string_view text, LatencyFlag* flag,
                   std::string* error) {
  return StoreFlag(ParseLatencyReason(text), flag, error);
}

std::string AbslUnparseFlag(const LatencyFlag& flag) {
  return FormatLatency(flag.value());
}

bool AbslParseFlag(absl::string_view text, BandwidthFlag* flag,
                   std::string* error) {
  return StoreFlag(ParseBandwidthReason(text), flag, error);
}

std::string AbslUnparseFlag(const BandwidthFlag& flag) {
  return FormatBandwidth(flag.value());
}

}  // namespace asyncwork::sim
