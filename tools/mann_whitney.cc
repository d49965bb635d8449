#include "tools/mann_whitney.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace asyncwork::tools {
namespace {

// Approximate applies the normal approximation described in the header to a U
// statistic whose tie term sum(t^3 - t) is `tie_term`.
MannWhitneyResult Approximate(double u_a, double n_a, double n_b,
                              double tie_term) {
  MannWhitneyResult result;
  result.u_a = u_a;
  result.u_b = n_a * n_b - u_a;
  const double n = n_a + n_b;
  const double mu = n_a * n_b / 2;
  const double variance =
      n_a * n_b / 12 * ((n + 1) - (n > 1 ? tie_term / (n * (n - 1)) : 0));
  if (variance <= 0) return result;  // Every value tied: no evidence at all.
  const double deviation = std::max(std::abs(u_a - mu) - 0.5, 0.0);
  const double z = deviation / std::sqrt(variance);
  result.z = u_a < mu ? -z : z;
  result.p_value = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
  return result;
}

}  // namespace

absl::StatusOr<MannWhitneyResult> MannWhitneyUTest(absl::Span<const double> a,
                                                   absl::Span<const double> b) {
  if (a.empty() || b.empty()) {
    return absl::InvalidArgumentError("Mann-Whitney U test of an empty sample");
  }
  // Rank the pooled samples; `second` says which sample a value came from.
  std::vector<std::pair<double, bool>> pooled;
  pooled.reserve(a.size() + b.size());
  for (double x : a) pooled.emplace_back(x, false);
  for (double x : b) pooled.emplace_back(x, true);
  for (const auto& [x, from_b] : pooled) {
    if (std::isnan(x)) {
      return absl::InvalidArgumentError("Mann-Whitney U test of a NaN");
    }
  }
  std::sort(pooled.begin(), pooled.end());
  double rank_sum_a = 0;
  double tie_term = 0;
  for (size_t i = 0; i < pooled.size();) {
    size_t j = i;
    while (j < pooled.size() && pooled[j].first == pooled[i].first) ++j;
    // Positions i..j-1 (ranks i+1..j) share the average rank.
    const double t = static_cast<double>(j - i);
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (size_t k = i; k < j; ++k) {
      if (!pooled[k].second) rank_sum_a += rank;
    }
    tie_term += t * t * t - t;
    i = j;
  }
  const double n_a = static_cast<double>(a.size());
  const double n_b = static_cast<double>(b.size());
  return Approximate(rank_sum_a - n_a * (n_a + 1) / 2, n_a, n_b, tie_term);
}

double MannWhitneyMinimumPValue(int n_a, int n_b) {
  return Approximate(0, n_a, n_b, 0).p_value;
}

}  // namespace asyncwork::tools
