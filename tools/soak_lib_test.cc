#include "tools/soak_lib.h"

#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "clients/run_stats.h"
#include "clients/strategy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "sim/fault.h"
#include "tools/process_usage.h"

namespace asyncwork::tools {
namespace {

using clients::FailureCause;
using clients::RunStats;
using ::testing::HasSubstr;

// Stats returns a run's stats: `started` requests, `completed` of them
// answered, and one failure per entry of `failures`.
RunStats Stats(uint64_t started, uint64_t completed,
               const std::vector<FailureCause>& failures = {}) {
  RunStats stats;
  stats.RecordStarted(started);
  for (uint64_t i = 0; i < completed; ++i) {
    stats.RecordCompleted(absl::Microseconds(100));
  }
  uint64_t id = completed;
  for (FailureCause cause : failures) stats.RecordFailed(id++, cause, "why");
  return stats;
}

// FakeTarget answers every run with `stats` (or `error`), remembers the
// runs, and may take time or leave a "descriptor" open per run.
class FakeTarget : public SoakTarget {
 public:
  absl::StatusOr<RunStats> Run(const SoakRun& run) override {
    runs.push_back(run);
    if (run_time > absl::ZeroDuration()) absl::SleepFor(run_time);
    open_fds += leak_per_run;
    if (!error.ok()) return error;
    return stats;
  }
  absl::Status Stop(server::ServerKind kind) override {
    stops.push_back({kind, runs.size()});
    return stop_error;
  }

