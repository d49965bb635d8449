#include "tools/bench_compare_lib.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tools/format.h"
#include "tools/mann_whitney.h"

namespace asyncwork::tools {
namespace {

struct MetricInfo {
  absl::string_view name;
  Direction direction;
};

// The metrics we know the direction of, in the order rows are printed.
constexpr MetricInfo kMetrics[] = {
    {"real_time", Direction::kLowerIsBetter},
    {"cpu_time", Direction::kLowerIsBetter},
    {"items_per_second", Direction::kHigherIsBetter},
    {"bytes_per_second", Direction::kHigherIsBetter},
    {"p50_us", Direction::kLowerIsBetter},
    {"p99_us", Direction::kLowerIsBetter},
    {"cpu_us_per_request", Direction::kLowerIsBetter},
    {"bound_fraction", Direction::kHigherIsBetter},
};

// compare.py's advice: fewer repetitions than this give the U test little
// power.
constexpr int kAdvisedRepetitions = 9;

const MetricInfo* FindMetric(absl::string_view name) {
  for (const MetricInfo& m : kMetrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string KnownMetricNames() {
  std::vector<absl::string_view> names;
  for (const MetricInfo& m : kMetrics) names.push_back(m.name);
  return absl::StrJoin(names, ", ");
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double RelativeChange(double base, double next) {
  if (base == next) return 0;
  if (base == 0) {
    return next > 0 ? std::numeric_limits<double>::infinity()
                    : -std::numeric_limits<double>::infinity();
  }
  return (next - base) / std::abs(base);
}

// Judge fills in the verdict, p-value and note of one row.
void Judge(const std::vector<double>& base, const std::vector<double>& next,
           const CompareOptions& options, MetricComparison& row) {
  const double threshold = options.threshold_percent / 100;
  const bool beyond = std::abs(row.change) > threshold;
  const bool worse = row.direction == Direction::kLowerIsBetter
                         ? row.change > 0
                         : row.change < 0;
  const Verdict moved = worse ? Verdict::kRegressed : Verdict::kImproved;
  if (row.base_count < 2 || row.next_count < 2) {
    row.verdict = beyond ? moved : Verdict::kSame;
    row.note = "one value on a side: no test, threshold only";
    return;
  }
  absl::StatusOr<MannWhitneyResult> test = MannWhitneyUTest(base, next);
  if (test.ok()) row.p_value = test->p_value;
  if (!beyond) {
    row.verdict = Verdict::kSame;
  } else if (row.p_value.has_value() && *row.p_value < options.alpha) {
    row.verdict = moved;
  } else if (MannWhitneyMinimumPValue(row.base_count, row.next_count) >=
             options.alpha) {
    row.verdict = Verdict::kTooFewRepetitions;
    row.note = absl::StrFormat("%d vs %d can never reach p < %g",
                               row.base_count, row.next_count, options.alpha);
  } else {
    row.verdict = Verdict::kSame;
    row.note = "not significant";
  }
}

std::string FormatValue(absl::string_view metric, double value) {
  if (metric == "real_time" || metric == "cpu_time") {
    return FormatShortDuration(FractionalNanoseconds(value));
  }
  if (absl::EndsWith(metric, "_us") || metric == "cpu_us_per_request") {
    return FormatShortDuration(FractionalMicroseconds(value));
  }
  if (absl::EndsWith(metric, "_per_second")) return FormatSi(value, "/s");
  return absl::StrFormat("%.4g", value);
}

std::string FormatPValue(const std::optional<double>& p) {
  if (!p.has_value()) return "-";
  if (*p < 1e-4) return "<0.0001";
  return absl::StrFormat("%.4f", *p);
}

// Row cells, in column order; the last column (verdict and note) is left
// aligned, the others right aligned except the metric name.
std::vector<std::string> Cells(const MetricComparison& row) {
  return {row.metric,
          FormatValue(row.metric, row.base),
          FormatValue(row.metric, row.next),
          absl::StrFormat("%+.1f%%", row.change * 100),
          FormatPValue(row.p_value),
          absl::StrCat(row.base_count, "/", row.next_count),
          row.note.empty()
              ? std::string(VerdictName(row.verdict))
              : absl::StrCat(VerdictName(row.verdict), " (", row.note, ")")};
}

std::string FormatLine(const std::vector<std::string>& cells,
                       const std::vector<size_t>& widths) {
  std::string line = "  ";
  for (size_t i = 0; i < cells.size(); ++i) {
    const std::string pad(widths[i] - cells[i].size(), ' ');
    const bool left = i == 0 || i + 1 == cells.size();
    absl::StrAppend(&line, i == 0 ? "" : "  ", left ? "" : pad, cells[i],
                    left && i + 1 < cells.size() ? pad : "");
  }
  return line;
}

}  // namespace

absl::Status ValidateOptions(const CompareOptions& options) {
  if (!(options.threshold_percent >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--threshold must be >= 0 (percent), got ", options.threshold_percent));
  }
  if (!(options.alpha > 0 && options.alpha < 1)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--alpha must be between 0 and 1, got ", options.alpha));
  }
  for (const std::string& m : options.metrics) {
    if (FindMetric(m) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown metric \"", m, "\"; known: ", KnownMetricNames()));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ParseMetricList(
    absl::string_view list) {
  std::vector<std::string> metrics;
  for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipEmpty())) {
    const std::string name(absl::StripAsciiWhitespace(part));
    if (FindMetric(name) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown metric \"", name, "\"; known: ", KnownMetricNames()));
    }
    metrics.push_back(name);
  }
  return metrics;
}

absl::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kSame:
      return "same";
    case Verdict::kImproved:
      return "improved";
    case Verdict::kRegressed:
      return "regressed";
    case Verdict::kTooFewRepetitions:
      return "noisy/too few repetitions";
  }
  return "?";
}

