#include "tools/benchmark_results.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/json.h"

namespace asyncwork::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kBase[] = "tools/testdata/bench_base.json";
constexpr char kStrategyRun[] =
    "BM_Strategy/strategy:callback/server:epoll/latency_us:1000/in_flight:64/"
    "op:echo/size:64/iterations:50/manual_time";

absl::StatusOr<BenchmarkResults> Parse(absl::string_view text) {
  absl::StatusOr<JsonValue> doc = ParseJson(text);
  EXPECT_TRUE(doc.ok()) << doc.status();
  if (!doc.ok()) return doc.status();
  return ParseBenchmarkResults(*doc);
}

TEST(LoadBenchmarkResults, GroupsRepetitionsOfARealFile) {
  absl::StatusOr<BenchmarkResults> r = LoadBenchmarkResults(kBase);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->runs.size(), 3u);
  EXPECT_EQ(r->runs[0].name, "BM_Hash/size:64");
  EXPECT_EQ(r->errored_runs, 0);
  const BenchmarkRun* run = r->Find(kStrategyRun);
  ASSERT_NE(run, nullptr);
  EXPECT_FALSE(run->from_mean_aggregate);
  for (const char* metric : {"real_time", "cpu_time", "items_per_second",
                             "p50_us", "p99_us", "cpu_us_per_request",
                             "bound_fraction"}) {
    ASSERT_EQ(run->metrics.count(metric), 1u) << metric;
    EXPECT_EQ(run->metrics.at(metric).size(), 5u) << metric;
  }
  EXPECT_EQ(run->metrics.count("iterations"), 0u);
  EXPECT_EQ(run->metrics.count("repetition_index"), 0u);
  EXPECT_EQ(r->runs[0].metrics.at("bytes_per_second").size(), 5u);
  // Values come from the iteration entries, in order, not from aggregates.
  absl::StatusOr<JsonValue> doc = ReadJsonFile(kBase);
  ASSERT_TRUE(doc.ok());
  const JsonValue& first = (*doc->Find("benchmarks")->AsArray())[0];
  EXPECT_EQ(r->runs[0].metrics.at("real_time")[0],
            *first.Find("real_time")->AsNumber());
  EXPECT_EQ(r->Find("BM_Hash/size:64_mean"), nullptr);
}

TEST(ParseBenchmarkResults, ConvertsTimesToNanoseconds) {
  absl::StatusOr<BenchmarkResults> r = Parse(R"({"benchmarks": [
    {"name": "a", "run_name": "a", "run_type": "iteration", "iterations": 9,
     "real_time": 2.5, "cpu_time": 1, "time_unit": "ms", "p99_us": 7},
    {"name": "b", "run_name": "b", "run_type": "iteration",
     "real_time": 3, "cpu_time": 3, "time_unit": "s"},
    {"name": "c", "run_name": "c", "run_type": "iteration",
     "real_time": 4, "cpu_time": 4, "time_unit": "us"}]})");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->runs.size(), 3u);
  EXPECT_THAT(r->runs[0].metrics.at("real_time"), ElementsAre(2.5e6));
  EXPECT_THAT(r->runs[0].metrics.at("cpu_time"), ElementsAre(1e6));
  EXPECT_THAT(r->runs[0].metrics.at("p99_us"), ElementsAre(7));  // A counter.
  EXPECT_THAT(r->runs[1].metrics.at("real_time"), ElementsAre(3e9));
  EXPECT_THAT(r->runs[2].metrics.at("real_time"), ElementsAre(4e3));
}

TEST(ParseBenchmarkResults, UsesTheMeanWhenOnlyAggregatesWereReported) {
  absl::StatusOr<BenchmarkResults> r = Parse(R"({"benchmarks": [
    {"name": "a_mean", "run_name": "a", "run_type": "aggregate",
     "aggregate_name": "mean", "real_time": 10, "time_unit": "ns"},
    {"name": "a_median", "run_name": "a", "run_type": "aggregate",
     "aggregate_name": "median", "real_time": 11, "time_unit": "ns"},
    {"name": "a_stddev", "run_name": "a", "run_type": "aggregate",
     "aggregate_name": "stddev", "real_time": 1, "time_unit": "ns"}]})");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->runs.size(), 1u);
  EXPECT_TRUE(r->runs[0].from_mean_aggregate);
  EXPECT_THAT(r->runs[0].metrics.at("real_time"), ElementsAre(10));
}

TEST(ParseBenchmarkResults, SkipsErrorsAndNonFiniteValues) {
  absl::StatusOr<BenchmarkResults> r = Parse(R"({"benchmarks": [
    {"name": "bad", "run_name": "bad", "run_type": "iteration",
     "error_occurred": true, "error_message": "connect: refused",
     "real_time": 0, "time_unit": "ns"},
    {"name": "old", "real_time": 5, "cpu_time": 5, "time_unit": "ns",
     "x": NaN, "y": Infinity}]})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->errored_runs, 1);
  ASSERT_EQ(r->runs.size(), 1u);
  EXPECT_EQ(r->runs[0].name, "old");  // No run_name: falls back to name.
  EXPECT_EQ(r->runs[0].metrics.count("x"), 0u);
  EXPECT_EQ(r->runs[0].metrics.count("y"), 0u);
}

TEST(ParseBenchmarkResults, RejectsWhatIsNotGoogleBenchmarkOutput) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {R"({"results": []})", "no top-level \"benchmarks\" array"},
      {R"([1, 2])", "no top-level \"benchmarks\" array"},
      {R"({"benchmarks": {}})", "no top-level \"benchmarks\" array"},
      {R"({"benchmarks": [{"name": "a"}, 7]})",
       "benchmarks[1]: expected an object, found number"},
      {R"({"benchmarks": [{"real_time": 1}]})",
       "benchmarks[0]: no \"run_name\" or \"name\" string"},
      {R"({"benchmarks": [{"name": "a", "time_unit": "fortnight"}]})",
       "benchmarks[0] (a): unknown time_unit \"fortnight\""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<BenchmarkResults> r = Parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message));
  }
}

TEST(LoadBenchmarkResults, PrefixesErrorsWithThePath) {
  absl::StatusOr<BenchmarkResults> r =
      LoadBenchmarkResults("tools/testdata/no-such-file.json");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("tools/testdata/no-such-file.json"));
}

}  // namespace
}  // namespace asyncwork::tools
