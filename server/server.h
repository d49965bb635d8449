// server.h: every asyncwork server behind one call, running in background
// threads of this process — for tests, benchmarks, the demo and
// //server:serve.
//
//   ServerOptions options;
//   options.threads = 2;
//   absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServer(
//       ServerKind::kEpoll, *net::Address::Parse("127.0.0.1:0"), options);
//   if (!server.ok()) return server.status();
//   Connect((*server)->address());   // the real bound port
//   absl::Status stopped = (*server)->Stop();  // graceful; also on destroy
//
// The kinds; every one serves every transport (TCP v4 and v6, UDP, Unix
// stream and Unix datagram sockets):
//
//   blocking   one request at a time (StreamServer or DatagramServer with
//              SynchronousPolicy)
//   threading  a thread per request (ThreadingPolicy)
//   forking    a process per request (ForkingPolicy)
//   pool       a bounded thread pool (ThreadPoolPolicy)
//   epoll      event loops on net/'s reactor (EpollServer)
//
// For a datagram transport a "request" is one datagram, so threading makes
// a thread per datagram and forking a child per datagram, as socketserver's
// ThreadingUDPServer and ForkingUDPServer do; the epoll server serves
// datagrams from loop 0 (SLEEP by timer, HASH optionally on workers).
//
// The forking kind forks from the serving thread of a process that has
// other threads (the caller's, at least): see ForkingPolicy for what that
// means for the children. A caller whose own threads stay busy beside it
// (a client under test, a benchmark) runs it in a process of its own
// instead: serve_process.h.
#ifndef ASYNCWORK_SERVER_SERVER_H_
#define ASYNCWORK_SERVER_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "framing/frame.h"
#include "net/address.h"

namespace asyncwork::server {

enum class ServerKind { kBlocking, kThreading, kForking, kPool, kEpoll };

// kAllServerKinds lists every kind, for tests and benchmarks that cover all.
inline constexpr ServerKind kAllServerKinds[] = {
    ServerKind::kBlocking, ServerKind::kThreading, ServerKind::kForking,
    ServerKind::kPool, ServerKind::kEpoll};

// ParseServerKind maps "blocking", "threading", "forking", "pool" or
// "epoll" to a kind; anything else is InvalidArgument listing them.
absl::StatusOr<ServerKind> ParseServerKind(absl::string_view name);

// ServerKindName is the inverse of ParseServerKind.
absl::string_view ServerKindName(ServerKind kind);

// ServerOptions configures StartServer. Each option applies to the kinds
// its comment names; ValidateServerOptions checks the ranges.
struct ServerOptions {
  // threads: epoll event loops (each on its own thread), 1 to 256.
  int threads = 1;
  // pool_size: threads of the pool kind, 1 to 4096. Each serves one
  // connection until it closes; as many again are accepted and wait queued;
  // beyond that the server stops accepting (the listen queue holds the
  // rest; on a datagram socket, the socket's buffer).
  int pool_size = 16;
  // max_threads: handler threads of the threading kind at once (one per
  // connection or datagram), 1 to 65536; beyond it the server stops
  // accepting, as above.
  int max_threads = 256;
  // max_children: child processes of the forking kind at once (one per
  // connection or datagram), 1 to 4096; beyond it, as above.
  int max_children = 64;
  // hash_on_workers: the epoll kind runs HASH on a worker pool of
  // hash_workers threads (1 to 256) instead of on the loop.
  bool hash_on_workers = false;
  int hash_workers = 2;
  // idle_timeout: a connection that sends nothing (or an unfinished frame)
  // for this long is closed with a log line, and so is one that leaves its
  // answers unread this long (every kind). Waiting for the server's own
  // answer (a long SLEEP) is not idleness. On a datagram socket the kinds
  // other than epoll wait this long for room to send a reply (epoll drops
  // a reply the kernel will not take at once). Positive.
  absl::Duration idle_timeout = absl::Seconds(30);
  // max_connections: connections served at once, 1 to 10,000,000. Stream
  // transports: one more is accepted and closed at once, with a log line.
  // The blocking kind serves one connection at a time, so the others wait
  // in the listen queue and this never bites; threading, forking and pool
  // stop accepting (the rest wait in the listen queue) once max_threads,
  // max_children or 2 × pool_size connections are held, whichever limit is
  // lower bites first. On a datagram socket only epoll uses it: datagrams
  // being answered at once (SLEEPs waiting); one more is dropped with a log
  // line.
  int max_connections = 10000;
  // max_frame: the largest frame body accepted, 16 to 16 MiB (the
  // protocol's maximum). A longer length closes that connection with a log
  // line, without reading the body; a longer datagram is dropped with one.
  uint32_t max_frame = framing::kDefaultMaxBodySize;
  // max_in_flight: requests of one connection read but not yet answered,
  // 1 to 1,000,000. At the limit the server stops reading that connection
  // until an answer goes out (backpressure: the client's sends wait in the
  // kernel; nothing is closed or dropped). It bites only in the epoll kind,
  // where SLEEPs wait on timers and HASHes (hash_on_workers) on workers;
  // every other kind answers a connection's requests one at a time.
  int max_in_flight = 1024;
  // high_water_mark, low_water_mark: the epoll kind stops reading a
  // connection while more than high_water_mark bytes of its answers are
  // queued unsent (or, separately, held by its requests in flight) and
  // resumes at low_water_mark or below. High 1 to 1 GiB, low 0 to high. The
  // other kinds write each answer before reading past the requests already
  // received, so their output is at most one read's worth of answers.
  size_t high_water_mark = size_t{4} << 20;
  size_t low_water_mark = size_t{1} << 20;
  // drain_timeout: how long Stop lets owed replies finish before aborting
  // the waits still going; a forking server's child still running 5 s after
  // that is killed. Non-negative.
  absl::Duration drain_timeout = absl::Seconds(10);
};

// ValidateServerOptions returns InvalidArgument naming the first option out
// of range, e.g. "threads=0: must be 1 to 256".
absl::Status ValidateServerOptions(const ServerOptions& options);

// RunningServer is a server serving in background threads of this process.
class RunningServer {
 public:
  virtual ~RunningServer() = default;
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  // address is the real bound address (the port chosen for port 0).
  const net::Address& address() const { return address_; }

  // Stop stops gracefully: no new connections or datagrams; requests
  // already received are answered (waits bounded by drain_timeout, after
  // which they are aborted); every thread is joined and every child
  // reaped. Returns the first error the server met while serving. Call
  // from one thread; a second call returns OK. The destructor calls it.
  virtual absl::Status Stop() = 0;

 protected:
  explicit RunningServer(net::Address address) : address_(std::move(address)) {}

 private:
  net::Address address_;
};

// StartServer starts a `kind` server listening on `listen` and returns once
// it accepts connections. Errors: InvalidArgument for bad options; the
// bind's and listen's errors.
absl::StatusOr<std::unique_ptr<RunningServer>> StartServer(
    ServerKind kind, const net::Address& listen, const ServerOptions& options);

}  // namespace asyncwork::server

#endif  // ASYNCWORK_SERVER_SERVER_H_
