// soak_lib.h: the soak test's loop, its accounting and its report — issue
// #9's promise checked end to end: under faults every request sent either
// completes or is reported failed with its cause (none lost), no descriptor
// or thread leaks, and nothing hangs or crashes.
//
// `tools/bazel run //tools:soak -- --duration=60s` runs rounds until the
// time is up. Each round runs every client strategy against an in-process
// server over a link with the next fault of a rotation (close, reset,
// stall, slice, connect delay, none), with a short request deadline so that
// a stall is reported as "deadline exceeded" rather than waited out. A
// cycle is one server kind through the whole rotation; the server is then
// stopped and the next cycle starts one (of the next kind, with several):
//
//   SoakConfig config;                  // the full rotation by default
//   config.duration = absl::Seconds(60);
//   config.base = clients::MakeRunConfig(options, placeholder_address);
//   LiveSoakTarget target(config);      // starts servers as runs need them
//   SoakReport report = RunSoak(config, &target, on_progress);
//   std::fputs(FormatSoakReport(report).c_str(), stdout);
//   return report.Healthy() ? 0 : 1;
//
// The loop takes its target (what runs one strategy, and stops the servers)
// and its resource sampler as parameters, so tests drive it with fakes.
//
// Accounting: a run's `sent` is the strategy's RunStats::started(), each
// request the client committed to. lost = sent - completed - failed, summed
// per run; a run in which more requests ended than started counts in
// `overcounted` instead of cancelling another run's loss. Both must be 0.
// (Today every strategy also checks RunStats::Balanced() as it finishes, so
// a real loss aborts the process, which fails the soak as a crash; the
// tally is the check that does not depend on that.) The servers keep no
// count of answers, so there is no server-side cross-check.
//
// Descriptors and threads are counted before the first run (before any
// server starts) and again after each cycle's server is stopped (every
// client joined, every server thread joined and child reaped): each count
// must equal the first. Counts taken between rounds, with the server up and
// connections closing, only feed the peaks. RunSoak's watchdog thread (it
// declares a run hung) is counted in both.
#ifndef ASYNCWORK_TOOLS_SOAK_LIB_H_
#define ASYNCWORK_TOOLS_SOAK_LIB_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"
#include "clients/strategy.h"
#include "server/server.h"
#include "tools/experiment.h"
#include "tools/process_usage.h"

namespace asyncwork::tools {

// kNoFault is the fault spec for a clean link.
inline constexpr absl::string_view kNoFault = "none";

// DefaultSoakFaults returns the rotation: one spec per fault kind (close,
// reset, stall, slice, connect delay) and kNoFault.
std::vector<std::string> DefaultSoakFaults();

// ParseFaultList splits --faults' value on ';' (a spec has commas of its
// own: "close_after=4096,every=3;none") and checks each spec; an empty list
// or a bad spec is InvalidArgument naming it.
absl::StatusOr<std::vector<std::string>> ParseFaultList(absl::string_view text);

// ApplyFault sets `config`'s fault plan to `spec`, in sim/fault.h's syntax
// (kNoFault: no fault). InvalidArgument, quoting the spec, for a bad one.
absl::Status ApplyFault(absl::string_view spec, clients::RunConfig* config);

// ParseServerKinds reads --server_kind: one kind, or "all" for every kind
// in turn.
absl::StatusOr<std::vector<server::ServerKind>> ParseServerKinds(
    absl::string_view text);

// SoakConfig is what to run.
struct SoakConfig {
  // Start rounds until this much time has passed (at least one round runs).
  absl::Duration duration = absl::Seconds(60);
  // How long each strategy sends requests in one round.
  absl::Duration run_duration = absl::Milliseconds(250);
  std::vector<server::ServerKind> servers = {server::ServerKind::kEpoll};
  std::vector<clients::StrategyKind> strategies = {
      clients::AllStrategyKinds().begin(), clients::AllStrategyKinds().end()};
  std::vector<std::string> faults = DefaultSoakFaults();
  // Every run's settings but the server, duration, seed and fault: op,
  // size, window, deadline, latency.
  clients::RunConfig base;
  // Run i (from 0) is seeded with seed + i.
  uint64_t seed = 1;
  // How often RunSoak reports progress.
  absl::Duration progress_interval = absl::Seconds(5);
  // A run that takes longer than run_duration + 3 * base.deadline +
  // hang_slack is declared hung.
  absl::Duration hang_slack = absl::Seconds(30);
};

// ValidateSoakConfig returns InvalidArgument naming the first bad field.
absl::Status ValidateSoakConfig(const SoakConfig& config);

// RunLimit returns how long one run may take before it counts as hung.
absl::Duration RunLimit(const SoakConfig& config);

// SoakRun is one run: one strategy against one server with one fault.
struct SoakRun {
  uint64_t index = 0;  // from 0, across the whole soak
  uint64_t round = 0;  // from 0
  server::ServerKind server = server::ServerKind::kEpoll;
  clients::StrategyKind strategy = clients::StrategyKind::kBlocking;
  std::string fault;

