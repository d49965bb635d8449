// serve_process.h: a server of server.h's kinds running in a child process
// of its own: //server:serve, started with posix_spawn(3) and stopped with
// SIGTERM, behind the same RunningServer interface as StartServer's.
//
//   absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServeProcess(
//       serve_binary, ServerKind::kForking,
//       *net::Address::Parse("127.0.0.1:0"));
//   Connect((*server)->address());             // the real bound port
//   absl::Status stopped = (*server)->Stop();  // also on destroy
//
// Why a process: the forking kind forks a child per connection, and a child
// forked from a process whose other threads are busy inherits their locks
// held (the allocator's under AddressSanitizer, for one), so now and then
// it hangs before it serves. serve's process has no other busy thread when
// it forks, so tests and benchmarks that run many client threads beside a
// forking server run it this way. Spawning execs a fresh image at once, so
// it is safe from any process.
#ifndef ASYNCWORK_SERVER_SERVE_PROCESS_H_
#define ASYNCWORK_SERVER_SERVE_PROCESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/address.h"
#include "server/server.h"

namespace asyncwork::server {

// ServeProcessOptions bounds the child's start and stop.
struct ServeProcessOptions {
  // Extra arguments for serve, after --kind and --listen (e.g.
  // "--max_children=4").
  std::vector<std::string> extra_args;
  // start_timeout bounds the wait for serve's "listening on" line.
  absl::Duration start_timeout = absl::Seconds(30);
  // stop_timeout bounds Stop's wait for serve to exit after SIGTERM; then it
  // is killed (SIGKILL) and Stop returns DeadlineExceeded. serve's own
  // drain (10 s) and its children's kill (5 s after) fit inside.
  absl::Duration stop_timeout = absl::Seconds(30);
};

// StartServeProcess runs `serve_binary` (a //server:serve) serving `kind` on
// `listen` and returns once it has printed the address it listens on.
// Errors name the step: the spawn's errno, serve's exit status when it
// exits before listening (its stderr, inherited, says why), or
// DeadlineExceeded after start_timeout.
absl::StatusOr<std::unique_ptr<RunningServer>> StartServeProcess(
    const std::string& serve_binary, ServerKind kind,
    const net::Address& listen, const ServeProcessOptions& options = {});

// StartServerBesideBusyThreads starts a server of `kind` on `listen` with
// default options, for a caller whose own threads stay busy beside it: in
// this process (StartServer), except the forking kind, which runs in the
// //server:serve of this binary's runfiles (so its target carries
// //server:serve in data).
absl::StatusOr<std::unique_ptr<RunningServer>> StartServerBesideBusyThreads(
    ServerKind kind, const net::Address& listen);

// ServeBinaryInRunfiles is where a test or `bazel run` target with
// //server:serve in its data finds it: in the runfiles tree named by
// $TEST_SRCDIR (a test) or $RUNFILES_DIR, else in this binary's own
// (/proc/self/exe's path + ".runfiles"). NotFound when it is not there.
absl::StatusOr<std::string> ServeBinaryInRunfiles();

}  // namespace asyncwork::server

#endif  // ASYNCWORK_SERVER_SERVE_PROCESS_H_
