// mann_whitney.h: the two-sided Mann-Whitney U test, for bench_compare.
//
// Benchmark repetitions are not normally distributed (a loaded machine adds a
// long slow tail), so bench_compare asks a rank test whether two sets of
// repetitions come from the same distribution, as Google Benchmark's own
// compare.py does (through scipy.stats.mannwhitneyu).
//
//   absl::StatusOr<MannWhitneyResult> r = MannWhitneyUTest(base, next);
//   if (r.ok() && r->p_value < 0.05) { /* the samples differ */ }
//
// The p-value uses the normal approximation to U's distribution, with the tie
// correction to its variance and a continuity correction of 1/2 (scipy's
// "asymptotic" method with use_continuity=True):
//
//   U_a   = #{(i, j): a_i > b_j} + #{(i, j): a_i == b_j} / 2
//   mu    = n_a n_b / 2
//   sigma = sqrt(n_a n_b / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1))))
//           where n = n_a + n_b and t runs over the sizes of groups of ties
//   z     = sign(U_a - mu) * max(|U_a - mu| - 1/2, 0) / sigma
//   p     = erfc(|z| / sqrt(2))              (two-sided)
//
// With every value tied, sigma is 0 and p is 1. The approximation is coarse
// for very small samples (scipy would use the exact distribution below 8 per
// side without ties); MannWhitneyMinimumPValue tells whether a sample size
// can reach significance at all.
#ifndef ASYNCWORK_TOOLS_MANN_WHITNEY_H_
#define ASYNCWORK_TOOLS_MANN_WHITNEY_H_

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace asyncwork::tools {

struct MannWhitneyResult {
  // u_a is U for the first sample (see above); u_b = n_a n_b - u_a.
  double u_a = 0;
  double u_b = 0;
  // z is positive when the first sample tends to be larger.
  double z = 0;
  // p_value is the two-sided p-value, in [0, 1].
  double p_value = 1;
};

// MannWhitneyUTest compares samples `a` and `b`. Fails with InvalidArgument
// when either is empty or holds a NaN.
absl::StatusOr<MannWhitneyResult> MannWhitneyUTest(absl::Span<const double> a,
                                                   absl::Span<const double> b);

// MannWhitneyMinimumPValue returns the smallest p-value MannWhitneyUTest can
// give for samples of these sizes (complete separation, no ties): when it is
// not below alpha, no outcome can be significant. Both sizes must be >= 1.
double MannWhitneyMinimumPValue(int n_a, int n_b);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_MANN_WHITNEY_H_
