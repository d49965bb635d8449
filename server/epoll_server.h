// epoll_server.h: EpollServer, PROTOCOL.md's server on net/'s reactor.
//
// Where the socketserver family gives each connection a thread (or a
// process, or its turn), the epoll server serves every connection from a
// few event loops: one by default, or `threads` loops each on its own
// thread. Loop 0 accepts and deals the connections out round-robin; each
// connection then lives on its loop as a net::FramedConnection.
//
//   EpollServerOptions options;
//   options.threads = 2;
//   absl::StatusOr<std::unique_ptr<EpollServer>> server =
//       EpollServer::Start(*net::Address::Parse("127.0.0.1:0"), options);
//   if (!server.ok()) return server.status();
//   ... clients use (*server)->address() ...
//   absl::Status stopped = (*server)->Stop(absl::Seconds(10));
//
// The handler model is socketserver's, made event-driven: a factory makes
// one AsyncStreamHandler per connection; Setup runs when the connection
// starts, HandleFrame for each frame, Finish when it ends. The handler must
// never block the loop; instead it answers now (AppendToOutput), later
// (SendAt), or from a worker thread (Offload). WorkAsyncHandler, the
// default, serves PROTOCOL.md: SLEEP's answer is encoded at once and sent by
// a loop timer at its time, so later requests on the same connection are
// answered first (PROTOCOL.md allows answers out of order); HASH runs on the
// loop, or with hash_on_workers on a pool of hash_workers threads, whose
// answers come back to the connection's loop.
//
// Limits. Every connection's memory is bounded, by backpressure rather than
// by closing: the server stops reading a connection (the client's sends then
// block in the kernel) while
//   - max_in_flight of its requests are in flight, i.e. read but not yet
//     answered (SLEEPs waiting for their time, HASHes on workers; ECHO,
//     REVERSE and HASH on the loop are answered at once and never count);
//   - the answers it has in flight hold more than high_water_mark bytes
//     (a SLEEP's answer is encoded when the request is read, a HASH job
//     holds a copy of its data), until they hold at most low_water_mark;
//   - more than high_water_mark bytes of answers are queued for a peer that
//     is not reading them, until at most low_water_mark are
//     (net::FramedConnection's backpressure).
// Reading resumes by itself; nothing is dropped. So a connection holds at
// most about 2 × high_water_mark plus two of its largest answers, plus its
// input buffer (the largest frame it sent, rounded up to a power of two). A
// peer that stops reading is closed after idle_timeout, like one that stops
// sending.
//
// On a datagram socket (UDP, Unix datagram) each datagram is one request:
// its handler gets the body as one frame, and each frame it answers with
// goes back to the sender as one datagram, from loop 0. A malformed
// datagram is dropped with a log line, and so is an answer the kernel will
// not take at once (a full send queue). There, max_connections bounds the
// datagrams being answered at once (SLEEPs waiting, HASHes on workers): one
// more is dropped with a log line.
//
// Bad input closes that one connection, with a log line naming the peer and
// the reason: an oversize length, a body shorter than the message header, a
// stream that ends inside a frame, or no whole frame for idle_timeout while
// nothing is owed (a client that sends half a frame and stalls). A client
// that half-closes between frames gets every answer it is owed, then the
// connection closes. Connections beyond max_connections are accepted and at
// once closed, with a log line.
//
// Threads: Start and Stop from one thread, never from a loop. The loops run
// on threads the server owns; every connection is touched only by its loop.
#ifndef ASYNCWORK_SERVER_EPOLL_SERVER_H_
#define ASYNCWORK_SERVER_EPOLL_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <functional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "framing/frame.h"
#include "net/address.h"
#include "net/event_loop.h"
#include "net/poller.h"
#include "net/socket.h"

namespace asyncwork::server {

// AsyncStreamRequest is one connection of the epoll server, as its handler
// sees it. Every method is for the connection's loop thread.
class AsyncStreamRequest {
 public:
  virtual ~AsyncStreamRequest() = default;

  virtual const net::Address& peer() const = 0;
  virtual net::EventLoop* loop() const = 0;

  // AppendToOutput lets `append` append whole frames to the output, sent
  // before the loop next waits. Ignored once the connection is closing.
  virtual void AppendToOutput(absl::FunctionRef<void(std::string*)> append) = 0;

  // SendAt sends `frames` (whole frames) at `when`, from a loop timer. The
  // connection owes an answer until then: it does not count as idle, and a
  // half-closed or draining connection stays open for it.
  virtual void SendAt(absl::Time when, std::string frames) = 0;

  // Offload runs `work` on the server's worker pool and sends the frames it
  // returns from the loop; owed like SendAt. `held_bytes` is the memory the
  // job holds until it is done (its copy of the request's data), counted
  // against the connection's high-water mark as SendAt's frames are.
  // Without a pool (has_workers() false) it runs `work` now, on the loop.
  virtual void Offload(absl::AnyInvocable<std::string()> work,
                       size_t held_bytes) = 0;
  virtual bool has_workers() const = 0;

