#include "tools/soak_lib.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "clients/report.h"
#include "server/server.h"
#include "sim/fault.h"
#include "tools/format.h"

namespace asyncwork::tools {
namespace {

// kKeptErrors is how many errors the report keeps word for word.
constexpr size_t kKeptErrors = 10;

// kStopLimit bounds a server's Stop: its drain_timeout (10 s by default)
// and then some for joining and reaping.
constexpr absl::Duration kStopLimit = absl::Seconds(60);

// Watchdog calls its handler from its own thread when the work it was armed
// for overruns its limit. One thread arms and disarms it.
class Watchdog {
 public:
  explicit Watchdog(HangHandler on_hang)
      : on_hang_(std::move(on_hang)), thread_([this] { Loop(); }) {}

  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    changed_.notify_one();
    thread_.join();
  }

  // Arm starts watching `what`, which must be over within `limit`.
  void Arm(absl::Duration limit, std::string what) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      armed_ = true;
      ++generation_;
      deadline_ = std::chrono::steady_clock::now() +
                  absl::ToChronoNanoseconds(limit);
      what_ = std::move(what);
    }
    changed_.notify_one();
  }

  // Disarm says the watched work is over.
  void Disarm() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      armed_ = false;
      ++generation_;
    }
    changed_.notify_one();
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      if (!armed_) {
        changed_.wait(lock);
        continue;
      }
      const uint64_t generation = generation_;
      const bool changed = changed_.wait_until(lock, deadline_, [&] {
        return stop_ || generation_ != generation;
      });
      if (changed) continue;
      armed_ = false;
      const std::string what = what_;
      // The handler may block or abort; the arming thread must not wait on
      // the lock meanwhile.
      lock.unlock();
      on_hang_(what);
      lock.lock();
    }
  }

  const HangHandler on_hang_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool stop_ = false;
  bool armed_ = false;
  uint64_t generation_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  std::string what_;
  std::thread thread_;  // last: starts once the members above exist
};

