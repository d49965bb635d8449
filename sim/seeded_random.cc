#include "sim/seeded_random.h"

#include <cstdint>

#include "absl/time/time.h"

namespace asyncwork::sim {

bool SeededRandom::Chance(double p) {
  // Draw even when the answer is fixed, so a probability of exactly 0 or 1
  // consumes the same engine output as any other and the decisions that
  // follow do not shift.
  uint64_t bits = engine_();
  if (p <= 0) return false;
  if (p >= 1) return true;
  // The top 53 bits give a uniform double in [0, 1) with every value exact.
  double uniform = static_cast<double>(bits >> 11) * 0x1.0p-53;
  return uniform < p;
}

absl::Duration SeededRandom::UpTo(absl::Duration max) {
  uint64_t bits = engine_();
  if (max <= absl::ZeroDuration()) return absl::ZeroDuration();
  uint64_t range = static_cast<uint64_t>(absl::ToInt64Nanoseconds(max)) + 1;
  // Multiply-high maps 64 random bits onto [0, range); its bias is below
  // range / 2^64, far under anything a jitter of nanoseconds can show.
  uint64_t nanos = static_cast<uint64_t>(
      (static_cast<unsigned __int128>(bits) * range) >> 64);
  return absl::Nanoseconds(static_cast<int64_t>(nanos));
}

}  // namespace asyncwork::sim