  RunStats stats = Stats(10, 9, {FailureCause::kConnectionClosed});
  absl::Status error;
  absl::Status stop_error;
  absl::Duration run_time = absl::ZeroDuration();
  int leak_per_run = 0;
  int open_fds = 5;
  std::vector<SoakRun> runs;
  // Each Stop: the server kind, and how many runs had run by then.
  std::vector<std::pair<server::ServerKind, size_t>> stops;
};

// SamplerOf samples `target`'s pretend descriptors.
ResourceSampler SamplerOf(const FakeTarget* target) {
  return [target]() -> absl::StatusOr<ProcessUsage> {
    ProcessUsage usage;
    usage.rss_bytes = 1 << 20;
    usage.peak_rss_bytes = 2 << 20;
    usage.threads = 1;
    usage.open_fds = target->open_fds;
    return usage;
  };
}

// OneRound returns a config whose soak is a single round of every strategy
// (the first round always runs whole).
SoakConfig OneRound() {
  SoakConfig config;
  config.duration = absl::Nanoseconds(1);
  config.faults = {std::string(kNoFault)};
  return config;
}

TEST(SoakTally, LostIsSentMinusCompletedMinusFailedPerRun) {
  SoakTally tally;
  tally.Add(Stats(10, 7, {FailureCause::kConnectionClosed,
                          FailureCause::kConnectionClosed,
                          FailureCause::kDeadlineExceeded}));
  EXPECT_EQ(tally.lost, 0u);
  tally.Add(Stats(10, 5, {FailureCause::kConnectionRefused,
                          FailureCause::kDeadlineExceeded}));
  EXPECT_EQ(tally.lost, 3u);
  // A run that ended more requests than it sent does not hide the loss.
  tally.Add(Stats(2, 2, {FailureCause::kIoError}));
  EXPECT_EQ(tally.lost, 3u);
  EXPECT_EQ(tally.overcounted, 1u);
  EXPECT_EQ(tally.runs, 3u);
  EXPECT_EQ(tally.sent, 22u);
  EXPECT_EQ(tally.completed, 14u);
  EXPECT_EQ(tally.failed(), 6u);
  EXPECT_EQ(tally.failed(FailureCause::kConnectionClosed), 2u);
  EXPECT_EQ(tally.failed(FailureCause::kDeadlineExceeded), 2u);
  EXPECT_EQ(tally.failed(FailureCause::kConnectionRefused), 1u);
  EXPECT_EQ(tally.failed(FailureCause::kIoError), 1u);
  EXPECT_EQ(tally.failed(FailureCause::kServerError), 0u);
}

TEST(RunSoak, FirstRoundRunsEveryStrategyEvenWhenTimeIsUp) {
  FakeTarget target;
  SoakReport report = RunSoak(OneRound(), &target, {}, SamplerOf(&target));
  ASSERT_EQ(target.runs.size(), clients::AllStrategyKinds().size());
  for (size_t i = 0; i < target.runs.size(); ++i) {
    EXPECT_EQ(target.runs[i].strategy, clients::AllStrategyKinds()[i]);
    EXPECT_EQ(target.runs[i].index, i);
    EXPECT_EQ(target.runs[i].round, 0u);
  }
  EXPECT_EQ(report.rounds, 1u);
  EXPECT_EQ(report.total.runs, 6u);
  EXPECT_EQ(report.total.sent, 60u);
  EXPECT_EQ(report.by_strategy.size(), 6u);
  ASSERT_EQ(target.stops.size(), 1u);
  EXPECT_EQ(target.stops[0],
            std::make_pair(server::ServerKind::kEpoll, size_t{6}));
  EXPECT_EQ(report.cycles, 1u);
  EXPECT_TRUE(report.Healthy()) << FormatSoakReport(report);
}

TEST(RunSoak, RotatesFaultsThenServersRoundByRound) {
  FakeTarget target;
  target.run_time = absl::Milliseconds(1);
  SoakConfig config;
  config.duration = absl::Milliseconds(100);
  config.strategies = {clients::StrategyKind::kCallback};
  config.servers = {server::ServerKind::kEpoll, server::ServerKind::kPool};
  config.faults = {"none", "slice=1", "connect_delay=1ms"};
  SoakReport report = RunSoak(config, &target, {}, SamplerOf(&target));
  ASSERT_GE(target.runs.size(), 4u);
  for (const SoakRun& run : target.runs) {
    EXPECT_EQ(run.fault, config.faults[run.round % 3]);
    EXPECT_EQ(run.server, config.servers[(run.round / 3) % 2]);
  }
  EXPECT_EQ(report.rounds, target.runs.size());
  EXPECT_EQ(report.by_fault.size(), 3u);
  EXPECT_EQ(report.by_server.size(), 2u);
  // A server is stopped after each cycle of three rounds, and after the
  // last round.
  ASSERT_FALSE(target.stops.empty());
  for (size_t i = 0; i + 1 < target.stops.size(); ++i) {
    EXPECT_EQ(target.stops[i].first, config.servers[i % 2]);
    EXPECT_EQ(target.stops[i].second, 3 * (i + 1));
  }
  EXPECT_EQ(target.stops.back().second, target.runs.size());
  EXPECT_EQ(target.stops.back().first, target.runs.back().server);
  EXPECT_EQ(report.cycles, target.stops.size());
}

TEST(RunSoak, ADescriptorLeftOpenAfterAnEarlyCycleFailsTheSoak) {
  // The first cycle leaves a descriptor open after its server stops; the
  // second closes it again, so only the check after each cycle sees it.
  class LeakThenClose : public FakeTarget {
   public:
    absl::Status Stop(server::ServerKind kind) override {
      if (stops.size() < 2) open_fds += stops.empty() ? 1 : -1;
      return FakeTarget::Stop(kind);
    }
  } target;
  target.run_time = absl::Milliseconds(1);
  SoakConfig config = OneRound();
  config.duration = absl::Milliseconds(50);
  config.strategies = {clients::StrategyKind::kBlocking};
  config.faults = {"none", "slice=1"};
  SoakReport report = RunSoak(config, &target, {}, SamplerOf(&target));
  ASSERT_GE(target.stops.size(), 2u);
  EXPECT_EQ(report.at_end.open_fds, report.at_start.open_fds);
  ASSERT_FALSE(report.errors.empty());
  EXPECT_THAT(report.errors.front(),
              HasSubstr("cycle 1, after stopping the epoll server: 6 "
                        "descriptors"));
  EXPECT_FALSE(report.Healthy());
}

TEST(RunSoak, ALostRequestFailsTheSoak) {
  FakeTarget target;
  target.stats = Stats(10, 8, {FailureCause::kDeadlineExceeded});
  SoakReport report = RunSoak(OneRound(), &target, {}, SamplerOf(&target));
  EXPECT_EQ(report.total.lost, 6u);
  EXPECT_FALSE(report.Healthy());
  const std::string text = FormatSoakReport(report);
  EXPECT_THAT(text, HasSubstr("6 requests lost"));
  EXPECT_THAT(text, HasSubstr("FAIL"));
  EXPECT_THAT(FormatSoakJson(report), HasSubstr("\"healthy\": false"));
}

TEST(RunSoak, ALeakedDescriptorFailsTheSoak) {
  FakeTarget target;
  target.leak_per_run = 1;
  SoakReport report = RunSoak(OneRound(), &target, {}, SamplerOf(&target));
  EXPECT_EQ(report.at_start.open_fds, 5);
  EXPECT_EQ(report.at_end.open_fds, 11);
  EXPECT_EQ(report.peak_fds, 11);
  ASSERT_FALSE(report.Healthy());
  EXPECT_THAT(FormatSoakReport(report),
              HasSubstr("descriptors: 5 open before the first run, 11 after"));
}

TEST(RunSoak, DescriptorsCountedWithEverythingStopped) {
  // The target holds descriptors while it runs (a server) and closes them
  // when stopped: no leak.
  class ServerLike : public FakeTarget {
   public:
    absl::StatusOr<RunStats> Run(const SoakRun& run) override {
      if (runs.empty()) open_fds += 3;
      return FakeTarget::Run(run);
    }
    absl::Status Stop(server::ServerKind kind) override {
      open_fds -= 3;
      return FakeTarget::Stop(kind);
    }
  } target;
  SoakReport report = RunSoak(OneRound(), &target, {}, SamplerOf(&target));
  EXPECT_EQ(report.peak_fds, 8);
  EXPECT_EQ(report.at_end.open_fds, report.at_start.open_fds);
  EXPECT_TRUE(report.Healthy()) << FormatSoakReport(report);
}

TEST(RunSoak, RunsThatCannotStartAreErrors) {
  FakeTarget target;
  target.error = absl::UnavailableError("bind: Address in use");
  target.stop_error = absl::InternalError("accept: too many open files");
  SoakReport report = RunSoak(OneRound(), &target, {}, SamplerOf(&target));
  EXPECT_EQ(report.total.runs, 0u);
  EXPECT_EQ(report.errors.size(), 7u);
  EXPECT_THAT(report.errors.front(),
              HasSubstr("round 1: blocking against epoll, fault none"));
  EXPECT_THAT(report.errors.front(), HasSubstr("bind: Address in use"));
  EXPECT_THAT(report.errors.back(), HasSubstr("too many open files"));
  EXPECT_FALSE(report.Healthy());
}

TEST(RunSoak, ASamplingErrorFailsTheSoak) {
  FakeTarget target;
  SoakReport report = RunSoak(OneRound(), &target, {},
                              []() -> absl::StatusOr<ProcessUsage> {
                                return absl::NotFoundError("no /proc");
                              });
  ASSERT_FALSE(report.errors.empty());
  EXPECT_THAT(report.errors.front(), HasSubstr("no /proc"));
  EXPECT_FALSE(report.Healthy());
}

TEST(RunSoak, ReportsProgressWhileRunning) {
  FakeTarget target;
  target.run_time = absl::Milliseconds(2);
  SoakConfig config = OneRound();
  config.progress_interval = absl::Milliseconds(1);
  std::vector<uint64_t> runs_seen;
  RunSoak(
      config, &target,
      [&](const SoakReport& so_far, absl::Duration elapsed) {
        runs_seen.push_back(so_far.total.runs);
        EXPECT_GT(elapsed, absl::ZeroDuration());
      },
      SamplerOf(&target));
  ASSERT_FALSE(runs_seen.empty());
  EXPECT_EQ(runs_seen.front(), 1u);
  SoakReport so_far;
  so_far.latest.rss_bytes = 3 << 20;
  so_far.latest.open_fds = 14;
  so_far.peak_rss_bytes = 4 << 20;
  so_far.total.sent = 7;
  EXPECT_THAT(FormatSoakProgress(so_far, absl::Seconds(2), absl::Seconds(60)),
              HasSubstr("7 sent, 0 completed, 0 failed, 0 lost; RSS 3.0 MiB "
                        "(peak 4.0 MiB), 14 fds"));
}

TEST(RunSoak, ARunPastItsLimitIsReportedHung) {
  FakeTarget target;
  target.run_time = absl::Milliseconds(300);
  SoakConfig config = OneRound();
  config.strategies = {clients::StrategyKind::kPolling};
  config.run_duration = absl::Milliseconds(1);
  config.base.deadline = absl::Milliseconds(1);
  config.hang_slack = absl::ZeroDuration();
  std::promise<std::string> hung;
  std::once_flag once;
  RunSoak(
      config, &target, {}, SamplerOf(&target), [&](absl::string_view what) {
        std::call_once(once, [&] { hung.set_value(std::string(what)); });
      });
  std::future<std::string> what = hung.get_future();
  ASSERT_EQ(what.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_THAT(what.get(), HasSubstr("polling against epoll"));
}

TEST(RunSoak, AQuickRunIsNotReportedHung) {
  FakeTarget target;
  bool hung = false;  // the handler would run on the watchdog's thread
  std::mutex mu;
  SoakReport report = RunSoak(OneRound(), &target, {}, SamplerOf(&target),
                              [&](absl::string_view) {
                                std::lock_guard<std::mutex> lock(mu);
                                hung = true;
                              });
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_FALSE(hung);
}

TEST(FormatSoakReport, ShowsTablesResourcesAndVerdict) {
  FakeTarget target;
  SoakReport report = RunSoak(OneRound(), &target, {}, SamplerOf(&target));
  const std::string text = FormatSoakReport(report);
  EXPECT_THAT(text, HasSubstr("strategy"));
  EXPECT_THAT(text, HasSubstr("coroutine"));
  EXPECT_THAT(text, HasSubstr("connection closed 6"));
  EXPECT_THAT(text, HasSubstr("peak RSS 2.0 MiB"));
  EXPECT_THAT(text, HasSubstr("descriptors: 5 before the first run, 5 after"));
  EXPECT_THAT(text, HasSubstr("none / connection closed: blocking request 9"));
  EXPECT_THAT(text, HasSubstr("slowest server stop: "));
  EXPECT_THAT(text, HasSubstr("(epoll)"));
  EXPECT_THAT(text, HasSubstr("PASS"));
  const std::string json = FormatSoakJson(report);
  EXPECT_THAT(json, HasSubstr("\"sent\": 60, \"completed\": 54"));
  EXPECT_THAT(json, HasSubstr("\"lost\": 0"));
  EXPECT_THAT(json, HasSubstr("\"connection_closed\": 6"));
  EXPECT_THAT(json, HasSubstr("\"healthy\": true"));
}

TEST(ParseFaultList, SplitsOnSemicolons) {
  absl::StatusOr<std::vector<std::string>> faults =
      ParseFaultList(" none ;none;");
  ASSERT_TRUE(faults.ok()) << faults.status();
  EXPECT_EQ(*faults, (std::vector<std::string>{"none", "none"}));
}

TEST(ParseFaultList, RejectsAnEmptyListAndABadSpec) {
  EXPECT_EQ(ParseFaultList(";").status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::vector<std::string>> bad =
      ParseFaultList("none;explode=now");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("explode=now"));
}

TEST(ApplyFault, SetsTheRunsFaultPlan) {
  clients::RunConfig config;
  ASSERT_TRUE(ApplyFault("close_after=10,every=2", &config).ok());
  EXPECT_EQ(config.faults.close_after_bytes, 10u);
  EXPECT_EQ(config.faults.every_nth_connection, 2);
  ASSERT_TRUE(ApplyFault(kNoFault, &config).ok());
  EXPECT_EQ(config.faults, sim::FaultPlan());
  EXPECT_FALSE(ApplyFault("close_after=10,reset_after=10", &config).ok());
}

TEST(DefaultSoakFaults, CoversEveryFaultKindAndACleanLink) {
  std::vector<std::string> faults = DefaultSoakFaults();
  bool close = false, reset = false, stall = false, slice = false,
       delay = false, none = false;
  for (const std::string& spec : faults) {
    clients::RunConfig config;
    ASSERT_TRUE(ApplyFault(spec, &config).ok()) << spec;
    const sim::FaultPlan& plan = config.faults;
    close |= plan.close_after_bytes.has_value();
    reset |= plan.reset_after_bytes.has_value();
    stall |= plan.stall_after_bytes.has_value();
    slice |= plan.slice_bytes > 0;
    delay |= plan.connect_delay > absl::ZeroDuration();
    none |= !sim::HasFaults(plan);
  }
  EXPECT_TRUE(close && reset && stall && slice && delay && none);
}

TEST(ParseServerKinds, OneKindOrAll) {
  absl::StatusOr<std::vector<server::ServerKind>> all = ParseServerKinds("all");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), std::size(server::kAllServerKinds));
  absl::StatusOr<std::vector<server::ServerKind>> pool =
      ParseServerKinds("pool");
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ(*pool, std::vector<server::ServerKind>{server::ServerKind::kPool});
  absl::StatusOr<std::vector<server::ServerKind>> bad =
      ParseServerKinds("bogus");
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("bogus"));
}

TEST(ValidateSoakConfig, NamesTheBadField) {
  EXPECT_TRUE(ValidateSoakConfig(SoakConfig()).ok());
  SoakConfig config;
  config.duration = absl::ZeroDuration();
  EXPECT_THAT(std::string(ValidateSoakConfig(config).message()),
              HasSubstr("duration"));
  config = SoakConfig();
  config.strategies.clear();
  EXPECT_THAT(std::string(ValidateSoakConfig(config).message()),
              HasSubstr("strategies"));
  config = SoakConfig();
  config.base.in_flight = 0;
  EXPECT_FALSE(ValidateSoakConfig(config).ok());
  config = SoakConfig();
  config.faults = {"explode=now"};
  EXPECT_THAT(std::string(ValidateSoakConfig(config).message()),
              HasSubstr("explode=now"));
}

}  // namespace
}  // namespace asyncwork::tools
