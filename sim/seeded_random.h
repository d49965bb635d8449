// seeded_random.h: the repeatable random numbers behind jitter, loss,
// duplication and reordering.
//
// std::mt19937_64's output sequence is fixed by the C++ standard, but the
// standard distributions (uniform_real_distribution, bernoulli_distribution)
// are not, so a seed would replay differently under another standard
// library. SeededRandom maps the raw engine output to the two shapes the
// models need with fixed arithmetic, so one seed gives one run everywhere.
//
//   SeededRandom random(config.seed);
//   bool lost = random.Chance(config.loss);
//   absl::Duration extra = random.UpTo(config.jitter);
#ifndef ASYNCWORK_SIM_SEEDED_RANDOM_H_
#define ASYNCWORK_SIM_SEEDED_RANDOM_H_

#include <cstdint>
#include <random>

#include "absl/time/time.h"

namespace asyncwork::sim {

// SeededRandom is not thread-safe; each model owns one.
class SeededRandom {
 public:
  explicit SeededRandom(uint64_t seed) : engine_(seed) {}

  // Chance returns true with probability `p`: never for p <= 0, always for
  // p >= 1.
  bool Chance(double p);

  // UpTo returns a duration drawn uniformly from [0, max] in whole
  // nanoseconds; zero when max <= 0.
  absl::Duration UpTo(absl::Duration max);

 private:
  std::mt19937_64 engine_;
};

}  // namespace asyncwork::sim

#endif  // ASYNCWORK_SIM_SEEDED_RANDOM_H_
