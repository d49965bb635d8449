#include "server/server.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/concurrency.h"
#include "server/epoll_server.h"
#include "server/socket_server.h"

namespace asyncwork::server {
namespace {

// kForkKillGrace is how long a forking server's child may outlive the abort
// of its waits (drain_timeout into Stop) before it is killed.
constexpr absl::Duration kForkKillGrace = absl::Seconds(5);

struct KindName {
  ServerKind kind;
  absl::string_view name;
};

constexpr KindName kKindNames[] = {
    {ServerKind::kBlocking, "blocking"}, {ServerKind::kThreading, "threading"},
    {ServerKind::kForking, "forking"},   {ServerKind::kPool, "pool"},
    {ServerKind::kEpoll, "epoll"}};

// kMaxHighWaterMark caps the water marks at 1 GiB: far beyond any useful
// buffer, and small enough for every size_t and int64_t.
constexpr int64_t kMaxHighWaterMark = int64_t{1} << 30;

absl::Status CheckRange(absl::string_view name, int64_t value, int64_t low,
                        int64_t high) {
  if (value >= low && value <= high) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(name, "=", value, ": must be ", low, " to ", high));
}

// SocketServerRunner runs one socketserver-style server's ServeForever on a
// thread of its own.
class SocketServerRunner : public RunningServer {
 public:
  SocketServerRunner(std::unique_ptr<BaseServer> server,
                     absl::Duration drain_timeout)
      : RunningServer(server->server_address()),
        server_(std::move(server)),
        drain_timeout_(drain_timeout),
        thread_([this] { serve_status_ = server_->ServeForever(); }) {}

  ~SocketServerRunner() override { (void)Stop(); }

  absl::Status Stop() override {
    if (stopped_) return absl::OkStatus();
    stopped_ = true;
    absl::Status stopped = server_->Stop(drain_timeout_);
    thread_.join();
    return serve_status_.ok() ? stopped : serve_status_;
  }

 private:
  std::unique_ptr<BaseServer> server_;
  const absl::Duration drain_timeout_;
  absl::Status serve_status_;  // written by thread_, read after joining it
  bool stopped_ = false;
  std::thread thread_;  // declared last: starts once the rest is ready
};

// EpollServerRunner is a RunningServer over an EpollServer, whose loops
// already run on threads of their own.
class EpollServerRunner : public RunningServer {
 public:
  EpollServerRunner(std::unique_ptr<EpollServer> server,
                    absl::Duration drain_timeout)
      : RunningServer(server->address()),
        server_(std::move(server)),
        drain_timeout_(drain_timeout) {}

  ~EpollServerRunner() override { (void)Stop(); }

  absl::Status Stop() override { return server_->Stop(drain_timeout_); }

 private:
  std::unique_ptr<EpollServer> server_;
  const absl::Duration drain_timeout_;
};

std::unique_ptr<ConcurrencyPolicy> MakePolicy(ServerKind kind,
                                              const ServerOptions& options) {
  switch (kind) {
    case ServerKind::kThreading:
      return std::make_unique<ThreadingPolicy>(ThreadingPolicy::Options{
          .daemon_threads = false,
          .block_on_close = true,
          .max_threads = options.max_threads});
    case ServerKind::kForking:
      // Stop aborts the children's waits after drain_timeout; a child that
      // still has not ended kForkKillGrace later is killed.
      return std::make_unique<ForkingPolicy>(ForkingPolicy::Options{
          .block_on_close = true,
          .max_children = options.max_children,
          .kill_after = options.drain_timeout + kForkKillGrace});
    case ServerKind::kPool:
      return std::make_unique<ThreadPoolPolicy>(ThreadPoolPolicy::Options{
          .pool_size = options.pool_size, .max_queued = 0,
          .block_on_close = true});
    case ServerKind::kBlocking:
    case ServerKind::kEpoll:
      break;
  }
  return std::make_unique<SynchronousPolicy>();
}

}  // namespace

