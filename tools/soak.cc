// soak: every client strategy against an in-process server, round after
// round, over links with faults switched on, checking that nothing is lost,
// leaked, hung or crashed (issue #9). soak_lib.h has the loop and the
// accounting.
//
//   tools/bazel run //tools:soak -- --duration=60s
//   tools/bazel run //tools:soak -- --duration=5m --server_kind=all
//   tools/bazel run //tools:soak -- --faults='close_after=4096,every=3;none'
//   tools/bazel run //tools:soak -- --json > soak.json
//
// A progress line goes to stderr every --progress_interval (the servers'
// warnings only with --server_log, as faults make many); the summary
// (tables by strategy and by fault, resources, verdict) to stdout, or with
// --json the summary to stderr and one JSON object to stdout.
//
// Exit status: 0 when every request completed or failed with a cause, the
// descriptors and threads after the last run equal those before the first,
// and no run failed to start; 1 otherwise; 2 for a bad flag. A run that
// hangs past its limit aborts the process (status 134), naming it.
//
// The flags are the client binaries' (clients/common_flags.h) with soak
// defaults — --duration is the whole soak's, --in_flight the window — plus
// the soak's own below.
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/common_flags.h"
#include "net/address.h"
#include "net/log.h"
#include "server/server.h"
#include "sim/units.h"
#include "tools/experiment.h"
#include "tools/soak_lib.h"

ABSL_FLAG(std::string, server_kind, "epoll",
          "the in-process server: blocking, threading, forking, pool, epoll, "
          "or all (each in turn, a full fault rotation each)");
ABSL_FLAG(std::string, strategies,
          "blocking,threaded,polling,callback,pipelined,coroutine",
          "the client strategies each round runs, in order");
ABSL_FLAG(std::string, faults, "",
          "the fault specs to rotate through, one per round, separated by "
          "';' (a spec is sim/fault.h's, e.g. close_after=4096,every=3; "
          "'none' is a clean link); empty for the full default rotation");
ABSL_FLAG(absl::Duration, run_duration, absl::Milliseconds(250),
          "how long each strategy sends requests in one round");
ABSL_FLAG(absl::Duration, progress_interval, absl::Seconds(5),
          "how often a progress line goes to stderr");
ABSL_FLAG(bool, server_log, false,
          "show the servers' warnings too (under faults, one per connection "
          "a fault breaks); errors are always shown");

namespace asyncwork::tools {
namespace {

constexpr int kBadFlag = 2;

// WarmUpErrnoTexts makes Abseil build its lazily built table of errno texts
// (absl::ErrnoToStatus's) on this thread before any other thread starts.
// Debian's Abseil is not built with ThreadSanitizer, so under --config=tsan
// the table's thread-safe static guard is invisible, and the first errno
// text wanted on two threads at once (a server loop and a client) would be
// reported as a race.
void WarmUpErrnoTexts() { absl::ErrnoToStatus(EINTR, "warm-up").IgnoreError(); }

// SetSoakDefaults gives the shared client flags the soak's defaults; the
// command line, parsed after, still overrides them.
void SetSoakDefaults() {
  absl::SetFlag(&FLAGS_duration, absl::Seconds(60));
  // Short, so a stalled request is reported soon rather than waited out.
  absl::SetFlag(&FLAGS_deadline, absl::Seconds(1));
  absl::SetFlag(&FLAGS_in_flight, 8);
  absl::SetFlag(&FLAGS_max_threads, 8);
  absl::SetFlag(&FLAGS_latency, sim::LatencyFlag(absl::Milliseconds(1)));
}

absl::StatusOr<SoakConfig> ConfigFromFlags() {
  absl::StatusOr<clients::ClientOptions> options =
      clients::ClientOptionsFromFlags();
  if (!options.ok()) return options.status();
  if (!options->server.empty()) {
    return absl::InvalidArgumentError(
        "--server: the soak starts its own servers (--server_kind)");
  }
  if (options->fault != clients::ClientOptions().fault) {
    return absl::InvalidArgumentError(
        "--fault: the soak rotates through --faults, a list of specs "
        "separated by ';'");
  }
  SoakConfig config;
  config.duration = options->duration;
  if (config.duration == absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--duration: must be positive");
  }
  config.run_duration = absl::GetFlag(FLAGS_run_duration);
  config.progress_interval = absl::GetFlag(FLAGS_progress_interval);
  config.seed = options->seed;
  // The server's address is filled in per run.
  config.base = clients::MakeRunConfig(*options, net::Address());
  absl::StatusOr<std::vector<server::ServerKind>> servers =
      ParseServerKinds(absl::GetFlag(FLAGS_server_kind));
  if (!servers.ok()) return servers.status();
  config.servers = *servers;
  absl::StatusOr<std::vector<clients::StrategyKind>> strategies =
      ParseStrategyList("strategies", absl::GetFlag(FLAGS_strategies));
  if (!strategies.ok()) return strategies.status();
  config.strategies = *strategies;
  const std::string faults = absl::GetFlag(FLAGS_faults);
  if (!faults.empty()) {
    absl::StatusOr<std::vector<std::string>> parsed = ParseFaultList(faults);
    if (!parsed.ok()) return parsed.status();
    config.faults = *parsed;
  }
  if (absl::Status valid = ValidateSoakConfig(config); !valid.ok()) {
    return valid;
  }
  return config;
}

int Main(const SoakConfig& config, bool json) {
  FILE* human = json ? stderr : stdout;
  std::vector<std::string> servers;
  for (server::ServerKind kind : config.servers) {
    servers.emplace_back(server::ServerKindName(kind));
  }
  std::fprintf(stderr,
               "soak: %s; %s each per round; %s server; faults: %s; "
               "a run counts as hung after %s\n",
               absl::FormatDuration(config.duration).c_str(),
               absl::FormatDuration(config.run_duration).c_str(),
               absl::StrJoin(servers, ", ").c_str(),
               absl::StrJoin(config.faults, " | ").c_str(),
               absl::FormatDuration(RunLimit(config)).c_str());
  LiveSoakTarget target(config);
  const SoakReport report = RunSoak(
      config, &target, [&](const SoakReport& so_far, absl::Duration elapsed) {
        std::fprintf(
            stderr, "%s\n",
            FormatSoakProgress(so_far, elapsed, config.duration).c_str());
      });
  std::fputs(FormatSoakReport(report).c_str(), human);
  if (json) std::fputs(FormatSoakJson(report).c_str(), stdout);
  return report.Healthy() ? 0 : 1;
}

}  // namespace
}  // namespace asyncwork::tools

int main(int argc, char** argv) {
  using namespace asyncwork;
  absl::SetProgramUsageMessage(
      "Runs every client strategy against an in-process server, round after "
      "round, with faults on the link, and checks that no request is lost, "
      "no descriptor leaks and nothing hangs.\n"
      "Usage: soak [--duration=60s] [--server_kind=epoll|...|all] "
      "[--faults='spec;spec;none'] [--in_flight=8] [--deadline=1s] "
      "[--op=echo] [--seed=1] [--json]");
  tools::WarmUpErrnoTexts();
  tools::SetSoakDefaults();
  absl::ParseCommandLine(argc, argv);
  absl::StatusOr<tools::SoakConfig> config = tools::ConfigFromFlags();
  if (!config.ok()) {
    std::fprintf(stderr, "soak: %s\n", config.status().ToString().c_str());
    return tools::kBadFlag;
  }
  if (!absl::GetFlag(FLAGS_server_log)) {
    net::SetMinLogSeverity(net::LogSeverity::kError);
  }
  return tools::Main(*config, absl::GetFlag(FLAGS_json));
}
