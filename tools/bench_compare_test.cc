#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/bench_compare_lib.h"
#include "tools/benchmark_results.h"
#include "tools/test_util.h"

namespace asyncwork::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kBase[] = "tools/testdata/bench_base.json";
constexpr char kCallback[] =
    "BM_Strategy/strategy:callback/server:epoll/latency_us:1000/in_flight:64/"
    "op:echo/size:64/iterations:50/manual_time";

struct Outcome {
  int exit_code;
  std::string out;
  std::string err;
};

Outcome Compare(const std::string& base, const std::string& next,
            const CompareOptions& options = {}) {
  std::ostringstream out, err;
  const int code = RunBenchCompare(base, next, options, out, err);
  return {code, out.str(), err.str()};
}

std::string Fixture(absl::string_view name) {
  return absl::StrCat("tools/testdata/", name, ".json");
}

BenchmarkResults Results(
    absl::string_view name,
    std::map<std::string, std::vector<double>> metrics) {
  BenchmarkResults results;
  results.runs.push_back(BenchmarkRun{std::string(name), std::move(metrics)});
  return results;
}

const MetricComparison* Row(const Comparison& c, absl::string_view bench,
                            absl::string_view metric) {
  for (const BenchmarkComparison& b : c.benchmarks) {
    if (b.name != bench) continue;
    for (const MetricComparison& m : b.metrics) {
      if (m.metric == metric) return &m;
    }
  }
  return nullptr;
}

absl::StatusOr<Comparison> CompareFiles(absl::string_view next,
                                        const CompareOptions& options = {}) {
  absl::StatusOr<BenchmarkResults> base = LoadBenchmarkResults(kBase);
  absl::StatusOr<BenchmarkResults> other = LoadBenchmarkResults(Fixture(next));
  EXPECT_TRUE(base.ok() && other.ok());
  if (!base.ok()) return base.status();
  if (!other.ok()) return other.status();
  return CompareResults(*base, *other, options);
}

TEST(RunBenchCompare, IdenticalFilesDoNotRegress) {
  const Outcome o = Compare(kBase, kBase);
  EXPECT_EQ(o.exit_code, kExitNoRegression) << o.out << o.err;
  EXPECT_THAT(o.out, HasSubstr("3 benchmarks compared, 18 metrics: 0 "
                               "regressed, 0 improved, 18 same"));
  EXPECT_THAT(o.out, HasSubstr("RESULT: no significant regression"));
  EXPECT_EQ(o.err, "");
}

TEST(RunBenchCompare, HonestRerunDoesNotRegress) {
  const Outcome o = Compare(kBase, Fixture("bench_rerun"));
  EXPECT_EQ(o.exit_code, kExitNoRegression) << o.out;
  EXPECT_THAT(o.out, HasSubstr(" 0 regressed"));
}

TEST(RunBenchCompare, TwentyPercentSlowerWithFiveRepetitionsRegresses) {
  const Outcome o = Compare(kBase, Fixture("bench_slower20"));
  EXPECT_EQ(o.exit_code, kExitRegressed) << o.out;
  EXPECT_THAT(o.out, HasSubstr("RESULT: regression beyond the threshold"));

  absl::StatusOr<Comparison> c = CompareFiles("bench_slower20");
  ASSERT_TRUE(c.ok()) << c.status();
  for (const char* metric : {"real_time", "items_per_second", "p50_us",
                             "p99_us", "cpu_us_per_request",
                             "bound_fraction"}) {
    const MetricComparison* row = Row(*c, kCallback, metric);
    ASSERT_NE(row, nullptr) << metric;
    EXPECT_EQ(row->verdict, Verdict::kRegressed) << metric;
    ASSERT_TRUE(row->p_value.has_value());
    EXPECT_LT(*row->p_value, 0.05);
    EXPECT_EQ(row->base_count, 5);
  }
  // Higher-is-better metrics regress by going down.
  EXPECT_NEAR(Row(*c, kCallback, "items_per_second")->change, 1 / 1.2 - 1,
              1e-9);
  EXPECT_NEAR(Row(*c, kCallback, "p99_us")->change, 0.2, 1e-9);
}

TEST(RunBenchCompare, InsignificantNoisyChangeIsSame) {
  const Outcome o = Compare(kBase, Fixture("bench_noisy"));
  EXPECT_EQ(o.exit_code, kExitNoRegression) << o.out;
  absl::StatusOr<Comparison> c = CompareFiles("bench_noisy");
  ASSERT_TRUE(c.ok()) << c.status();
  // The medians moved by more than the threshold, yet the samples overlap.
  const MetricComparison* row = Row(*c, kCallback, "items_per_second");
  ASSERT_NE(row, nullptr);
  EXPECT_GT(std::abs(row->change), 0.05);
  ASSERT_TRUE(row->p_value.has_value());
  EXPECT_GE(*row->p_value, 0.05);
  EXPECT_EQ(row->verdict, Verdict::kSame);
  EXPECT_EQ(row->note, "not significant");
  EXPECT_EQ(c->Count(Verdict::kRegressed), 0);
}