void AbortOnHang(absl::string_view what) {
  std::fprintf(stderr, "soak: HUNG: %.*s did not finish in time; aborting\n",
               static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::abort();
}

void NotePeaks(const ProcessUsage& usage, SoakReport* report) {
  report->peak_rss_bytes =
      std::max(report->peak_rss_bytes, usage.peak_rss_bytes);
  report->peak_fds = std::max(report->peak_fds, usage.open_fds);
  report->peak_threads = std::max(report->peak_threads, usage.threads);
}

void AddError(std::string error, SoakReport* report) {
  if (report->errors.size() < kKeptErrors) {
    report->errors.push_back(std::move(error));
  } else {
    ++report->more_errors;
  }
}

// Sample samples the process for `report`, noting an error naming `when`.
std::optional<ProcessUsage> Sample(const ResourceSampler& sample,
                                   absl::string_view when,
                                   SoakReport* report) {
  absl::StatusOr<ProcessUsage> usage = sample();
  if (!usage.ok()) {
    AddError(absl::StrCat("sampling the process ", when, ": ",
                          usage.status().ToString()),
             report);
    return std::nullopt;
  }
  NotePeaks(*usage, report);
  report->latest = *usage;
  return *usage;
}

void Account(const SoakRun& run, const clients::RunStats& stats,
             SoakReport* report) {
  report->total.Add(stats);
  SoakReport::Group(report->by_strategy,
                    clients::StrategyKindName(run.strategy))
      .Add(stats);
  SoakReport::Group(report->by_fault, run.fault).Add(stats);
  SoakReport::Group(report->by_server, server::ServerKindName(run.server))
      .Add(stats);
  // One sample of each cause under each fault, to show what the cause
  // looked like.
  for (const clients::Failure& failure : stats.first_failures()) {
    const std::string prefix = absl::StrCat(
        run.fault, " / ", clients::FailureCauseName(failure.cause), ": ");
    const bool seen = std::any_of(
        report->sample_failures.begin(), report->sample_failures.end(),
        [&](const std::string& s) { return absl::StartsWith(s, prefix); });
    if (!seen) {
      report->sample_failures.push_back(
          absl::StrCat(prefix, clients::StrategyKindName(run.strategy), " ",
                       failure.ToString()));
    }
  }
}

std::string CausesText(const SoakTally& tally) {
  std::vector<std::string> parts;
  for (clients::FailureCause cause : clients::AllFailureCauses()) {
    if (tally.failed(cause) > 0) {
      parts.push_back(absl::StrCat(clients::FailureCauseName(cause), " ",
                                   tally.failed(cause)));
    }
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, ", ");
}

void AppendTable(absl::string_view title,
                 const std::vector<SoakGroup>& groups, std::string* out) {
  size_t width = title.size();
  for (const SoakGroup& group : groups) {
    width = std::max(width, group.name.size());
  }
  const int w = static_cast<int>(width);
  absl::StrAppendFormat(out, "%-*s %5s %9s %9s %8s %5s  %s\n", w, title,
                        "runs", "sent", "completed", "failed", "lost",
                        "failed by cause");
  for (const SoakGroup& group : groups) {
    const SoakTally& t = group.tally;
    absl::StrAppendFormat(out, "%-*s %5d %9d %9d %8d %5d  %s\n", w,
                          group.name, t.runs, t.sent, t.completed, t.failed(),
                          t.lost, CausesText(t));
  }
}

std::string TallyJson(const SoakTally& t) {
  std::string causes;
  for (clients::FailureCause cause : clients::AllFailureCauses()) {
    absl::StrAppend(&causes, causes.empty() ? "" : ", ", "\"",
                    clients::FailureCauseKey(cause), "\": ", t.failed(cause));
  }
  return absl::StrCat("\"runs\": ", t.runs, ", \"sent\": ", t.sent,
                      ", \"completed\": ", t.completed,
                      ", \"failed\": ", t.failed(), ", \"lost\": ", t.lost,
                      ", \"overcounted\": ", t.overcounted,
                      ", \"failed_by_cause\": {", causes, "}");
}

std::string GroupsJson(const std::vector<SoakGroup>& groups) {
  std::vector<std::string> items;
  for (const SoakGroup& group : groups) {
    items.push_back(absl::StrCat("{\"name\": ",
                                 clients::internal::JsonQuote(group.name), ", ",
                                 TallyJson(group.tally), "}"));
  }
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

std::string StringsJson(const std::vector<std::string>& strings) {
  std::vector<std::string> items;
  for (const std::string& s : strings) {
    items.push_back(clients::internal::JsonQuote(s));
  }
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

}  // namespace

std::vector<std::string> DefaultSoakFaults() {
  // Byte counts that fall inside frames, on every other connection so runs
  // keep making progress; slicing and connect delay on every connection.
  return {"close_after=3001,every=2", "reset_after=5003,every=2",
          "stall_after=2003,every=2", "slice=3",
          "connect_delay=20ms,every=2", std::string(kNoFault)};
}

absl::StatusOr<std::vector<std::string>> ParseFaultList(
    absl::string_view text) {
  std::vector<std::string> specs;
  for (absl::string_view spec : absl::StrSplit(text, ';', absl::SkipEmpty())) {
    spec = absl::StripAsciiWhitespace(spec);
    if (spec.empty()) continue;
    clients::RunConfig probe;
    if (absl::Status status = ApplyFault(spec, &probe); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--faults: '", spec, "': ", status.message()));
    }
    specs.emplace_back(spec);
  }
  if (specs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--faults=", text, ": needs at least one fault spec (or none)"));
  }
  return specs;
}

absl::Status ApplyFault(absl::string_view spec, clients::RunConfig* config) {
  absl::StatusOr<sim::FaultPlan> plan = sim::ParseFaultPlan(spec);
  if (!plan.ok()) return plan.status();
  config->faults = *plan;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<server::ServerKind>> ParseServerKinds(
    absl::string_view text) {
  if (text == "all") {
    return std::vector<server::ServerKind>(std::begin(server::kAllServerKinds),
                                           std::end(server::kAllServerKinds));
  }
  absl::StatusOr<server::ServerKind> kind = server::ParseServerKind(text);
  if (!kind.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--server_kind=", text, ": ", kind.status().message(),
                     ", or all"));
  }
  return std::vector<server::ServerKind>{*kind};
}

absl::Status ValidateSoakConfig(const SoakConfig& config) {
  if (config.duration <= absl::ZeroDuration() ||
      config.duration == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError("duration: must be positive and finite");
  }
  if (config.run_duration <= absl::ZeroDuration() ||
      config.run_duration == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        "run_duration: must be positive and finite");
  }
  if (config.servers.empty()) {
    return absl::InvalidArgumentError("servers: needs at least one");
  }
  if (config.strategies.empty()) {
    return absl::InvalidArgumentError("strategies: needs at least one");
  }
  if (config.faults.empty()) {
    return absl::InvalidArgumentError("faults: needs at least one");
  }
  if (config.progress_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("progress_interval: must be positive");
  }
  if (config.hang_slack < absl::ZeroDuration() ||
      config.hang_slack == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        "hang_slack: must be non-negative and finite");
  }
  clients::RunConfig probe = config.base;
  absl::StatusOr<net::Address> placeholder = net::Address::Parse("127.0.0.1:1");
  if (!placeholder.ok()) return placeholder.status();
  probe.server = *placeholder;
  probe.duration = config.run_duration;
  for (const std::string& fault : config.faults) {
    if (absl::Status status = ApplyFault(fault, &probe); !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("faults: '", fault, "': ", status.message()));
    }
  }
  return clients::ValidateRunConfig(probe);
}

