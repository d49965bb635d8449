#include "clients/latency_histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace asyncwork::clients {
namespace {

constexpr double kBound = LatencyHistogram::kRelativeError;

// NearestRank is the exact answer ValueAtPercentile approximates.
int64_t NearestRank(const std::vector<int64_t>& sorted, double percentile) {
  double rank = std::ceil(percentile / 100.0 * sorted.size());
  size_t index = static_cast<size_t>(std::max(rank, 1.0)) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

void ExpectWithinBound(absl::Duration got, int64_t exact_ns,
                       double percentile) {
  double error = std::abs(absl::ToDoubleNanoseconds(got) - exact_ns);
  EXPECT_LE(error, exact_ns * kBound)
      << "p" << percentile << ": got " << got << ", exact "
      << absl::Nanoseconds(exact_ns);
}

// LogUniformSamples draws values spread evenly over the orders of magnitude
// from 1 ns to the largest trackable value, so every bucket width is tried.
std::vector<int64_t> LogUniformSamples(uint64_t seed, int n) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> exponent(
      0.0,
      std::log(absl::ToDoubleNanoseconds(LatencyHistogram::kMaxTrackable)));
  std::vector<int64_t> samples;
  for (int i = 0; i < n; ++i) {
    samples.push_back(static_cast<int64_t>(std::exp(exponent(rng))));
  }
  return samples;
}

TEST(LatencyHistogram, EmptyReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.Count(), 0u);
  EXPECT_EQ(h.ValueAtPercentile(50), absl::ZeroDuration());
  EXPECT_EQ(h.Min(), absl::ZeroDuration());
  EXPECT_EQ(h.Max(), absl::ZeroDuration());
  EXPECT_EQ(h.Mean(), absl::ZeroDuration());
}

TEST(LatencyHistogram, UniformPercentilesWithinBound) {
  LatencyHistogram h;
  for (int us = 1; us <= 100000; ++us) h.Record(absl::Microseconds(us));
  EXPECT_EQ(h.Count(), 100000u);
  const struct {
    double percentile;
    int64_t exact_us;
  } kCases[] = {{50, 50000},    {90, 90000}, {99, 99000}, {99.9, 99900},
                {99.99, 99990}, {1, 1000},   {0.001, 1}};
  for (const auto& c : kCases) {
    ExpectWithinBound(h.ValueAtPercentile(c.percentile), c.exact_us * 1000,
                      c.percentile);
  }
  EXPECT_EQ(h.ValueAtPercentile(100), absl::Microseconds(100000));
  EXPECT_EQ(h.ValueAtPercentile(0), absl::Microseconds(1));
  EXPECT_EQ(h.Min(), absl::Microseconds(1));
  EXPECT_EQ(h.Max(), absl::Microseconds(100000));
  EXPECT_EQ(h.Mean(), absl::Nanoseconds(50000500));
}

TEST(LatencyHistogram, RelativeErrorBoundHoldsForRandomValues) {
  std::vector<int64_t> samples = LogUniformSamples(/*seed=*/7, 20000);
  LatencyHistogram h;
  for (int64_t ns : samples) h.Record(absl::Nanoseconds(ns));
  std::sort(samples.begin(), samples.end());
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> any_percentile(0.0, 100.0);
  std::vector<double> percentiles = {0.01, 1, 25, 50, 75, 90, 99, 99.9, 99.99};
  for (int i = 0; i < 500; ++i) percentiles.push_back(any_percentile(rng));
  for (double p : percentiles) {
    ExpectWithinBound(h.ValueAtPercentile(p), NearestRank(samples, p), p);
  }
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int ns = 0; ns < 256; ++ns) h.Record(absl::Nanoseconds(ns));
  for (int ns = 1; ns < 256; ++ns) {
    double percentile = 100.0 * (ns - 0.5) / 256.0;
    EXPECT_EQ(h.ValueAtPercentile(percentile), absl::Nanoseconds(ns - 1))
        << percentile;
  }
}

TEST(LatencyHistogram, MaxAndMinAreExact) {
  LatencyHistogram h;
  h.Record(absl::Nanoseconds(123456789));
  h.Record(absl::Nanoseconds(1000001));
  h.Record(absl::Nanoseconds(98765432));
  EXPECT_EQ(h.Max(), absl::Nanoseconds(123456789));
  EXPECT_EQ(h.Min(), absl::Nanoseconds(1000001));
  EXPECT_EQ(h.ValueAtPercentile(100), absl::Nanoseconds(123456789));
  // A percentile never reports beyond the samples' range.
  EXPECT_LE(h.ValueAtPercentile(99.9), h.Max());
  EXPECT_GE(h.ValueAtPercentile(1), h.Min());
}

