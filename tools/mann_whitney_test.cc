#include "tools/mann_whitney.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace asyncwork::tools {
namespace {

// Expected values below are worked by hand from the formulas in the header;
// each comment shows the arithmetic.

TEST(MannWhitneyUTest, CompletelySeparatedSmallSamples) {
  // a = {1,2,3} all below b = {4,5,6}: U_a = 0, U_b = 9. mu = 4.5,
  // sigma^2 = 9/12 * 7 = 5.25, z = -(4.5 - 0.5)/sqrt(5.25) = -1.745743,
  // p = erfc(1.745743 / sqrt 2) = 0.080856.
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyUTest({1, 2, 3}, {4, 5, 6});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->u_a, 0.0);
  EXPECT_EQ(r->u_b, 9.0);
  EXPECT_NEAR(r->z, -1.745743, 1e-6);
  EXPECT_NEAR(r->p_value, 0.080856, 1e-6);
}

TEST(MannWhitneyUTest, IsSymmetricInItsSamples) {
  absl::StatusOr<MannWhitneyResult> ab =
      MannWhitneyUTest({1.5, 7, 3, 9}, {2, 8, 4});
  absl::StatusOr<MannWhitneyResult> ba =
      MannWhitneyUTest({2, 8, 4}, {1.5, 7, 3, 9});
  ASSERT_TRUE(ab.ok());
  ASSERT_TRUE(ba.ok());
  // Pairs a > b: 1.5 > none; 7 > 2,4; 3 > 2; 9 > 2,8,4 -> U_a = 6 of 12.
  EXPECT_EQ(ab->u_a, 6.0);
  EXPECT_EQ(ba->u_a, ab->u_b);
  EXPECT_EQ(ba->z, -ab->z);
  EXPECT_EQ(ab->p_value, ba->p_value);
  // U_a == mu exactly: no evidence of a difference.
  EXPECT_EQ(ab->p_value, 1.0);
}

TEST(MannWhitneyUTest, CorrectsForTies) {
  // Pooled sorted: 1 | 2 2 2 | 3 3 | 4 | 5 with average ranks
  // 1 | 3 3 3 | 5.5 5.5 | 7 | 8. a = {1,2,2,3}: R_a = 1+3+3+5.5 = 12.5,
  // U_a = 12.5 - 4*5/2 = 2.5 (pairs: 0 + 0.5 + 0.5 + 1.5).
  // Tie term: (27 - 3) + (8 - 2) = 30. n = 8, mu = 8,
  // sigma^2 = 16/12 * (9 - 30/56) = 11.285714, z = -(5.5 - 0.5)/3.359422
  // = -1.488351, p = 0.136658.
  absl::StatusOr<MannWhitneyResult> r =
      MannWhitneyUTest({1, 2, 2, 3}, {2, 3, 4, 5});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->u_a, 2.5);
  EXPECT_EQ(r->u_b, 13.5);
  EXPECT_NEAR(r->z, -1.488351, 1e-6);
  EXPECT_NEAR(r->p_value, 0.136658, 1e-6);
}

TEST(MannWhitneyUTest, AllTiedGivesNoEvidence) {
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyUTest({5, 5, 5}, {5, 5});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->u_a, 3.0);  // Six tied pairs, half each.
  EXPECT_EQ(r->z, 0.0);
  EXPECT_EQ(r->p_value, 1.0);
}

TEST(MannWhitneyUTest, FiveRepetitionsEachCanBeSignificant) {
  // b entirely above a: U_a = 0, mu = 12.5, sigma^2 = 25/12 * 11 = 22.916667,
  // z = -12/4.787136 = -2.506718, p = 0.012186.
  absl::StatusOr<MannWhitneyResult> r =
      MannWhitneyUTest({10.0, 10.2, 9.9, 10.1, 10.05}, {12, 12.1, 11.9, 12.3, 12.2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->u_a, 0.0);
  EXPECT_NEAR(r->p_value, 0.012186, 1e-6);
  EXPECT_LT(r->p_value, 0.05);
}

TEST(MannWhitneyUTest, OverlappingSamplesAreNotSignificant) {
  // Two of b below all of a and three above: U_a = 2 * 5 = 10, U_b = 15,
  // z = -(2.5 - 0.5)/4.787136 = -0.417786, p = 0.676103.
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyUTest(
      {1.00, 0.98, 1.02, 1.01, 0.99}, {0.90, 1.25, 0.95, 1.30, 1.10});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->u_a, 10.0);
  EXPECT_NEAR(r->z, -0.417786, 1e-6);
  EXPECT_NEAR(r->p_value, 0.676103, 1e-6);
}

TEST(MannWhitneyUTest, LargerSamplesGiveSmallerPValues) {
  // Nine against nine, separated: sigma^2 = 81/12 * 19 = 128.25,
  // z = -(40.5 - 0.5)/11.324752 = -3.532086, p = 0.000412.
  std::vector<double> a, b;
  for (int i = 0; i < 9; ++i) {
    a.push_back(100 + i);
    b.push_back(200 + i);
  }
  absl::StatusOr<MannWhitneyResult> r = MannWhitneyUTest(a, b);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->p_value, 0.000412, 1e-6);
}

TEST(MannWhitneyUTest, RejectsEmptyAndNaNSamples) {
  EXPECT_EQ(MannWhitneyUTest({}, {1.0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MannWhitneyUTest({1.0}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MannWhitneyUTest({1.0, NAN}, {2.0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MannWhitneyMinimumPValue, TellsWhenSignificanceIsOutOfReach) {
  // 2 vs 2: sigma^2 = 4/12 * 5, z = 1.5/1.290994 = 1.161895, p = 0.245278.
  EXPECT_NEAR(MannWhitneyMinimumPValue(2, 2), 0.245278, 1e-6);
  EXPECT_NEAR(MannWhitneyMinimumPValue(3, 3), 0.080856, 1e-6);
  EXPECT_NEAR(MannWhitneyMinimumPValue(5, 5), 0.012186, 1e-6);
  EXPECT_GT(MannWhitneyMinimumPValue(3, 3), 0.05);
  EXPECT_LT(MannWhitneyMinimumPValue(4, 4), 0.05);
}

}  // namespace
}  // namespace asyncwork::tools