int Comparison::Count(Verdict verdict) const {
  int n = 0;
  for (const BenchmarkComparison& b : benchmarks) {
    for (const MetricComparison& m : b.metrics) n += m.verdict == verdict;
  }
  return n;
}

int Comparison::ExitCode() const {
  return Count(Verdict::kRegressed) > 0 ? kExitRegressed : kExitNoRegression;
}

absl::StatusOr<Comparison> CompareResults(const BenchmarkResults& base,
                                          const BenchmarkResults& next,
                                          const CompareOptions& options) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) return s;
  std::vector<const MetricInfo*> metrics;
  if (options.metrics.empty()) {
    for (const MetricInfo& m : kMetrics) metrics.push_back(&m);
  } else {
    for (const std::string& m : options.metrics) {
      metrics.push_back(FindMetric(m));
    }
  }
  Comparison comparison;
  for (const BenchmarkRun& old_run : base.runs) {
    const BenchmarkRun* new_run = next.Find(old_run.name);
    if (new_run == nullptr) {
      comparison.removed.push_back(old_run.name);
      continue;
    }
    BenchmarkComparison& bench = comparison.benchmarks.emplace_back();
    bench.name = old_run.name;
    for (const MetricInfo* info : metrics) {
      const auto old_values = old_run.metrics.find(std::string(info->name));
      const auto new_values = new_run->metrics.find(std::string(info->name));
      if (old_values == old_run.metrics.end() ||
          new_values == new_run->metrics.end()) {
        continue;
      }
      MetricComparison& row = bench.metrics.emplace_back();
      row.metric = std::string(info->name);
      row.direction = info->direction;
      row.base = Median(old_values->second);
      row.next = Median(new_values->second);
      row.change = RelativeChange(row.base, row.next);
      row.base_count = static_cast<int>(old_values->second.size());
      row.next_count = static_cast<int>(new_values->second.size());
      Judge(old_values->second, new_values->second, options, row);
    }
  }
  for (const BenchmarkRun& new_run : next.runs) {
    if (base.Find(new_run.name) == nullptr) {
      comparison.added.push_back(new_run.name);
    }
  }
  if (comparison.benchmarks.empty()) {
    return absl::InvalidArgumentError(
        "the two files have no benchmark in common (compare run names)");
  }
  return comparison;
}

