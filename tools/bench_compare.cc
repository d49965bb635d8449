// bench_compare: tells whether a change made a benchmark slower.
//
//   tools/bazel run //tools:bench_compare -- base.json new.json
//   tools/bazel run //tools:bench_compare -- --threshold=10
//       --metrics=items_per_second,p99_us base.json new.json   (one line)
//
// Both files are Google Benchmark JSON (--benchmark_out_format=json). Exits 1
// when a metric regressed significantly beyond --threshold, 2 on usage or
// file errors, 0 otherwise. tools/bench_compare_lib.h describes the verdicts.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "tools/cli.h"
#include "tools/bench_compare_lib.h"

ABSL_FLAG(double, threshold, 5,
          "percent change below which a metric counts as the same");
ABSL_FLAG(double, alpha, 0.05,
          "significance level of the Mann-Whitney U test");
ABSL_FLAG(std::string, metrics, "",
          "comma-separated metrics to compare (default: every known metric "
          "present: real_time, cpu_time, items_per_second, bytes_per_second, "
          "p50_us, p99_us, cpu_us_per_request, bound_fraction)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "compares two Google Benchmark JSON files.\n"
      "usage: bench_compare [--threshold=5] [--alpha=0.05] "
      "[--metrics=a,b] base.json new.json");
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (absl::Status s = asyncwork::tools::RunFromInvocationDirectory();
      !s.ok()) {
    std::cerr << "bench_compare: " << s.message() << "\n";
    return asyncwork::tools::kExitUsage;
  }
  if (args.size() != 3) {
    std::cerr << "bench_compare: expected two files, base.json and new.json\n"
              << "usage: bench_compare [--threshold=5] [--alpha=0.05] "
                 "[--metrics=a,b] base.json new.json\n";
    return asyncwork::tools::kExitUsage;
  }
  asyncwork::tools::CompareOptions options;
  options.threshold_percent = absl::GetFlag(FLAGS_threshold);
  options.alpha = absl::GetFlag(FLAGS_alpha);
  absl::StatusOr<std::vector<std::string>> metrics =
      asyncwork::tools::ParseMetricList(absl::GetFlag(FLAGS_metrics));
  if (!metrics.ok()) {
    std::cerr << "bench_compare: --metrics: " << metrics.status().message()
              << "\n";
    return asyncwork::tools::kExitUsage;
  }
  options.metrics = *std::move(metrics);
  return asyncwork::tools::RunBenchCompare(args[1], args[2], options,
                                           std::cout, std::cerr);
}
