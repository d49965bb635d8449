// serve: run one asyncwork server until SIGINT or SIGTERM.
//
//   tools/bazel run //server:serve -- --kind=epoll --listen=127.0.0.1:0
//
// The first line on stdout is "listening on ADDRESS", with the real port
// when the port was 0. SIGINT or SIGTERM stops it gracefully: no new
// connections, the replies already owed are sent (for at most
// --drain_timeout), then it exits 0. A bad flag is an error naming the flag
// and its value, and exit status 2.
//
// The stop signals are blocked in every thread and taken by sigwait, so the
// children of --kind=forking inherit them blocked: a SIGTERM sent to a child
// alone is held, and children end when the parent drains (through the
// shutdown signal's eventfds) or when their connection does.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/address.h"
#include "net/log.h"
#include "server/server.h"

ABSL_FLAG(std::string, kind, "epoll",
          "the server: blocking, threading, forking, pool or epoll");
ABSL_FLAG(std::string, listen, "127.0.0.1:7000",
          "where to listen: 127.0.0.1:PORT, [::1]:PORT, udp://HOST:PORT, "
          "unix:/PATH, unixgram:/PATH, unix:@NAME (port 0 picks a free one)");
ABSL_FLAG(int, threads, 1,
          "epoll: event loops, each on its own thread, 1 to 256");
ABSL_FLAG(int, pool_size, 16,
          "pool: threads in the pool, 1 to 4096. Each serves one connection "
          "until it closes; as many again are accepted and wait queued, "
          "unserved; beyond that new connections wait in the listen queue");
ABSL_FLAG(int, max_threads, 256,
          "threading: handler threads at once (one per connection, or per "
          "datagram being answered), 1 to 65536; beyond it new connections "
          "wait in the listen queue (datagrams in the socket's buffer)");
ABSL_FLAG(int, max_children, 64,
          "forking: child processes at once (one per connection, or per "
          "datagram being answered), 1 to 4096; beyond it new connections "
          "wait in the listen queue (datagrams in the socket's buffer)");
ABSL_FLAG(bool, hash_on_workers, false,
          "epoll: run HASH on a worker pool instead of on the loop");
ABSL_FLAG(int, hash_workers, 2,
          "epoll: threads of the HASH worker pool, 1 to 256");
ABSL_FLAG(absl::Duration, idle_timeout, absl::Seconds(30),
          "every kind: close a connection, with a log line, that sends "
          "nothing (or only part of a frame) for this long, or leaves its "
          "answers unread this long; waiting for its own SLEEP is not idle. "
          "On udp/unixgram the other kinds than epoll wait this long for room "
          "to send a reply. Positive");
ABSL_FLAG(int, max_connections, 10000,
          "connections served at once (1 to 10000000); one more is accepted "
          "and closed at once with a log line. blocking serves one at a "
          "time, so this never bites; threading, forking and pool stop "
          "accepting first if --max_threads, --max_children or "
          "2 x --pool_size is lower (the rest wait in the listen queue). On "
          "udp/unixgram only epoll uses it: datagrams being answered at "
          "once; more are dropped with a log line");
ABSL_FLAG(int64_t, max_frame, asyncwork::framing::kDefaultMaxBodySize,
          "largest frame body accepted, in bytes (16 to 16777216); a longer "
          "length closes that connection with a log line (a longer "
          "datagram is dropped with one)");
ABSL_FLAG(int, max_in_flight, 1024,
          "epoll: requests of one connection read but not yet answered "
          "(SLEEPs waiting, HASHes on workers), 1 to 1000000; at the limit "
          "the connection is not read until an answer goes out (nothing is "
          "closed). The other kinds answer one request of a connection at a "
          "time");
ABSL_FLAG(int64_t, high_water_mark, int64_t{4} << 20,
          "epoll: stop reading a connection while more than this many bytes "
          "of its answers are unsent (or held by its requests in flight); "
          "1 to 1073741824. The other kinds write their answers before they "
          "read more requests");
ABSL_FLAG(int64_t, low_water_mark, int64_t{1} << 20,
          "epoll: resume reading once at most this many bytes are left; 0 "
          "to --high_water_mark");
ABSL_FLAG(absl::Duration, drain_timeout, absl::Seconds(10),
          "on SIGINT/SIGTERM, how long owed replies may take before the "
          "server gives up on them");

