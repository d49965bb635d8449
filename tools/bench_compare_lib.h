// bench_compare_lib.h: compares two Google Benchmark JSON files, noise-aware.
//
// The logic behind `tools/bazel run //tools:bench_compare -- base.json
// new.json`, as a library so tests can drive it. For every benchmark in both
// files and every metric below present in both, it compares the median of the
// base repetitions with the median of the new ones and gives a verdict:
//
//   metric               better   what it is
//   real_time, cpu_time  lower    time per iteration
//   items_per_second     higher   work completed per second
//   bytes_per_second     higher
//   p50_us, p99_us       lower    our latency counters
//   cpu_us_per_request   lower
//   bound_fraction       higher   measured rate / theoretical bound
//
// With at least two repetitions on both sides, the two-sided Mann-Whitney U
// test (mann_whitney.h) decides whether the change is real, as Google
// Benchmark's compare.py does for time (compare.py uses alpha 0.05 and warns
// below 9 repetitions; so do we). Verdicts:
//   regressed  |change| > threshold, p < alpha, in the worse direction
//   improved   |change| > threshold, p < alpha, in the better direction
//   same       |change| <= threshold, or p >= alpha (not significant)
//   noisy/too few repetitions
//              |change| > threshold, but even a complete separation of so
//              few repetitions could not reach p < alpha
// With a single repetition (or only aggregates) on either side there is no
// test: the threshold alone decides, and the row says so.
//
//   CompareOptions options;  // 5 %, alpha 0.05, every metric
//   int exit_code = RunBenchCompare("base.json", "new.json", options,
//                                   std::cout, std::cerr);
//
// Exit codes: 0 no regression; 1 some metric regressed; 2 usage or file
// error (unreadable file, bad JSON, no benchmark in common).
#ifndef ASYNCWORK_TOOLS_BENCH_COMPARE_LIB_H_
#define ASYNCWORK_TOOLS_BENCH_COMPARE_LIB_H_

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/benchmark_results.h"

namespace asyncwork::tools {

inline constexpr int kExitNoRegression = 0;
inline constexpr int kExitRegressed = 1;
inline constexpr int kExitUsage = 2;

enum class Direction { kLowerIsBetter, kHigherIsBetter };

// CompareOptions are bench_compare's flags.
struct CompareOptions {
  // threshold_percent: changes this small or smaller are "same".
  double threshold_percent = 5;
  // alpha: the significance level of the U test.
  double alpha = 0.05;
  // metrics: which metrics to compare; empty means every known one present.
  std::vector<std::string> metrics;
};

// ValidateOptions checks ranges: threshold >= 0, 0 < alpha < 1, known metrics.
absl::Status ValidateOptions(const CompareOptions& options);

// ParseMetricList splits "real_time,p99_us" and checks every name is known.
absl::StatusOr<std::vector<std::string>> ParseMetricList(absl::string_view list);

enum class Verdict { kSame, kImproved, kRegressed, kTooFewRepetitions };

// VerdictName returns "same", "improved", "regressed" or
// "noisy/too few repetitions".
absl::string_view VerdictName(Verdict verdict);

// MetricComparison is one row: one metric of one benchmark.
struct MetricComparison {
  std::string metric;
  Direction direction = Direction::kLowerIsBetter;
  // base and next are medians; times in nanoseconds.
  double base = 0;
  double next = 0;
  // change is (next - base) / base; +-infinity when only base is 0.
  double change = 0;
  int base_count = 0;
  int next_count = 0;
  // p_value is the U test's, when both sides have >= 2 values.
  std::optional<double> p_value;
  Verdict verdict = Verdict::kSame;
  // note qualifies the verdict when needed: "not significant", "one value on
  // a side: no test, threshold only", ...; empty otherwise.
  std::string note;
};

struct BenchmarkComparison {
  std::string name;
  std::vector<MetricComparison> metrics;
};

// Comparison is the whole result. Benchmarks in both files come in base
// order; added ones are only in the new file, removed ones only in the base.
struct Comparison {
  std::vector<BenchmarkComparison> benchmarks;
  std::vector<std::string> added;
  std::vector<std::string> removed;

  // Count returns how many rows have `verdict`.
  int Count(Verdict verdict) const;
  // ExitCode is kExitRegressed when any row regressed, else 0.
  int ExitCode() const;
};

// CompareResults compares `next` against `base`. Fails with InvalidArgument
// on invalid options or when the files share no benchmark.
absl::StatusOr<Comparison> CompareResults(const BenchmarkResults& base,
                                          const BenchmarkResults& next,
                                          const CompareOptions& options);

// FormatComparison renders the aligned table, the added and removed
// benchmarks and a summary.
std::string FormatComparison(const Comparison& comparison,
                             const CompareOptions& options);

// RunBenchCompare loads both files, compares them and writes the table to
// `out`, errors to `err`. Returns the process's exit code (see above).
int RunBenchCompare(const std::string& base_path, const std::string& new_path,
                    const CompareOptions& options, std::ostream& out,
                    std::ostream& err);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_BENCH_COMPARE_LIB_H_
