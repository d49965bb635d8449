#include "clients/run_stats.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace asyncwork::clients {
namespace {

TEST(RunStats, BalancedWhenEveryStartedRequestEnded) {
  RunStats stats;
  EXPECT_TRUE(stats.Balanced());
  stats.RecordStarted(4);
  stats.RecordStarted();
  stats.RecordCompleted(absl::Microseconds(100));
  stats.RecordCompleted(absl::Microseconds(200));
  stats.RecordCompleted(absl::Microseconds(300));
  stats.RecordFailed(3, FailureCause::kDeadlineExceeded);
  EXPECT_FALSE(stats.Balanced());
  EXPECT_EQ(stats.in_flight(), 1u);
  stats.RecordFailed(4, FailureCause::kConnectionClosed);
  EXPECT_TRUE(stats.Balanced());
  EXPECT_EQ(stats.in_flight(), 0u);
  EXPECT_EQ(stats.started(), 5u);
  EXPECT_EQ(stats.completed(), 3u);
  EXPECT_EQ(stats.failed(), 2u);
}

TEST(RunStats, MoreEndedThanStartedIsUnbalanced) {
  RunStats stats;
  stats.RecordCompleted(absl::Microseconds(1));
  EXPECT_FALSE(stats.Balanced());
  EXPECT_EQ(stats.in_flight(), 0u);
}

TEST(RunStats, OnlyCompletedRequestsHaveLatencies) {
  RunStats stats;
  stats.RecordStarted(3);
  stats.RecordCompleted(absl::Milliseconds(2));
  stats.RecordCompleted(absl::Milliseconds(4));
  stats.RecordFailed(2, FailureCause::kServerError, "UNKNOWN_OP");
  EXPECT_EQ(stats.latency().Count(), 2u);
  EXPECT_EQ(stats.latency().Max(), absl::Milliseconds(4));
  EXPECT_EQ(stats.latency().Mean(), absl::Milliseconds(3));
}

TEST(RunStats, CountsFailuresByCauseAndKeepsTheFirst) {
  RunStats stats;
  const int total = static_cast<int>(RunStats::kKeptFailures) + 5;
  stats.RecordStarted(total);
  for (int id = 0; id < total; ++id) {
    FailureCause cause = id % 3 == 0 ? FailureCause::kConnectionRefused
                                     : FailureCause::kBadResponse;
    stats.RecordFailed(id, cause, absl::StrCat("detail ", id));
  }
  EXPECT_EQ(stats.failed(), static_cast<uint64_t>(total));
  EXPECT_EQ(stats.failed(FailureCause::kConnectionRefused) +
                stats.failed(FailureCause::kBadResponse),
            static_cast<uint64_t>(total));
  EXPECT_EQ(stats.failed(FailureCause::kConnectionRefused),
            static_cast<uint64_t>((total + 2) / 3));
  EXPECT_EQ(stats.failed(FailureCause::kIoError), 0u);
  ASSERT_EQ(stats.first_failures().size(), RunStats::kKeptFailures);
  for (size_t i = 0; i < RunStats::kKeptFailures; ++i) {
    EXPECT_EQ(stats.first_failures()[i].request_id, i);
    EXPECT_EQ(stats.first_failures()[i].detail, absl::StrCat("detail ", i));
  }
}

TEST(Failure, ToStringNamesRequestAndCause) {
  Failure bare{17, FailureCause::kConnectionClosed, ""};
  EXPECT_EQ(bare.ToString(), "request 17: connection closed");
  Failure detailed{9, FailureCause::kDeadlineExceeded, "no answer in 10s"};
  EXPECT_EQ(detailed.ToString(),
            "request 9: deadline exceeded (no answer in 10s)");
}

TEST(FailureCause, NamesAndKeysAreDistinct) {
  std::set<std::string> names, keys;
  for (FailureCause cause : AllFailureCauses()) {
    names.insert(std::string(FailureCauseName(cause)));
    std::string key(FailureCauseKey(cause));
    for (char c : key) EXPECT_TRUE((c >= 'a' && c <= 'z') || c == '_') << key;
    keys.insert(key);
  }
  EXPECT_EQ(names.size(), kFailureCauseCount);
  EXPECT_EQ(keys.size(), kFailureCauseCount);
  EXPECT_EQ(FailureCauseKey(FailureCause::kConnectionClosed),
            "connection_closed");
}

TEST(RunStats, MergeEqualsRecordingEverything) {
  RunStats a, b, all;
  auto complete = [&all](RunStats& s, absl::Duration d) {
    s.RecordStarted();
    s.RecordCompleted(d);
    all.RecordStarted();
    all.RecordCompleted(d);
  };
  auto fail = [&all](RunStats& s, uint64_t id, FailureCause cause) {
    s.RecordStarted();
    s.RecordFailed(id, cause);
    all.RecordStarted();
    all.RecordFailed(id, cause);
  };
  for (int i = 1; i <= 50; ++i) complete(a, absl::Microseconds(i * 10));
  for (int i = 1; i <= 70; ++i) complete(b, absl::Microseconds(i * 7));
  for (uint64_t id = 0; id < 5; ++id) fail(a, id, FailureCause::kIoError);
  for (uint64_t id = 100; id < 110; ++id) {
    fail(b, id, FailureCause::kDeadlineExceeded);
  }
  a.SetElapsed(absl::Seconds(2), absl::Milliseconds(30));
  b.SetElapsed(absl::Seconds(3), absl::Milliseconds(50));
  a.Merge(b);
  EXPECT_EQ(a.started(), all.started());
  EXPECT_EQ(a.completed(), all.completed());
  EXPECT_EQ(a.failed(), all.failed());
  EXPECT_TRUE(a.Balanced());
  for (FailureCause cause : AllFailureCauses()) {
    EXPECT_EQ(a.failed(cause), all.failed(cause)) << FailureCauseName(cause);
  }
  ASSERT_EQ(a.first_failures().size(), RunStats::kKeptFailures);
  EXPECT_EQ(a.first_failures()[4].request_id, 4u);
  EXPECT_EQ(a.first_failures()[5].request_id, 100u);
  EXPECT_EQ(a.latency().Count(), all.latency().Count());
  EXPECT_EQ(a.latency().Max(), all.latency().Max());
  EXPECT_EQ(a.latency().ValueAtPercentile(50),
            all.latency().ValueAtPercentile(50));
  EXPECT_EQ(a.wall_time(), absl::Seconds(3));
  EXPECT_EQ(a.cpu_time(), absl::Milliseconds(80));
}

TEST(RunStats, MergeIntoItselfDoublesEverything) {
  RunStats stats;
  stats.RecordStarted(3);
  stats.RecordCompleted(absl::Milliseconds(1));
  stats.RecordFailed(1, FailureCause::kIoError);
  stats.RecordFailed(2, FailureCause::kBadResponse);
  stats.Merge(stats);
  EXPECT_EQ(stats.started(), 6u);
  EXPECT_EQ(stats.failed(), 4u);
  EXPECT_EQ(stats.latency().Count(), 2u);
  ASSERT_EQ(stats.first_failures().size(), 4u);
  EXPECT_EQ(stats.first_failures()[2].request_id, 1u);
  EXPECT_EQ(stats.first_failures()[3].request_id, 2u);
}

TEST(RunStats, WorkPerSecondAndCpuPerRequest) {
  RunStats stats;
  EXPECT_EQ(stats.WorkPerSecond(), 0.0);
  EXPECT_EQ(stats.CpuPerRequest(), absl::ZeroDuration());
  stats.RecordStarted(500);
  for (int i = 0; i < 500; ++i) stats.RecordCompleted(absl::Microseconds(5));
  stats.SetElapsed(absl::Seconds(2), absl::Milliseconds(250));
  EXPECT_DOUBLE_EQ(stats.WorkPerSecond(), 250.0);
  EXPECT_EQ(stats.CpuPerRequest(), absl::Microseconds(500));
  EXPECT_EQ(stats.wall_time(), absl::Seconds(2));
  EXPECT_EQ(stats.cpu_time(), absl::Milliseconds(250));
}

}  // namespace
}  // namespace asyncwork::clients