namespace asyncwork::server {
namespace {

constexpr char kUsage[] =
    "runs one asyncwork server until SIGINT or SIGTERM.\n\n"
    "  serve --kind=epoll --listen=127.0.0.1:0\n\n"
    "Kinds: blocking (one request at a time), threading (a thread per\n"
    "connection), forking (a process per connection), pool (a bounded\n"
    "thread pool), epoll (event loops; --threads of them). Every kind\n"
    "serves TCP (v4 and v6), UDP, Unix stream and Unix datagram sockets.\n\n"
    "Limits: --max_connections, --max_frame and --idle_timeout close the\n"
    "offending connection (or drop the datagram) with a log line on stderr;\n"
    "the other connections are served on. --max_in_flight and\n"
    "--high_water_mark/--low_water_mark (epoll) pause reading a connection\n"
    "instead, so a client that pipelines without reading its answers keeps\n"
    "the server's memory bounded and loses nothing.\n\n"
    "Prints \"listening on ADDRESS\" first, with the real port. On SIGINT or\n"
    "SIGTERM it stops accepting, sends the replies already owed, and exits\n"
    "0. Bad flags exit 2.";

int UsageError(absl::string_view message) {
  std::fprintf(stderr, "serve: %.*s\n", static_cast<int>(message.size()),
               message.data());
  return 2;
}

// CheckArguments vets every argument before absl::ParseCommandLine sees it,
// which would exit 1 on a bad one; a usage error here exits 2. Returns 0 or
// the exit status.
int CheckArguments(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::StartsWith(arg, "-")) {
      return UsageError(absl::StrCat("unexpected argument \"", arg, "\""));
    }
    arg.remove_prefix(absl::StartsWith(arg, "--") ? 2 : 1);
    if (absl::StartsWith(arg, "help") || arg == "version" ||
        arg == "only_check_args") {
      continue;  // absl's own
    }
    size_t equals = arg.find('=');
    absl::string_view name = arg.substr(0, equals);
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    bool negated = false;
    if (flag == nullptr && absl::StartsWith(name, "no")) {
      flag = absl::FindCommandLineFlag(name.substr(2));
      negated = flag != nullptr && flag->IsOfType<bool>();
      if (!negated) flag = nullptr;
    }
    if (flag == nullptr) {
      return UsageError(absl::StrCat("unknown flag --", name,
                                     " (--help lists the flags)"));
    }
    std::string value;
    if (equals != absl::string_view::npos) {
      value = std::string(arg.substr(equals + 1));
    } else if (flag->IsOfType<bool>()) {
      value = negated ? "false" : "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return UsageError(absl::StrCat("--", name, " needs a value"));
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return UsageError(absl::StrCat("--", name, "=", value, ": ", error));
    }
  }
  return 0;
}

int Serve() {
  absl::StatusOr<ServerKind> kind = ParseServerKind(absl::GetFlag(FLAGS_kind));
  if (!kind.ok()) {
    return UsageError(absl::StrCat("--kind=", absl::GetFlag(FLAGS_kind), ": ",
                                   kind.status().message()));
  }
  absl::StatusOr<net::Address> listen =
      net::Address::Parse(absl::GetFlag(FLAGS_listen));
  if (!listen.ok()) {
    return UsageError(absl::StrCat("--listen=", absl::GetFlag(FLAGS_listen),
                                   ": ", listen.status().message()));
  }
  int64_t max_frame = absl::GetFlag(FLAGS_max_frame);
  if (max_frame < 16 || max_frame > int64_t{framing::kDefaultMaxBodySize}) {
    return UsageError(absl::StrCat("--max_frame=", max_frame,
                                   ": must be 16 to ",
                                   framing::kDefaultMaxBodySize));
  }
  ServerOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  options.pool_size = absl::GetFlag(FLAGS_pool_size);
  options.max_threads = absl::GetFlag(FLAGS_max_threads);
  options.max_children = absl::GetFlag(FLAGS_max_children);
  options.hash_on_workers = absl::GetFlag(FLAGS_hash_on_workers);
  options.hash_workers = absl::GetFlag(FLAGS_hash_workers);
  options.idle_timeout = absl::GetFlag(FLAGS_idle_timeout);
  options.max_connections = absl::GetFlag(FLAGS_max_connections);
  options.max_frame = static_cast<uint32_t>(max_frame);
  options.max_in_flight = absl::GetFlag(FLAGS_max_in_flight);
  for (auto [name, value, field] :
       {std::tuple("high_water_mark", absl::GetFlag(FLAGS_high_water_mark),
                   &options.high_water_mark),
        std::tuple("low_water_mark", absl::GetFlag(FLAGS_low_water_mark),
                   &options.low_water_mark)}) {
    // Negative values would wrap to huge ones in a size_t.
    if (value < 0) {
      return UsageError(absl::StrCat("--", name, "=", value,
                                     ": must not be negative"));
    }
    *field = static_cast<size_t>(value);
  }
  options.drain_timeout = absl::GetFlag(FLAGS_drain_timeout);
  absl::Status valid = ValidateServerOptions(options);
  // The message starts "name=value: ...", which names the flag.
  if (!valid.ok()) return UsageError(absl::StrCat("--", valid.message()));

  // Block the stop signals in every thread before any is started; this
  // thread then takes them synchronously with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<std::unique_ptr<RunningServer>> server =
      StartServer(*kind, *listen, options);
  if (!server.ok()) {
    std::fprintf(stderr, "serve: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::printf("listening on %s\n", (*server)->address().ToString().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  net::LogInfo(absl::StrCat("serve: ", strsignal(signal_number),
                            "; stopping after the replies owed"));
  absl::Status stopped = (*server)->Stop();
  if (!stopped.ok()) {
    std::fprintf(stderr, "serve: %s\n", stopped.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace asyncwork::server

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(asyncwork::server::kUsage);
  if (int status = asyncwork::server::CheckArguments(argc, argv); status != 0) {
    return status;
  }
  absl::ParseCommandLine(argc, argv);
  return asyncwork::server::Serve();
}