  // Describe returns "round 3: callback against epoll, fault reset_after=...".
  std::string Describe() const;
};

// SoakTarget runs the soak's runs. RunSoak calls it from one thread.
class SoakTarget {
 public:
  virtual ~SoakTarget() = default;
  // Run runs `run` to the end and returns the client's stats; an error is a
  // run that could not be set up at all.
  virtual absl::StatusOr<clients::RunStats> Run(const SoakRun& run) = 0;
  // Stop stops the server of `kind` that runs started, if it is running,
  // and returns the first error it met while serving; a later run starts a
  // new one. RunSoak calls it at the end of each cycle.
  virtual absl::Status Stop(server::ServerKind kind) = 0;
};

// LiveSoakTarget runs the real strategies (clients::RunStrategy) against
// in-process servers on 127.0.0.1, each started on its first run.
class LiveSoakTarget : public SoakTarget {
 public:
  // `config` is copied.
  explicit LiveSoakTarget(const SoakConfig& config);
  absl::StatusOr<clients::RunStats> Run(const SoakRun& run) override;
  absl::Status Stop(server::ServerKind kind) override;

 private:
  SoakConfig config_;
  ServerSet servers_;
};

// SoakTally adds up runs.
struct SoakTally {
  uint64_t runs = 0;
  uint64_t sent = 0;
  uint64_t completed = 0;
  std::array<uint64_t, clients::kFailureCauseCount> failed_by_cause{};
  // Summed per run: sent requests that neither completed nor failed, and
  // requests that ended more times than were sent.
  uint64_t lost = 0;
  uint64_t overcounted = 0;

  uint64_t failed() const;
  uint64_t failed(clients::FailureCause cause) const;

  // Add counts one run's stats.
  void Add(const clients::RunStats& stats);
};

// SoakGroup is a tally under a name (a strategy, a fault or a server).
struct SoakGroup {
  std::string name;
  SoakTally tally;
};

// SoakReport is everything the soak found.
struct SoakReport {
  absl::Duration elapsed;
  uint64_t rounds = 0;
  SoakTally total;
  std::vector<SoakGroup> by_strategy;
  std::vector<SoakGroup> by_fault;
  std::vector<SoakGroup> by_server;
  // The first failure of each (fault, cause), e.g. "reset_after=...:
  // request 12: connection closed (read: Connection reset by peer)".
  std::vector<std::string> sample_failures;
  // Runs that could not be set up, the target's Stop errors, sampling
  // errors, descriptors or threads left after a cycle: each one makes the
  // soak fail.
  std::vector<std::string> errors;
  uint64_t more_errors = 0;  // errors past the kept ones, only counted

  ProcessUsage at_start;  // before the first run
  ProcessUsage at_end;    // after the last cycle's server stopped
  uint64_t cycles = 0;    // server stops, each followed by a leak check
  // The longest a server's Stop took, and which server it was.
  absl::Duration slowest_stop;
  std::string slowest_stop_server;
  ProcessUsage latest;    // the most recent sample
  int64_t peak_rss_bytes = 0;
  int peak_fds = 0;
  int peak_threads = 0;
  // The resident size after the first round, to set against at_end's.
  int64_t rss_after_first_round = 0;

  // Problems returns why the soak failed, one line each (lost or
  // overcounted requests, a descriptor or thread count that changed,
  // errors); empty when it passed.
  std::vector<std::string> Problems() const;
  bool Healthy() const { return Problems().empty(); }

  // Group returns the tally called `name` in `groups`, adding it if need
  // be.
  static SoakTally& Group(std::vector<SoakGroup>& groups,
                          absl::string_view name);
};

// ResourceSampler samples the process (ReadProcessUsage in the binary).
using ResourceSampler = std::function<absl::StatusOr<ProcessUsage>()>;

// SoakProgress is called on RunSoak's thread every progress_interval with
// the report so far and the time elapsed.
using SoakProgress =
    std::function<void(const SoakReport& so_far, absl::Duration elapsed)>;

// HangHandler is called (from a watchdog thread) when a run or a server's
// Stop overruns its limit, with what was running. The default prints that
// to stderr and aborts the process: a hung thread cannot be recovered.
using HangHandler = std::function<void(absl::string_view what)>;

// RunSoak runs rounds against `target` (not owned) until config.duration
// has passed, stopping the server at the end of each cycle and of the
// soak, and returns the report. `config` must be
// valid (ValidateSoakConfig).
SoakReport RunSoak(const SoakConfig& config, SoakTarget* target,
                   const SoakProgress& on_progress = {},
                   const ResourceSampler& sample = ReadProcessUsage,
                   const HangHandler& on_hang = {});

// FormatSoakProgress returns one progress line (no newline):
// "soak 12.0 s / 1m: round 5, 93112 sent, 92001 completed, 1111 failed,
// 0 lost; RSS 9.8 MiB (peak 10.2 MiB), 14 fds".
std::string FormatSoakProgress(const SoakReport& so_far,
                               absl::Duration elapsed,
                               absl::Duration duration);

// FormatSoakReport returns the summary: a table by strategy, by fault and
// (with more than one) by server, the totals, the resources, sample
// failures, and the verdict, PASS or FAIL with the problems.
std::string FormatSoakReport(const SoakReport& report);

// FormatSoakJson returns the report as one JSON object on one line.
std::string FormatSoakJson(const SoakReport& report);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_SOAK_LIB_H_