absl::Duration RunLimit(const SoakConfig& config) {
  return config.run_duration + 3 * config.base.deadline + config.hang_slack;
}

std::string SoakRun::Describe() const {
  return absl::StrCat("round ", round + 1, ": ",
                      clients::StrategyKindName(strategy), " against ",
                      server::ServerKindName(server), ", fault ", fault);
}

LiveSoakTarget::LiveSoakTarget(const SoakConfig& config) : config_(config) {}

absl::StatusOr<clients::RunStats> LiveSoakTarget::Run(const SoakRun& run) {
  absl::StatusOr<net::Address> address = servers_.AddressOf(run.server);
  if (!address.ok()) return address.status();
  clients::RunConfig config = config_.base;
  config.server = *address;
  config.duration = config_.run_duration;
  config.seed = config_.seed + run.index;
  // The link's own randomness varies from run to run too, reproducibly.
  config.link.client_to_server.seed = config.seed;
  config.link.server_to_client.seed = config.seed + 1;
  config.progress = nullptr;
  if (absl::Status status = ApplyFault(run.fault, &config); !status.ok()) {
    return status;
  }
  return clients::RunStrategy(run.strategy, config);
}

absl::Status LiveSoakTarget::Stop(server::ServerKind kind) {
  return servers_.Stop(kind);
}

uint64_t SoakTally::failed() const {
  uint64_t sum = 0;
  for (uint64_t n : failed_by_cause) sum += n;
  return sum;
}

uint64_t SoakTally::failed(clients::FailureCause cause) const {
  return failed_by_cause[static_cast<size_t>(cause)];
}

void SoakTally::Add(const clients::RunStats& stats) {
  ++runs;
  sent += stats.started();
  completed += stats.completed();
  for (clients::FailureCause cause : clients::AllFailureCauses()) {
    failed_by_cause[static_cast<size_t>(cause)] += stats.failed(cause);
  }
  const uint64_t ended = stats.completed() + stats.failed();
  if (stats.started() > ended) lost += stats.started() - ended;
  if (ended > stats.started()) overcounted += ended - stats.started();
}

SoakTally& SoakReport::Group(std::vector<SoakGroup>& groups,
                             absl::string_view name) {
  for (SoakGroup& group : groups) {
    if (group.name == name) return group.tally;
  }
  groups.push_back({std::string(name), {}});
  return groups.back().tally;
}

std::vector<std::string> SoakReport::Problems() const {
  std::vector<std::string> problems;
  if (total.lost > 0) {
    problems.push_back(absl::StrCat(
        total.lost, " requests lost: sent, but neither completed nor failed"));
  }
  if (total.overcounted > 0) {
    problems.push_back(absl::StrCat(total.overcounted,
                                    " requests ended more than once"));
  }
  if (total.sent == 0) problems.push_back("no request was sent");
  if (total.sent > 0 && total.completed == 0) {
    problems.push_back("no request completed");
  }
  if (at_end.open_fds != at_start.open_fds) {
    problems.push_back(absl::StrCat("descriptors: ", at_start.open_fds,
                                    " open before the first run, ",
                                    at_end.open_fds, " after the last"));
  }
  if (at_end.threads != at_start.threads) {
    problems.push_back(absl::StrCat("threads: ", at_start.threads,
                                    " before the first run, ", at_end.threads,
                                    " after the last"));
  }
  for (const std::string& error : errors) problems.push_back(error);
  if (more_errors > 0) {
    problems.push_back(absl::StrCat("... and ", more_errors, " more errors"));
  }
  return problems;
}

