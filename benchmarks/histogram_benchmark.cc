// histogram_benchmark: what measuring costs a client. Every completed request
// records one latency, so Record must stay a few nanoseconds; percentiles
// are read once per report (and by the progress line), so ValueAtPercentile
// may cost a bucket scan.
//
//   tools/bazel run //benchmarks:histogram_benchmark
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "clients/latency_histogram.h"
#include "clients/run_stats.h"

namespace asyncwork::clients {
namespace {

// LogUniform returns `n` latencies spread evenly over the orders of magnitude
// from `low` to `high`, the shape of a run with a long tail.
std::vector<absl::Duration> LogUniform(size_t n, absl::Duration low,
                                       absl::Duration high) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> exponent(
      std::log(absl::ToDoubleNanoseconds(low)),
      std::log(absl::ToDoubleNanoseconds(high)));
  std::vector<absl::Duration> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(absl::Nanoseconds(std::exp(exponent(rng))));
  }
  return out;
}

constexpr size_t kSamples = 4096;  // a power of two, for the index mask

// RecordLoop times `record` on latencies that change every call, as a
// client's do, so the branch predictor and cache see realistic variety.
template <typename Record>
void RecordLoop(benchmark::State& state, Record record) {
  std::vector<absl::Duration> values =
      LogUniform(kSamples, absl::Microseconds(1), absl::Seconds(1));
  size_t i = 0;
  for (auto _ : state) {
    record(values[i++ & (kSamples - 1)]);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_HistogramRecord(benchmark::State& state) {
  LatencyHistogram h;
  RecordLoop(state, [&h](absl::Duration d) { h.Record(d); });
  benchmark::DoNotOptimize(h.Count());
}
BENCHMARK(BM_HistogramRecord);

void BM_RunStatsRecordCompleted(benchmark::State& state) {
  RunStats stats;
  RecordLoop(state, [&stats](absl::Duration d) {
    stats.RecordStarted();
    stats.RecordCompleted(d);
  });
  benchmark::DoNotOptimize(stats.completed());
}
BENCHMARK(BM_RunStatsRecordCompleted);

// Arg: the largest latency in milliseconds. The scan runs from the min's
// bucket to the max's, so a wide range costs more than a narrow one.
void BM_HistogramValueAtPercentile(benchmark::State& state) {
  LatencyHistogram h;
  for (absl::Duration d : LogUniform(100000, absl::Microseconds(1),
                                     absl::Milliseconds(state.range(0)))) {
    h.Record(d);
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(h.ValueAtPercentile(99.9));
  }
}
BENCHMARK(BM_HistogramValueAtPercentile)->Arg(1)->Arg(1000)->Arg(60000);

void BM_HistogramMerge(benchmark::State& state) {
  LatencyHistogram a, b;
  for (absl::Duration d :
       LogUniform(100000, absl::Microseconds(1), absl::Seconds(1))) {
    b.Record(d);
  }
  for (auto _ : state) {
    a.Merge(b);
  }
  benchmark::DoNotOptimize(a.Count());
}
BENCHMARK(BM_HistogramMerge);

}  // namespace
}  // namespace asyncwork::clients
