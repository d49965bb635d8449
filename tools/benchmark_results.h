// benchmark_results.h: Google Benchmark JSON output, as samples per benchmark.
//
// Google Benchmark (1.7.1) writes, with --benchmark_format=json or
// --benchmark_out_format=json:
//
//   {"context": {...},
//    "benchmarks": [{"name": ..., "run_name": ..., "run_type": "iteration",
//                    "repetitions": 5, "repetition_index": 0, "threads": 1,
//                    "iterations": 50, "real_time": 2.09e+08,
//                    "cpu_time": 453.1, "time_unit": "ns",
//                    "items_per_second": 477.4, "p50_us": 2234.1, ...},
//                   {..., "run_type": "aggregate", "aggregate_name": "mean"},
//                   ...]}
//
// LoadBenchmarkResults groups the "iteration" entries by run_name, so each
// benchmark has one value per repetition for every numeric field that is a
// measurement: real_time and cpu_time (converted to nanoseconds whatever the
// time_unit), items_per_second, bytes_per_second and every user counter.
// Bookkeeping fields (iterations, threads, repetitions, indexes) are not
// measurements. Aggregates (mean, median, stddev, cv) are recomputable and are
// ignored, except that a benchmark with only aggregates (recorded with
// --benchmark_report_aggregates_only) takes its "mean" as a single value.
// Entries with "error_occurred" are skipped and counted; NaN and infinite
// values are dropped.
//
//   absl::StatusOr<BenchmarkResults> r = LoadBenchmarkResults("base.json");
//   if (const BenchmarkRun* run = r->Find("BM_Hash/size:64")) {
//     const std::vector<double>& ns = run->metrics.at("real_time");
//   }
#ifndef ASYNCWORK_TOOLS_BENCHMARK_RESULTS_H_
#define ASYNCWORK_TOOLS_BENCHMARK_RESULTS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/json.h"

namespace asyncwork::tools {

// BenchmarkRun is one benchmark's measurements over its repetitions.
struct BenchmarkRun {
  // name is Google Benchmark's run_name, e.g. "BM_Hash/size:64".
  std::string name;
  // metrics maps a measurement's name to its values, one per repetition in
  // file order. real_time and cpu_time are in nanoseconds.
  std::map<std::string, std::vector<double>> metrics;
  // from_mean_aggregate is true when the file had no repetitions for this
  // benchmark, only aggregates, and the values are the means.
  bool from_mean_aggregate = false;
};

// BenchmarkResults is one file's benchmarks, in the order first seen.
struct BenchmarkResults {
  std::vector<BenchmarkRun> runs;
  // errored_runs counts entries skipped because they had error_occurred.
  int errored_runs = 0;

  // Find returns the run named `name`, or nullptr. The pointer lives as long
  // as *this is not modified.
  const BenchmarkRun* Find(absl::string_view name) const;
};

// IsGoogleBenchmarkJson tells whether `doc` looks like Google Benchmark's
// output: an object with a "benchmarks" array.
bool IsGoogleBenchmarkJson(const JsonValue& doc);

// ParseBenchmarkResults reads a parsed document. Fails with InvalidArgument
// naming the entry ("benchmarks[3]: ...") when it is not Google Benchmark's
// format.
absl::StatusOr<BenchmarkResults> ParseBenchmarkResults(const JsonValue& doc);

// LoadBenchmarkResults reads and parses the file at `path`; errors start with
// the path.
absl::StatusOr<BenchmarkResults> LoadBenchmarkResults(const std::string& path);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_BENCHMARK_RESULTS_H_