  // Close ends the connection now; a reason other than OK is logged.
  virtual void Close(const absl::Status& reason) = 0;
};

// AsyncStreamHandler serves one connection of the epoll server. It must
// never block: its callbacks run on the loop serving many connections.
class AsyncStreamHandler {
 public:
  virtual ~AsyncStreamHandler() = default;
  // Setup runs when the connection starts.
  virtual void Setup(AsyncStreamRequest& request) {}
  // HandleFrame runs for each frame; `body` is valid during the call only.
  virtual void HandleFrame(AsyncStreamRequest& request,
                           absl::string_view body) = 0;
  // Finish runs once when the connection has ended, OK for an orderly end
  // or the reason (already logged). Output is no longer possible.
  virtual void Finish(AsyncStreamRequest& request, const absl::Status& reason) {
  }
};

// AsyncStreamHandlerFactory makes one handler per connection; it is called
// on the loops' threads, possibly at once, so it must be thread-safe.
using AsyncStreamHandlerFactory =
    std::function<std::unique_ptr<AsyncStreamHandler>()>;

// WorkAsyncHandler serves PROTOCOL.md's work requests without blocking (see
// the top of this file). A body shorter than the message header closes the
// connection with kShortBody.
class WorkAsyncHandler : public AsyncStreamHandler {
 public:
  void HandleFrame(AsyncStreamRequest& request,
                   absl::string_view body) override;
};

std::unique_ptr<AsyncStreamHandler> MakeWorkAsyncHandler();

struct EpollServerOptions {
  // threads: event loops, each on a thread of its own (at least 1).
  int threads = 1;
  // hash_on_workers: HASH runs on a pool of hash_workers threads, not on
  // the connection's loop.
  bool hash_on_workers = false;
  int hash_workers = 2;
  // idle_timeout: a connection that owes nothing and has not delivered a
  // whole frame (nor taken output) for this long is closed. Positive.
  absl::Duration idle_timeout = absl::Seconds(30);
  // max_connections: open connections at once; more are accepted and
  // closed with a log line.
  int max_connections = 10000;
  // max_frame: the largest frame body accepted.
  uint32_t max_frame = framing::kDefaultMaxBodySize;
  // request_queue_size: the listen backlog; the system's maximum by default.
  int request_queue_size = net::Socket::kDefaultBacklog;
  // max_in_flight: requests of one connection read and not yet answered
  // before its reading pauses (at least 1); see "Limits" above.
  int max_in_flight = 1024;
  // high_water_mark, low_water_mark: bytes of answers queued for one
  // connection (and, separately, held by its requests in flight) above which
  // its reading pauses, and at or below which it resumes; low <= high,
  // high at least 1.
  size_t high_water_mark = size_t{4} << 20;
  size_t low_water_mark = size_t{1} << 20;
  // read_size: the least room each read asks for; also the receive buffer
  // a connection keeps once it has read, which is most of the memory of an
  // idle connection.
  size_t read_size = 4096;
  // backend: the poller every loop uses.
  net::Backend backend = net::Backend::kEpoll;
};

namespace internal {
class LoopThread;
class Acceptor;
class DatagramEndpoint;
}  // namespace internal

class ThreadPoolPolicy;

class EpollServer {
 public:
  // Start binds `listen` (any transport), starts the loops and returns once
  // connections (datagrams) are taken; `factory` makes each connection's
  // (datagram's) handler. Errors: InvalidArgument for bad options; the
  // socket calls' errors.
  static absl::StatusOr<std::unique_ptr<EpollServer>> Start(
      const net::Address& listen, const EpollServerOptions& options,
      AsyncStreamHandlerFactory factory = MakeWorkAsyncHandler);

  // ~EpollServer stops at once (Stop with no drain time) if Stop was not
  // called.
  ~EpollServer();

  EpollServer(const EpollServer&) = delete;
  EpollServer& operator=(const EpollServer&) = delete;

  // address is the bound address (the real port after port 0).
  const net::Address& address() const { return address_; }

  // Stop stops accepting, lets every connection send what it owes and
  // close (connections with nothing owed close at once), waits up to
  // `drain_timeout` for that, closes whatever is left, and joins every
  // thread. A second call returns OK. Not from a loop thread.
  absl::Status Stop(absl::Duration drain_timeout);

  // connections is the number of connections open now (on a datagram
  // socket: datagrams whose answers are still owed). Any thread.
  size_t connections() const { return open_.load(); }

  // For the loops: a connection was accepted (returns false, and counts
  // nothing, when the limit is reached) or has closed.
  bool TryOpenConnection();
  void ConnectionClosed();

  const EpollServerOptions& options() const { return options_; }
  const AsyncStreamHandlerFactory& factory() const { return factory_; }
  // hash_pool is null unless hash_on_workers.
  ThreadPoolPolicy* hash_pool() const { return hash_pool_.get(); }
  // loop returns loop `index`, for the acceptor to deal connections out.
  internal::LoopThread& loop(size_t index) { return *loops_[index]; }
  size_t loop_count() const { return loops_.size(); }

 private:
  EpollServer(net::Address address, const EpollServerOptions& options,
              AsyncStreamHandlerFactory factory);

  // RunOnEach runs `task` on every loop's thread and waits for all.
  void RunOnEach(const std::function<void(internal::LoopThread&)>& task);

  net::Address address_;
  const EpollServerOptions options_;
  const AsyncStreamHandlerFactory factory_;
  std::atomic<size_t> open_{0};
  std::mutex mutex_;
  std::condition_variable all_closed_;
  std::unique_ptr<ThreadPoolPolicy> hash_pool_;
  std::vector<std::unique_ptr<internal::LoopThread>> loops_;
  // Both live on loop 0; one of them is set. The endpoint is declared last:
  // it goes first, after the loops have stopped.
  std::unique_ptr<internal::Acceptor> acceptor_;
  std::unique_ptr<internal::DatagramEndpoint> endpoint_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace asyncwork::server

#endif  // ASYNCWORK_SERVER_EPOLL_SERVER_H_