TEST(RunBenchCompare, SingleRepetitionUsesTheThresholdAlone) {
  absl::StatusOr<Comparison> c = CompareFiles("bench_single");
  ASSERT_TRUE(c.ok()) << c.status();
  for (const BenchmarkComparison& b : c->benchmarks) {
    for (const MetricComparison& m : b.metrics) {
      EXPECT_FALSE(m.p_value.has_value());
      EXPECT_EQ(m.next_count, 1);
      EXPECT_THAT(m.note, HasSubstr("threshold only"));
      EXPECT_EQ(m.verdict == Verdict::kSame, std::abs(m.change) <= 0.05)
          << b.name << " " << m.metric;
    }
  }
  EXPECT_EQ(c->removed, std::vector<std::string>{"BM_Hash/size:64"});
  EXPECT_EQ(c->added.size(), 2u);
  const Outcome o = Compare(kBase, Fixture("bench_single"));
  EXPECT_THAT(o.out, HasSubstr("added (only in the new file): BM_Strategy/"
                               "strategy:blocking/server:epoll/latency_us:"
                               "1000/in_flight:64/"));
  EXPECT_THAT(o.out, HasSubstr("removed (only in the base file): "
                               "BM_Hash/size:64"));
}

TEST(CompareResults, ImprovementsFollowEachMetricsDirection) {
  const BenchmarkResults base = Results(
      "b", {{"real_time", {100, 101, 102, 103, 104}},
            {"items_per_second", {1000, 1010, 1020, 1030, 1040}}});
  const BenchmarkResults faster = Results(
      "b", {{"real_time", {80, 81, 82, 83, 84}},
            {"items_per_second", {1300, 1310, 1320, 1330, 1340}}});
  absl::StatusOr<Comparison> c = CompareResults(base, faster, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Row(*c, "b", "real_time")->verdict, Verdict::kImproved);
  EXPECT_EQ(Row(*c, "b", "items_per_second")->verdict, Verdict::kImproved);
  EXPECT_EQ(c->ExitCode(), kExitNoRegression);
  // And the reverse comparison regresses on both.
  absl::StatusOr<Comparison> back = CompareResults(faster, base, {});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(Row(*back, "b", "real_time")->verdict, Verdict::kRegressed);
  EXPECT_EQ(Row(*back, "b", "items_per_second")->verdict, Verdict::kRegressed);
  EXPECT_EQ(back->ExitCode(), kExitRegressed);
}

TEST(CompareResults, ThresholdDecidesWhatCountsAsAChange) {
  const BenchmarkResults base =
      Results("b", {{"p99_us", {100, 100.5, 101, 101.5, 102}}});
  const BenchmarkResults next =
      Results("b", {{"p99_us", {104, 104.5, 105, 105.5, 106}}});  // +4 %.
  absl::StatusOr<Comparison> c = CompareResults(base, next, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Row(*c, "b", "p99_us")->verdict, Verdict::kSame);
  EXPECT_LT(*Row(*c, "b", "p99_us")->p_value, 0.05);  // Real, but small.
  CompareOptions strict;
  strict.threshold_percent = 3;
  c = CompareResults(base, next, strict);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Row(*c, "b", "p99_us")->verdict, Verdict::kRegressed);
}

TEST(CompareResults, TooFewRepetitionsCannotBeSignificant) {
  const BenchmarkResults base = Results("b", {{"real_time", {100, 101}}});
  const BenchmarkResults next = Results("b", {{"real_time", {150, 151}}});
  absl::StatusOr<Comparison> c = CompareResults(base, next, {});
  ASSERT_TRUE(c.ok());
  const MetricComparison* row = Row(*c, "b", "real_time");
  EXPECT_EQ(row->verdict, Verdict::kTooFewRepetitions);
  EXPECT_EQ(VerdictName(row->verdict), "noisy/too few repetitions");
  EXPECT_EQ(c->ExitCode(), kExitNoRegression);
}

TEST(CompareResults, ComparesMediansNotMeans) {
  const BenchmarkResults base =
      Results("b", {{"real_time", {10, 10, 10, 10, 1000}}});
  const BenchmarkResults next = Results("b", {{"real_time", {10, 10, 10}}});
  absl::StatusOr<Comparison> c = CompareResults(base, next, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Row(*c, "b", "real_time")->base, 10);
  EXPECT_EQ(Row(*c, "b", "real_time")->change, 0);
  EXPECT_EQ(Row(*c, "b", "real_time")->verdict, Verdict::kSame);
}

