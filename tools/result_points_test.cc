#include "tools/result_points.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/json.h"

namespace asyncwork::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

absl::StatusOr<std::vector<ResultPoint>> Parse(absl::string_view text,
                                               int* skipped = nullptr) {
  absl::StatusOr<JsonValue> doc = ParseJson(text);
  EXPECT_TRUE(doc.ok()) << doc.status();
  if (!doc.ok()) return doc.status();
  return ParseResultPoints(*doc, skipped);
}

TEST(ParseNamedArgs, SplitsKeyValueSegmentsAfterTheFunctionName) {
  EXPECT_THAT(
      ParseNamedArgs("BM_Strategy/strategy:callback/server:epoll/"
                     "latency_us:10000/in_flight:64/iterations:50/real_time"),
      UnorderedElementsAre(Pair("strategy", "callback"),
                           Pair("server", "epoll"),
                           Pair("latency_us", "10000"),
                           Pair("in_flight", "64"), Pair("iterations", "50")));
  EXPECT_TRUE(ParseNamedArgs("BM_Plain").empty());
  EXPECT_TRUE(ParseNamedArgs("BM_Plain/8/manual_time").empty());
  EXPECT_THAT(ParseNamedArgs("BM_X/op:a:b/:7"),
              UnorderedElementsAre(Pair("op", "a:b")));
}

TEST(ParseResultPoints, ReadsGoogleBenchmarkStrategyRuns) {
  int skipped = 0;
  absl::StatusOr<JsonValue> doc =
      ReadJsonFile("tools/testdata/strategies.json");
  ASSERT_TRUE(doc.ok()) << doc.status();
  absl::StatusOr<std::vector<ResultPoint>> points =
      ParseResultPoints(*doc, &skipped);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 60u);
  EXPECT_EQ(skipped, 0);
  const ResultPoint& first = points->front();
  EXPECT_EQ(first.strategy, "blocking");
  EXPECT_EQ(first.server, "epoll");
  EXPECT_EQ(first.op, "echo");
  EXPECT_EQ(first.latency_us, 0);
  EXPECT_EQ(first.in_flight, 1);
  EXPECT_EQ(first.size, 64);
  EXPECT_FALSE(first.bandwidth_kbit.has_value());
  // The bound is derived from the rate and the fraction of the bound.
  const JsonValue& raw = (*doc->Find("benchmarks")->AsArray())[0];
  const double ips = *raw.Find("items_per_second")->AsNumber();
  EXPECT_EQ(first.work_per_s, ips);
  ASSERT_TRUE(first.bound_per_s.has_value());
  EXPECT_DOUBLE_EQ(*first.bound_per_s,
                   ips / *raw.Find("bound_fraction")->AsNumber());
  EXPECT_EQ(first.p99_us, *raw.Find("p99_us")->AsNumber());
}

TEST(ParseResultPoints, AveragesRepetitionsAndSkipsOtherBenchmarks) {
  int skipped = 0;
  absl::StatusOr<std::vector<ResultPoint>> points = Parse(R"({"benchmarks": [
    {"name": "BM_Hash/size:64", "run_name": "BM_Hash/size:64",
     "run_type": "iteration", "items_per_second": 5, "time_unit": "ns"},
    {"name": "BM_S/strategy:polling/bandwidth_kbit:10000",
     "run_name": "BM_S/strategy:polling/bandwidth_kbit:10000",
     "run_type": "iteration", "items_per_second": 100, "time_unit": "ns"},
    {"name": "BM_S/strategy:polling/bandwidth_kbit:10000",
     "run_name": "BM_S/strategy:polling/bandwidth_kbit:10000",
     "run_type": "iteration", "items_per_second": 300, "time_unit": "ns"},
    {"name": "BM_S/strategy:threaded", "run_name": "BM_S/strategy:threaded",
     "run_type": "iteration", "time_unit": "ns"}]})",
                                                          &skipped);
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 1u);
  EXPECT_EQ(skipped, 2);  // No strategy; no items_per_second.
  EXPECT_EQ((*points)[0].work_per_s, 200);
  EXPECT_EQ((*points)[0].bandwidth_kbit, 10000);
  EXPECT_FALSE((*points)[0].bound_per_s.has_value());
}

TEST(ParseResultPoints, RejectsNonNumericNamedArgs) {
  absl::StatusOr<std::vector<ResultPoint>> points = Parse(R"({"benchmarks": [
    {"name": "BM_S/strategy:a/in_flight:many", "items_per_second": 1,
     "time_unit": "ns"}]})");
  ASSERT_FALSE(points.ok());
  EXPECT_THAT(std::string(points.status().message()),
              HasSubstr("BM_S/strategy:a/in_flight:many: in_flight:many is "
                        "not a number"));
}

TEST(ParseResultPoints, ReadsNativeResults) {
  absl::StatusOr<std::vector<ResultPoint>> points = Parse(R"({"results": [
    {"strategy": "callback", "latency_us": 10000, "in_flight": 64,
     "work_per_s": 6250.0, "bound_per_s": 6400.0, "p99_us": 21000.0,
     "server": "epoll", "note": "ignored"},
    {"strategy": "blocking", "work_per_s": 50, "size": null}]})");
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 2u);
  const ResultPoint& p = (*points)[0];
  EXPECT_EQ(p.strategy, "callback");
  EXPECT_EQ(p.server, "epoll");
  EXPECT_EQ(p.latency_us, 10000);
  EXPECT_EQ(p.in_flight, 64);
  EXPECT_EQ(p.work_per_s, 6250);
  EXPECT_EQ(p.bound_per_s, 6400);
  EXPECT_EQ(p.p99_us, 21000);
  EXPECT_FALSE(p.p50_us.has_value());
  EXPECT_FALSE((*points)[1].latency_us.has_value());
  EXPECT_FALSE((*points)[1].size.has_value());
}

TEST(ParseResultPoints, NamesTheBadNativeEntry) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {R"({"results": [{"work_per_s": 1}]})",
       "results[0]: \"strategy\" must be a non-empty string"},
      {R"({"results": [{"strategy": "a", "work_per_s": 1}, 3]})",
       "results[1]: expected an object, found number"},
      {R"({"results": [{"strategy": "a"}]})",
       "results[0]: \"work_per_s\" is required"},
      {R"({"results": [{"strategy": "a", "work_per_s": "fast"}]})",
       "results[0].work_per_s: expected a finite number, found string"},
      {R"({"results": [{"strategy": "a", "work_per_s": 1, "in_flight": "8"}]})",
       "results[0].in_flight: expected a finite number, found string"},
      {R"({"results": [{"strategy": "a", "work_per_s": 1, "server": 2}]})",
       "results[0].server: expected a string, found number"},
      {R"({"results": [{"strategy": "a", "work_per_s": 1, "p99_us": NaN}]})",
       "results[0].p99_us: expected a finite number"},
      {R"({"data": []})", "neither Google Benchmark JSON"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::vector<ResultPoint>> points = Parse(c.text);
    ASSERT_FALSE(points.ok()) << c.text;
    EXPECT_THAT(std::string(points.status().message()), HasSubstr(c.message))
        << c.text;
  }
}

}  // namespace
}  // namespace asyncwork::tools