SoakReport RunSoak(const SoakConfig& config, SoakTarget* target,
                   const SoakProgress& on_progress,
                   const ResourceSampler& sample, const HangHandler& on_hang) {
  SoakReport report;
  Watchdog watchdog(on_hang ? on_hang : HangHandler(AbortOnHang));
  if (std::optional<ProcessUsage> usage = Sample(sample, "at the start",
                                                 &report)) {
    report.at_start = *usage;
  }
  // EndCycle stops the cycle's server and checks that everything the cycle
  // opened is closed again; the last cycle's count is the report's at_end,
  // which Problems() compares itself.
  auto end_cycle = [&](server::ServerKind kind, bool last) {
    const std::string what =
        absl::StrCat("the ", server::ServerKindName(kind), " server");
    watchdog.Arm(kStopLimit, absl::StrCat("stopping ", what));
    const absl::Time stop_start = absl::Now();
    const absl::Status stopped = target->Stop(kind);
    const absl::Duration stop_time = absl::Now() - stop_start;
    watchdog.Disarm();
    if (stop_time >= report.slowest_stop) {
      report.slowest_stop = stop_time;
      report.slowest_stop_server = std::string(server::ServerKindName(kind));
    }
    ++report.cycles;
    if (!stopped.ok()) {
      AddError(absl::StrCat(what, " reported: ", stopped.ToString()), &report);
    }
    std::optional<ProcessUsage> usage =
        Sample(sample, absl::StrCat("after stopping ", what), &report);
    if (!usage.has_value()) return;
    if (last) {
      report.at_end = *usage;
    } else if (usage->open_fds != report.at_start.open_fds ||
               usage->threads != report.at_start.threads) {
      AddError(absl::StrCat("cycle ", report.cycles, ", after stopping ", what,
                            ": ", usage->open_fds, " descriptors and ",
                            usage->threads, " threads, against ",
                            report.at_start.open_fds, " and ",
                            report.at_start.threads, " before the first run"),
               &report);
    }
  };
  const absl::Time start = absl::Now();
  absl::Time next_progress = start + config.progress_interval;
  const size_t faults = config.faults.size();
  uint64_t index = 0;
  SoakRun run;
  for (uint64_t round = 0;; ++round) {
    if (round > 0 && absl::Now() - start >= config.duration) break;
    run.round = round;
    run.fault = config.faults[round % faults];
    run.server = config.servers[(round / faults) % config.servers.size()];
    for (clients::StrategyKind strategy : config.strategies) {
      // The first round always runs whole, so every strategy runs.
      if (round > 0 && absl::Now() - start >= config.duration) break;
      run.index = index++;
      run.strategy = strategy;
      watchdog.Arm(RunLimit(config), run.Describe());
      absl::StatusOr<clients::RunStats> stats = target->Run(run);
      watchdog.Disarm();
      if (stats.ok()) {
        Account(run, *stats, &report);
      } else {
        AddError(absl::StrCat(run.Describe(), ": ", stats.status().ToString()),
                 &report);
      }
      const absl::Time now = absl::Now();
      if (on_progress && now >= next_progress) {
        Sample(sample, "during the soak", &report);
        on_progress(report, now - start);
        next_progress = now + config.progress_interval;
      }
    }
    report.rounds = round + 1;
    if (std::optional<ProcessUsage> usage =
            Sample(sample, "between rounds", &report);
        usage.has_value() && round == 0) {
      report.rss_after_first_round = usage->rss_bytes;
    }
    if ((round + 1) % faults == 0 &&
        absl::Now() - start < config.duration) {
      end_cycle(run.server, /*last=*/false);
    }
  }
  report.elapsed = absl::Now() - start;
  end_cycle(run.server, /*last=*/true);
  return report;
}

std::string FormatSoakProgress(const SoakReport& so_far,
                               absl::Duration elapsed,
                               absl::Duration duration) {
  return absl::StrFormat(
      "soak %.1f s / %s: round %d, %d sent, %d completed, %d failed, %d lost; "
      "RSS %s (peak %s), %d fds",
      absl::ToDoubleSeconds(elapsed), absl::FormatDuration(duration),
      so_far.rounds + 1, so_far.total.sent, so_far.total.completed,
      so_far.total.failed(), so_far.total.lost,
      FormatBytes(so_far.latest.rss_bytes), FormatBytes(so_far.peak_rss_bytes),
      so_far.latest.open_fds);
}