TEST(CompareResults, ZeroBaseGivesInfiniteChange) {
  const BenchmarkResults base = Results("b", {{"p50_us", {0}}});
  const BenchmarkResults next = Results("b", {{"p50_us", {3}}});
  absl::StatusOr<Comparison> c = CompareResults(base, next, {});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(std::isinf(Row(*c, "b", "p50_us")->change));
  EXPECT_EQ(Row(*c, "b", "p50_us")->verdict, Verdict::kRegressed);
}

TEST(CompareResults, MetricsOptionSelectsRows) {
  CompareOptions options;
  options.metrics = {"items_per_second", "p99_us"};
  absl::StatusOr<Comparison> c = CompareFiles("bench_slower20", options);
  ASSERT_TRUE(c.ok());
  for (const BenchmarkComparison& b : c->benchmarks) {
    for (const MetricComparison& m : b.metrics) {
      EXPECT_TRUE(m.metric == "items_per_second" || m.metric == "p99_us")
          << m.metric;
    }
  }
  // BM_Hash has no p99_us: only items_per_second is compared there.
  EXPECT_EQ(c->benchmarks[0].metrics.size(), 1u);
  EXPECT_EQ(c->benchmarks[1].metrics.size(), 2u);
}

TEST(ParseMetricList, AcceptsKnownNamesOnly) {
  absl::StatusOr<std::vector<std::string>> m =
      ParseMetricList("real_time, bound_fraction,,");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, (std::vector<std::string>{"real_time", "bound_fraction"}));
  EXPECT_TRUE(ParseMetricList("")->empty());
  absl::StatusOr<std::vector<std::string>> bad = ParseMetricList("real_time,x");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("unknown metric \"x\"; known: real_time, cpu_time"));
}

TEST(ValidateOptions, RejectsOutOfRangeValues) {
  CompareOptions o;
  EXPECT_TRUE(ValidateOptions(o).ok());
  o.threshold_percent = -1;
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.threshold_percent = 5;
  o.alpha = 0;
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.alpha = 1.5;
  EXPECT_FALSE(ValidateOptions(o).ok());
  o.alpha = 0.05;
  o.metrics = {"wall_time"};
  EXPECT_FALSE(ValidateOptions(o).ok());
  const Outcome bad = Compare(kBase, kBase, o);
  EXPECT_EQ(bad.exit_code, kExitUsage);
  EXPECT_THAT(bad.err, HasSubstr("unknown metric \"wall_time\""));
}

std::string TempFile(absl::string_view name, absl::string_view contents) {
  const std::string path = TestTempPath(name);
  std::ofstream(path) << contents;
  return path;
}

TEST(RunBenchCompare, FileProblemsExitWithUsageCode) {
  const Outcome missing = Compare(kBase, "tools/testdata/nope.json");
  EXPECT_EQ(missing.exit_code, kExitUsage);
  EXPECT_THAT(missing.err, HasSubstr("tools/testdata/nope.json"));
  EXPECT_EQ(missing.out, "");

  const std::string bad = TempFile("bad.json", "{\"benchmarks\": [\n  {,}]}");
  const Outcome malformed = Compare(bad, kBase);
  EXPECT_EQ(malformed.exit_code, kExitUsage);
  EXPECT_THAT(malformed.err, HasSubstr(absl::StrCat(bad, ":2:4: ")));

  const std::string other = TempFile(
      "other.json",
      R"({"benchmarks": [{"name": "BM_Other", "run_name": "BM_Other",
          "run_type": "iteration", "real_time": 1, "time_unit": "ns"}]})");
  const Outcome disjoint = Compare(kBase, other);
  EXPECT_EQ(disjoint.exit_code, kExitUsage);
  EXPECT_THAT(disjoint.err, HasSubstr("no benchmark in common"));
}

TEST(FormatComparison, AlignsColumns) {
  const Outcome o = Compare(kBase, Fixture("bench_noisy"));
  const std::vector<std::string> lines = absl::StrSplit(o.out, '\n');
  size_t header = 0;
  while (header < lines.size() &&
         lines[header].find("verdict") == std::string::npos) {
    ++header;
  }
  ASSERT_LT(header, lines.size());
  const size_t change_end = lines[header].find("change") + 6;
  const size_t verdict_at = lines[header].find("verdict");
  int rows = 0;
  for (const std::string& line : lines) {
    if (line.rfind("  ", 0) != 0 || &line == &lines[header]) continue;
    ++rows;
    EXPECT_EQ(line[change_end - 1], '%') << line;
    EXPECT_EQ(line[verdict_at - 1], ' ') << line;
    EXPECT_NE(line[verdict_at], ' ') << line;
  }
  EXPECT_EQ(rows, 18);
  EXPECT_THAT(o.out, Not(HasSubstr("regressed (")));
}

}  // namespace
}  // namespace asyncwork::tools