std::string FormatComparison(const Comparison& comparison,
                             const CompareOptions& options) {
  const std::vector<std::string> header = {
      "metric", "base", "new", "change", "p-value", "reps", "verdict"};
  std::vector<size_t> widths(header.size());
  bool few_repetitions = false;
  int rows = 0;
  for (size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const BenchmarkComparison& b : comparison.benchmarks) {
    for (const MetricComparison& m : b.metrics) {
      const std::vector<std::string> cells = Cells(m);
      for (size_t i = 0; i < cells.size(); ++i) {
        widths[i] = std::max(widths[i], cells[i].size());
      }
      few_repetitions |= std::min(m.base_count, m.next_count) <
                         kAdvisedRepetitions;
      ++rows;
    }
  }
  std::string out = absl::StrFormat(
      "Medians of the repetitions; threshold %g%%, alpha %g (two-sided "
      "Mann-Whitney U test).\n\n",
      options.threshold_percent, options.alpha);
  absl::StrAppend(&out, FormatLine(header, widths), "\n");
  for (const BenchmarkComparison& b : comparison.benchmarks) {
    absl::StrAppend(&out, b.name, "\n");
    if (b.metrics.empty()) {
      absl::StrAppend(&out, "  (no metric to compare in both files)\n");
    }
    for (const MetricComparison& m : b.metrics) {
      absl::StrAppend(&out, FormatLine(Cells(m), widths), "\n");
    }
  }
  for (const std::string& name : comparison.added) {
    absl::StrAppend(&out, "added (only in the new file): ", name, "\n");
  }
  for (const std::string& name : comparison.removed) {
    absl::StrAppend(&out, "removed (only in the base file): ", name, "\n");
  }
  if (few_repetitions) {
    absl::StrAppendFormat(
        &out,
        "\nnote: fewer than %d repetitions on a side; the U test has little "
        "power. Record with --benchmark_repetitions=10 or more.\n",
        kAdvisedRepetitions);
  }
  absl::StrAppendFormat(
      &out,
      "\n%d benchmarks compared, %d metrics: %d regressed, %d improved, %d "
      "same, %d noisy/too few repetitions; %d benchmarks added, %d "
      "removed.\n",
      comparison.benchmarks.size(), rows, comparison.Count(Verdict::kRegressed),
      comparison.Count(Verdict::kImproved), comparison.Count(Verdict::kSame),
      comparison.Count(Verdict::kTooFewRepetitions), comparison.added.size(),
      comparison.removed.size());
  absl::StrAppend(&out, comparison.ExitCode() == kExitRegressed
                            ? "RESULT: regression beyond the threshold\n"
                            : "RESULT: no significant regression\n");
  return out;
}

int RunBenchCompare(const std::string& base_path, const std::string& new_path,
                    const CompareOptions& options, std::ostream& out,
                    std::ostream& err) {
  if (absl::Status s = ValidateOptions(options); !s.ok()) {
    err << "bench_compare: " << s.message() << "\n";
    return kExitUsage;
  }
  // Load reports a file's problems and its skipped runs on `err`.
  const auto load = [&err](const std::string& path)
      -> std::optional<BenchmarkResults> {
    absl::StatusOr<BenchmarkResults> results = LoadBenchmarkResults(path);
    if (!results.ok()) {
      err << "bench_compare: " << results.status().message() << "\n";
      return std::nullopt;
    }
    if (results->errored_runs > 0) {
      err << "bench_compare: warning: " << path << ": skipped "
          << results->errored_runs << " runs that reported an error\n";
    }
    return *std::move(results);
  };
  const std::optional<BenchmarkResults> base = load(base_path);
  if (!base.has_value()) return kExitUsage;
  const std::optional<BenchmarkResults> next = load(new_path);
  if (!next.has_value()) return kExitUsage;
  absl::StatusOr<Comparison> comparison =
      CompareResults(*base, *next, options);
  if (!comparison.ok()) {
    err << "bench_compare: " << base_path << " vs " << new_path << ": "
        << comparison.status().message() << "\n";
    return kExitUsage;
  }
  out << "Comparing " << base_path << " (base) with " << new_path
      << " (new).\n"
      << FormatComparison(*comparison, options);
  return comparison->ExitCode();
}

}  // namespace asyncwork::tools
