#include "clients/client_main.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/internal/parse.h"
#include "absl/flags/internal/usage.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/common_flags.h"
#include "clients/dialer.h"
#include "clients/report.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"
#include "net/address.h"
#include "server/server.h"

ABSL_FLAG(std::string, in_process_server, "epoll",
          "when --server is empty: the kind of server to start in this "
          "process on 127.0.0.1 (blocking, threading, forking, pool or "
          "epoll)");

namespace asyncwork::clients {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// What each strategy does, for --help.
absl::string_view Description(StrategyKind kind) {
  switch (kind) {
    case StrategyKind::kBlocking:
      return "sends one request, waits for its answer, then sends the next";
    case StrategyKind::kThreaded:
      return "runs each request on a thread of its own, up to --max_threads "
             "at once";
    case StrategyKind::kPolling:
      return "keeps --in_flight requests waiting, one connection each, and "
             "polls every one in turn for its answer (CPU grows with the "
             "number waiting)";
    case StrategyKind::kCallback:
      return "keeps --in_flight requests waiting, one connection each; each "
             "answer runs a callback from the reactor";
    case StrategyKind::kPipelined:
      return "keeps a window of --in_flight requests on each of "
             "--connections connections, matching answers by id";
    case StrategyKind::kCoroutine:
      return "runs --in_flight coroutines per connection over --connections "
             "connections, each doing `co_await client.Call(request)` on the "
             "reactor";
  }
  return "";
}

std::string Usage(StrategyKind kind) {
  absl::string_view name = StrategyKindName(kind);
  return absl::StrCat(
      "a work client that ", Description(kind), R"(.

It sends work packets (PROTOCOL.md) to --server, or to a server it starts in
this process when --server is empty, verifies every answer, and prints work
per second, latency percentiles from each request's due time, CPU time per
request and failures by cause (--json: the same as one JSON object).

Exit status: 0 when every request completed; 1 when any failed or the server
is unreachable; 2 for a bad flag.

Examples:
  )",
      name, R"( --server=127.0.0.1:7000 --requests=20000 --op=hash --size=256
  )",
      name, R"( --latency=5ms --in_flight=64 --duration=10s --json)");
}

// absl's parser reports a malformed or unknown flag on stderr, naming the
// flag and the value, and then calls std::exit(1); the clients' convention
// for a usage error is 2, so while flags are parsed an atexit handler turns
// that exit into _Exit(2). stderr is unbuffered, so the message is out.
std::atomic<bool> parsing_flags{false};

void ExitAsUsageErrorWhileParsing() {
  if (parsing_flags.load()) std::_Exit(kExitUsage);
}

// ParseFlags parses argv and returns the arguments left over (argv[0]
// first), or exits: 2 for a bad flag, 0 after printing usage for --help
// and its siblings.
std::vector<char*> ParseFlags(StrategyKind kind, int argc, char** argv) {
  absl::SetProgramUsageMessage(Usage(kind));
  absl::FlagsUsageConfig usage_config;
  // --help lists the flags every client shares; absl would otherwise show
  // only flags defined in a file named after the binary.
  usage_config.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "clients/");
  };
  usage_config.contains_helpshort_flags = usage_config.contains_help_flags;
  absl::SetFlagsUsageConfig(usage_config);
  std::atexit(ExitAsUsageErrorWhileParsing);
  parsing_flags.store(true);
  // The internal entry point is absl::ParseCommandLine without its usage
  // handling, which would exit 1 after --help.
  std::vector<char*> rest = absl::flags_internal::ParseCommandLineImpl(
      argc, argv, absl::flags_internal::ArgvListAction::kRemoveParsedArgs,
      absl::flags_internal::UsageFlagsAction::kIgnoreUsage,
      absl::flags_internal::OnUndefinedFlag::kAbortIfUndefined);
  parsing_flags.store(false);
  if (absl::flags_internal::HandleUsageFlags(
          std::cout, absl::ProgramUsageMessage()) != -1) {
    std::cout.flush();
    std::exit(0);
  }
  return rest;
}

void PrintError(StrategyKind kind, absl::string_view message) {
  std::fprintf(stderr, "%s: %.*s\n",
               std::string(StrategyKindName(kind)).c_str(),
               static_cast<int>(message.size()), message.data());
}

// CheckReachable opens (and closes) one connection through the run's own
// dialer, so an unreachable server is one clear error rather than every
// request failing alike.
absl::Status CheckReachable(const RunConfig& config) {
  absl::StatusOr<std::unique_ptr<Dialer>> dialer =
      Dialer::Create(config, /*loop=*/nullptr);
  if (!dialer.ok()) return dialer.status();
  absl::StatusOr<net::Socket> probe =
      (*dialer)->Dial(absl::Now() + config.deadline);
  if (!probe.ok()) {
    return absl::Status(
        probe.status().code(),
        absl::StrCat("cannot reach the server at ", config.server.ToString(),
                     ": ", probe.status().message()));
  }
  return absl::OkStatus();
}

}  // namespace

int ClientMain(StrategyKind kind, int argc, char** argv) {
  std::vector<char*> rest = ParseFlags(kind, argc, argv);
  if (rest.size() > 1) {
    PrintError(kind, absl::StrCat("unexpected argument '", rest[1],
                                  "' (flags are --name=value; see --help)"));
    return kExitUsage;
  }
  absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags();
  if (!options.ok()) {
    PrintError(kind, options.status().message());
    return kExitUsage;
  }
  std::unique_ptr<server::RunningServer> in_process;
  absl::StatusOr<net::Address> server = absl::UnknownError("unset");
  if (options->server.empty()) {
    absl::StatusOr<server::ServerKind> server_kind =
        server::ParseServerKind(absl::GetFlag(FLAGS_in_process_server));
    if (!server_kind.ok()) {
      PrintError(kind, absl::StrCat("--in_process_server=",
                                    absl::GetFlag(FLAGS_in_process_server),
                                    ": ", server_kind.status().message()));
      return kExitUsage;
    }
    absl::StatusOr<std::unique_ptr<server::RunningServer>> started =
        server::StartServer(*server_kind, *net::Address::Parse("127.0.0.1:0"),
                            server::ServerOptions());
    if (!started.ok()) {
      PrintError(kind, absl::StrCat("cannot start the in-process server: ",
                                    started.status().ToString()));
      return kExitFailed;
    }
    in_process = *std::move(started);
    server = in_process->address();
  } else {
    server = ParseServer(options->server);
    if (!server.ok()) {
      PrintError(kind, server.status().message());
      return kExitUsage;
    }
  }
  RunConfig config = MakeRunConfig(*options, *server);
  if (absl::Status reachable = CheckReachable(config); !reachable.ok()) {
    PrintError(kind, reachable.message());
    return kExitFailed;
  }
  ProgressLine progress(STDOUT_FILENO);
  config.progress = &progress;
  absl::StatusOr<RunStats> stats = RunStrategy(kind, config);
  progress.Finish();
  if (!stats.ok()) {
    PrintError(kind, stats.status().ToString());
    return kExitFailed;
  }
  if (in_process != nullptr) {
    absl::Status stopped = in_process->Stop();
    if (!stopped.ok()) {
      PrintError(kind, absl::StrCat("in-process server: ", stopped.ToString()));
    }
  }
  std::string report = options->json
                           ? FormatJson(*stats, StrategyKindName(kind))
                           : FormatSummary(*stats, StrategyKindName(kind));
  std::fputs(report.c_str(), stdout);
  std::fflush(stdout);
  return stats->failed() == 0 ? 0 : kExitFailed;
}

}  // namespace asyncwork::clients