absl::StatusOr<ServerKind> ParseServerKind(absl::string_view name) {
  for (const KindName& entry : kKindNames) {
    if (entry.name == name) return entry.kind;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown server kind \"", name,
                   "\": expected blocking, threading, forking, pool or epoll"));
}

absl::string_view ServerKindName(ServerKind kind) {
  for (const KindName& entry : kKindNames) {
    if (entry.kind == kind) return entry.name;
  }
  return "unknown";
}

absl::Status ValidateServerOptions(const ServerOptions& options) {
  for (absl::Status status : {
           CheckRange("threads", options.threads, 1, 256),
           CheckRange("pool_size", options.pool_size, 1, 4096),
           CheckRange("max_threads", options.max_threads, 1, 65536),
           CheckRange("max_children", options.max_children, 1, 4096),
           CheckRange("hash_workers", options.hash_workers, 1, 256),
           CheckRange("max_connections", options.max_connections, 1,
                      10'000'000),
           CheckRange("max_frame", options.max_frame, 16,
                      framing::kDefaultMaxBodySize),
           CheckRange("max_in_flight", options.max_in_flight, 1, 1'000'000),
           CheckRange("high_water_mark",
                      static_cast<int64_t>(std::min<size_t>(
                          options.high_water_mark, kMaxHighWaterMark + 1)),
                      1, kMaxHighWaterMark),
           CheckRange("low_water_mark",
                      static_cast<int64_t>(std::min<size_t>(
                          options.low_water_mark, kMaxHighWaterMark + 1)),
                      0, static_cast<int64_t>(std::min<size_t>(
                             options.high_water_mark, kMaxHighWaterMark))),
       }) {
    if (!status.ok()) return status;
  }
  if (options.idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("idle_timeout=", absl::FormatDuration(options.idle_timeout),
                     ": must be positive"));
  }
  if (options.drain_timeout < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "drain_timeout=", absl::FormatDuration(options.drain_timeout),
        ": must not be negative"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<RunningServer>> StartServer(
    ServerKind kind, const net::Address& listen, const ServerOptions& options) {
  absl::Status valid = ValidateServerOptions(options);
  if (!valid.ok()) return valid;
  if (kind == ServerKind::kEpoll) {
    absl::StatusOr<std::unique_ptr<EpollServer>> server = EpollServer::Start(
        listen, EpollServerOptions{.threads = options.threads,
                                   .hash_on_workers = options.hash_on_workers,
                                   .hash_workers = options.hash_workers,
                                   .idle_timeout = options.idle_timeout,
                                   .max_connections = options.max_connections,
                                   .max_frame = options.max_frame,
                                   .max_in_flight = options.max_in_flight,
                                   .high_water_mark = options.high_water_mark,
                                   .low_water_mark = options.low_water_mark});
    if (!server.ok()) return server.status();
    return std::make_unique<EpollServerRunner>(std::move(*server),
                                               options.drain_timeout);
  }
  ServerConfig config{.idle_timeout = options.idle_timeout,
                      .max_frame = options.max_frame,
                      .max_connections = options.max_connections};
  std::unique_ptr<BaseServer> server;
  if (listen.is_stream()) {
    absl::StatusOr<std::unique_ptr<StreamServer>> created =
        StreamServer::Create(listen, MakeWorkStreamHandler,
                             MakePolicy(kind, options), config);
    if (!created.ok()) return created.status();
    server = std::move(*created);
  } else {
    absl::StatusOr<std::unique_ptr<DatagramServer>> created =
        DatagramServer::Create(listen, MakeWorkDatagramHandler,
                               MakePolicy(kind, options), config);
    if (!created.ok()) return created.status();
    server = std::move(*created);
  }
  return std::make_unique<SocketServerRunner>(std::move(server),
                                              options.drain_timeout);
}

}  // namespace asyncwork::server