TEST(LatencyHistogram, RecordNEqualsRepeatedRecord) {
  LatencyHistogram once;
  LatencyHistogram repeated;
  once.RecordN(absl::Microseconds(1500), 1000);
  once.RecordN(absl::Microseconds(20), 0);
  once.RecordN(absl::Microseconds(7), 10);
  for (int i = 0; i < 1000; ++i) repeated.Record(absl::Microseconds(1500));
  for (int i = 0; i < 10; ++i) repeated.Record(absl::Microseconds(7));
  EXPECT_EQ(once.Count(), repeated.Count());
  EXPECT_EQ(once.Min(), repeated.Min());
  EXPECT_EQ(once.Mean(), repeated.Mean());
  for (double p : {0.5, 1.0, 2.0, 50.0, 99.0}) {
    EXPECT_EQ(once.ValueAtPercentile(p), repeated.ValueAtPercentile(p)) << p;
  }
}

TEST(LatencyHistogram, MergeEqualsRecordingAll) {
  std::vector<int64_t> a = LogUniformSamples(/*seed=*/1, 3000);
  std::vector<int64_t> b = LogUniformSamples(/*seed=*/2, 5000);
  LatencyHistogram ha, hb, all;
  for (int64_t ns : a) {
    ha.Record(absl::Nanoseconds(ns));
    all.Record(absl::Nanoseconds(ns));
  }
  for (int64_t ns : b) {
    hb.Record(absl::Nanoseconds(ns));
    all.Record(absl::Nanoseconds(ns));
  }
  LatencyHistogram empty;
  ha.Merge(empty);
  empty.Merge(hb);
  ha.Merge(empty);
  EXPECT_EQ(ha.Count(), all.Count());
  EXPECT_EQ(ha.Min(), all.Min());
  EXPECT_EQ(ha.Max(), all.Max());
  EXPECT_EQ(ha.Mean(), all.Mean());
  for (double p = 0; p <= 100; p += 0.25) {
    EXPECT_EQ(ha.ValueAtPercentile(p), all.ValueAtPercentile(p)) << p;
  }
}

TEST(LatencyHistogram, ValuesBeyondRangeKeepExactMax) {
  LatencyHistogram h;
  h.Record(absl::Milliseconds(2));
  h.Record(absl::Hours(5));
  EXPECT_EQ(h.Max(), absl::Hours(5));
  EXPECT_EQ(h.ValueAtPercentile(100), absl::Hours(5));
  // The long sample sits in the last bucket, beyond which nothing is kept.
  EXPECT_GE(h.ValueAtPercentile(99),
            LatencyHistogram::kMaxTrackable * (1 - kBound));
  ExpectWithinBound(h.ValueAtPercentile(50), 2000000, 50);
}

TEST(LatencyHistogram, OneHourIsWithinBound) {
  LatencyHistogram h;
  h.Record(absl::Hours(1));
  h.Record(absl::Hours(1) + absl::Seconds(7));
  ExpectWithinBound(h.ValueAtPercentile(50),
                    absl::ToInt64Nanoseconds(absl::Hours(1)), 50);
}

TEST(LatencyHistogram, NegativeLatencyCountsAsZero) {
  LatencyHistogram h;
  h.Record(absl::Microseconds(-5));
  h.Record(absl::Microseconds(10));
  EXPECT_EQ(h.Count(), 2u);
  EXPECT_EQ(h.Min(), absl::ZeroDuration());
  EXPECT_EQ(h.ValueAtPercentile(50), absl::ZeroDuration());
}

TEST(LatencyHistogram, ResetForgetsEverySample) {
  LatencyHistogram h;
  h.Record(absl::Seconds(3));
  h.Reset();
  EXPECT_EQ(h.Count(), 0u);
  EXPECT_EQ(h.Max(), absl::ZeroDuration());
  h.Record(absl::Microseconds(40));
  EXPECT_EQ(h.Count(), 1u);
  EXPECT_EQ(h.Min(), absl::Microseconds(40));
  EXPECT_EQ(h.ValueAtPercentile(50), absl::Microseconds(40));
}

}  // namespace
}  // namespace asyncwork::clients