std::string FormatSoakReport(const SoakReport& report) {
  std::string out = absl::StrFormat(
      "asyncwork soak: %.1f s, %d rounds in %d cycles (a server through every "
      "fault), %d runs\n\n",
      absl::ToDoubleSeconds(report.elapsed), report.rounds, report.cycles,
      report.total.runs);
  AppendTable("strategy", report.by_strategy, &out);
  out += "\n";
  AppendTable("fault", report.by_fault, &out);
  out += "\n";
  if (report.by_server.size() > 1) {
    AppendTable("server", report.by_server, &out);
    out += "\n";
  }
  AppendTable("total", {{"all", report.total}}, &out);
  absl::StrAppendFormat(
      &out,
      "\nlost (sent - completed - failed, per run): %d\n"
      "memory: peak RSS %s (VmHWM); RSS %s at the start, %s after round 1, "
      "%s at the end\n"
      "descriptors: %d before the first run, %d after the last "
      "(peak %d between rounds; checked after each of %d server stops)\n"
      "threads: %d before the first run, %d after the last (peak %d)\n"
      "slowest server stop: %s (%s)\n",
      report.total.lost, FormatBytes(report.peak_rss_bytes),
      FormatBytes(report.at_start.rss_bytes),
      FormatBytes(report.rss_after_first_round),
      FormatBytes(report.at_end.rss_bytes), report.at_start.open_fds,
      report.at_end.open_fds, report.peak_fds, report.cycles,
      report.at_start.threads,
      report.at_end.threads, report.peak_threads,
      FormatShortDuration(absl::ToChronoNanoseconds(report.slowest_stop)),
      report.slowest_stop_server);
  if (!report.sample_failures.empty()) {
    out += "\nsample failures (the first of each cause under each fault):\n";
    for (const std::string& sample : report.sample_failures) {
      absl::StrAppend(&out, "  ", sample, "\n");
    }
  }
  const std::vector<std::string> problems = report.Problems();
  if (problems.empty()) {
    out +=
        "\nPASS: every request completed or failed with its cause; no "
        "descriptor or thread leaked; nothing hung\n";
  } else {
    out += "\nFAIL:\n";
    for (const std::string& problem : problems) {
      absl::StrAppend(&out, "  ", problem, "\n");
    }
  }
  return out;
}

std::string FormatSoakJson(const SoakReport& report) {
  const std::vector<std::string> problems = report.Problems();
  return absl::StrCat(
      "{\"elapsed_s\": ", absl::ToDoubleSeconds(report.elapsed),
      ", \"rounds\": ", report.rounds, ", \"cycles\": ", report.cycles, ", ",
      TallyJson(report.total),
      ", \"by_strategy\": ", GroupsJson(report.by_strategy),
      ", \"by_fault\": ", GroupsJson(report.by_fault),
      ", \"by_server\": ", GroupsJson(report.by_server),
      ", \"peak_rss_bytes\": ", report.peak_rss_bytes,
      ", \"rss_bytes_start\": ", report.at_start.rss_bytes,
      ", \"rss_bytes_after_first_round\": ", report.rss_after_first_round,
      ", \"rss_bytes_end\": ", report.at_end.rss_bytes,
      ", \"fds_start\": ", report.at_start.open_fds,
      ", \"fds_end\": ", report.at_end.open_fds,
      ", \"peak_fds\": ", report.peak_fds,
      ", \"threads_start\": ", report.at_start.threads,
      ", \"threads_end\": ", report.at_end.threads,
      ", \"peak_threads\": ", report.peak_threads,
      ", \"slowest_stop_s\": ", absl::ToDoubleSeconds(report.slowest_stop),
      ", \"slowest_stop_server\": ",
      clients::internal::JsonQuote(report.slowest_stop_server),
      ", \"sample_failures\": ", StringsJson(report.sample_failures),
      ", \"problems\": ", StringsJson(problems),
      ", \"healthy\": ", problems.empty() ? "true" : "false", "}\n");
}

}  // namespace asyncwork::tools
