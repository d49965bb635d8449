// socket_server.h: Python's socketserver in C++ — BaseServer, and its
// stream (TCP, Unix stream) and datagram (UDP, Unix datagram) servers.
//
// The model is socketserver's: a server owns one socket; ServeForever waits
// for requests and hands each one, through a ConcurrencyPolicy
// (concurrency.h), to a fresh request handler (request_handler.h). The
// transport comes from the net::Address, so StreamServer is both TCPServer
// and UnixStreamServer, and DatagramServer both UDPServer and
// UnixDatagramServer; the policy gives the mix-in (threading, forking, a
// pool, or none).
//
//   absl::StatusOr<std::unique_ptr<StreamServer>> server =
//       StreamServer::Create(*net::Address::Parse("127.0.0.1:0"),
//                            MakeWorkStreamHandler,
//                            std::make_unique<ThreadingPolicy>(),
//                            ServerConfig{});
//   if (!server.ok()) return server.status();
//   std::thread serving([&] { (void)(*server)->ServeForever(); });
//   ... clients connect to (*server)->server_address() ...
//   (*server)->Shutdown();      // from another thread: returns at once
//   serving.join();
//   (*server)->ServerClose();   // or just let it go out of scope
//
// Where it improves on socketserver:
//   - ServeForever does not poll on an interval: Shutdown wakes it through
//     an eventfd, so it returns at once (poll_interval only sets how often
//     ServiceActions runs when nothing happens; by default, never).
//   - Shutdown from the serving thread itself returns FailedPrecondition
//     instead of deadlocking; RequestShutdown is the non-waiting form a
//     handler may use there. Shutdown before ServeForever starts makes that
//     ServeForever return at once, so there is no start-up race.
//   - The listen backlog defaults to the system's maximum (somaxconn).
//   - Datagrams up to the largest the socket type allows are received: 64
//     KiB for UDP, the kernel's largest send buffer for Unix datagrams (each
//     capped by max_frame).
//   - Stop drains gracefully: no new requests; handlers finish the requests
//     they have received, send what they owe and close; after a grace
//     period every remaining wait is aborted.
//
// Overriding hooks: derive from StreamServer or DatagramServer, construct
// (nothing happens yet), then Open() (socketserver's server_bind and
// server_activate).
//
//   class LocalOnly : public StreamServer {
//    public:
//     using StreamServer::StreamServer;
//     bool VerifyRequest(const net::Address& peer) override { ... }
//   };
//   LocalOnly server(address, MakeWorkStreamHandler,
//                    std::make_unique<SynchronousPolicy>(), ServerConfig{});
//   absl::Status opened = server.Open();
//
// Threads: ServeForever, HandleRequest, ServerClose, Stop and Open are for
// one thread at a time, the serving thread (Stop and Shutdown from another).
// Shutdown and RequestShutdown may be called from any thread. HandleError
// runs on whatever thread served the request (or in a forked child), so an
// override must be thread-safe.
#ifndef ASYNCWORK_SERVER_SOCKET_SERVER_H_
#define ASYNCWORK_SERVER_SOCKET_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "framing/frame.h"
#include "net/address.h"
#include "net/fd.h"
#include "net/socket.h"
#include "server/concurrency.h"
#include "server/request_handler.h"
#include "server/shutdown_signal.h"

namespace asyncwork::server {

// ServerConfig holds socketserver's class attributes and asyncwork's limits.
struct ServerConfig {
  // allow_reuse_address sets SO_REUSEADDR before binding a TCP or UDP
  // socket. True by default (socketserver's TCPServer says False and its
  // HTTPServer True): a restarted server can then bind its port while
  // connections of its previous run linger in TIME_WAIT.
  bool allow_reuse_address = true;
  // request_queue_size is the listen backlog; kDefaultBacklog means the
  // system's maximum (/proc/sys/net/core/somaxconn), not socketserver's 5.
  int request_queue_size = net::Socket::kDefaultBacklog;
  // timeout bounds HandleRequest's wait (socketserver's `timeout`);
  // infinite by default.
  absl::Duration timeout = absl::InfiniteDuration();
  // idle_timeout bounds each handler wait: for a frame, for room to write.
  absl::Duration idle_timeout = absl::Seconds(30);
  // max_frame is the largest frame body accepted (a stream closes on a
  // longer length; a longer datagram is dropped).
  size_t max_frame = framing::kDefaultMaxBodySize;
  // max_connections: a stream server accepts and at once closes, with a log
  // line, any connection beyond this many open at once.
  int max_connections = 10000;
};

class BaseServer {
 public:
  BaseServer(const BaseServer&) = delete;
  BaseServer& operator=(const BaseServer&) = delete;

  // ~BaseServer calls ServerClose, then waits for every request still
  // running (see concurrency.h). Must not run while ServeForever does.
  virtual ~BaseServer();

  // Open binds and activates the socket (ServerBind, ServerActivate) and
  // makes the wake-up and shutdown descriptors. Once; Create calls it.
  absl::Status Open();

  // ServeForever handles requests until Shutdown or RequestShutdown, and
  // returns OK then. It waits for events, not on a timer; ServiceActions
  // runs after every wake-up, and at least every `poll_interval` if that is
  // finite. A Shutdown, RequestShutdown or Stop made before it starts makes
  // it return OK at once (even though Stop closed the socket), so a thread
  // started to serve and stopped at once does not race. FailedPrecondition
  // if not open, closed (with no stop pending), or already serving.
  absl::Status ServeForever(
      absl::Duration poll_interval = absl::InfiniteDuration());

  // Shutdown makes ServeForever return and waits until it has. From the
  // thread running ServeForever it would wait forever, so it returns
  // FailedPrecondition there and changes nothing. If no ServeForever is
  // running, it returns at once and the next ServeForever returns at once.
  // Any thread.
  absl::Status Shutdown();

  // RequestShutdown asks ServeForever to return, without waiting. Any
  // thread, the serving thread included.
  void RequestShutdown();

  // HandleRequest waits up to config().timeout for one request and handles
  // it; if none comes, it calls HandleTimeout and returns OK. Returns the
  // error of accepting or receiving, if any.
  absl::Status HandleRequest();

  // ServerClose closes the socket and closes the policy, which waits for
  // running requests if its block_on_close says so. Idempotent.
  void ServerClose();

  // Stop is the graceful stop: Shutdown (if serving), drain (handlers
  // finish the requests they hold, send what they owe, and close at their
  // next pause), close the socket, and wait for every request; after
  // `drain_timeout` every wait still going is aborted. Not from the serving
  // thread (FailedPrecondition).
  absl::Status Stop(absl::Duration drain_timeout);

  // server_address is the bound address, with the real port after port 0.
  const net::Address& server_address() const { return server_address_; }
  const ServerConfig& config() const { return config_; }
  ConcurrencyPolicy& policy() { return *policy_; }
  // signal is null before Open.
  const ShutdownSignal* signal() const {
    return signal_ ? &*signal_ : nullptr;
  }
  // serving is true while ServeForever runs. Any thread.
  bool serving() const;

  // Hooks (socketserver's), for subclasses to override.
  // VerifyRequest decides whether to serve a request from `peer`; false
  // closes the connection (drops the datagram). Serving thread.
  virtual bool VerifyRequest(const net::Address& peer) { return true; }
  // HandleError reports a request that failed; the default logs one line.
  // The server keeps serving. Any thread (see above).
  virtual void HandleError(const absl::Status& error, const net::Address& peer);
  // HandleTimeout runs when HandleRequest's timeout passes with no request.
  virtual void HandleTimeout() {}
  // ServiceActions runs on the serving thread after each wait; the default
  // lets the policy reap finished threads and children.
  virtual void ServiceActions() { policy_->ServiceActions(); }

 protected:
  BaseServer(net::Address address, std::unique_ptr<ConcurrencyPolicy> policy,
             const ServerConfig& config);

  // ServerBind creates and binds the socket and sets server_address_;
  // ServerActivate starts listening (stream servers).
  virtual absl::Status ServerBind() = 0;
  virtual absl::Status ServerActivate() = 0;
  // fileno is the socket that signals a request (-1 once closed).
  virtual int fileno() const = 0;
  // HandleRequestNoBlock takes one request that is ready (accept or
  // receive, verify, process); nothing ready is not an error.
  virtual absl::Status HandleRequestNoBlock() = 0;
  // CloseSocket closes the server's socket (ServerClose).
  virtual void CloseSocket() = 0;
  // FailureConsequence ends HandleError's line: what happened to the
  // request ("connection closed", "datagram dropped").
  virtual absl::string_view FailureConsequence() const = 0;

  // BindSocket creates a socket for server_address_, sets SO_REUSEADDR if
  // allow_reuse_address (TCP, UDP), binds it, and sets server_address_ to
  // the bound address (the real port).
  absl::StatusOr<net::Socket> BindSocket();

  RequestLimits limits() const {
    return RequestLimits{.idle_timeout = config_.idle_timeout,
                         .max_frame = config_.max_frame};
  }

  net::Address server_address_;
  const ServerConfig config_;

 private:
  enum class Ready { kRequest, kWoken, kTimeout };

  // Wait waits until a request is ready, the server is woken (if
  // `wakeable`), or `deadline` passes; the policy's descriptors are watched
  // and serviced meanwhile.
  absl::StatusOr<Ready> Wait(absl::Time deadline, bool wakeable);
  void Wake() const;

  // Declared before policy_, so the policy (whose threads call Wake) is
  // destroyed, and its threads joined, before the wake-up fd closes.
  net::Fd wake_fd_;
  std::optional<ShutdownSignal> signal_;
  std::unique_ptr<ConcurrencyPolicy> policy_;
  bool open_ = false;
  bool closed_ = false;
  // After an accept or receive error, the socket is left out of the wait
  // until then, so a persistent error (EMFILE) cannot spin the loop.
  absl::Time backoff_until_ = absl::InfinitePast();

  std::atomic<bool> shutdown_requested_{false};
  mutable std::mutex mutex_;
  std::condition_variable serve_ended_;
  bool serving_ = false;
  std::thread::id serving_thread_;
  uint64_t serve_generation_ = 0;
};

// StreamServer serves TCP and Unix stream connections: each accepted
// connection is one request for one StreamRequestHandler.
class StreamServer : public BaseServer {
 public:
  // StreamServer prepares a server for `address` (a stream transport);
  // nothing is bound until Open. `factory` makes a handler per connection.
  StreamServer(net::Address address, StreamHandlerFactory factory,
               std::unique_ptr<ConcurrencyPolicy> policy,
               const ServerConfig& config);
  ~StreamServer() override;

  // Create constructs and opens a StreamServer.
  static absl::StatusOr<std::unique_ptr<StreamServer>> Create(
      const net::Address& address, StreamHandlerFactory factory,
      std::unique_ptr<ConcurrencyPolicy> policy, const ServerConfig& config);

 protected:
  absl::Status ServerBind() override;
  absl::Status ServerActivate() override;
  int fileno() const override { return socket_.fd(); }
  absl::Status HandleRequestNoBlock() override;
  void CloseSocket() override { socket_.Close(); }
  absl::string_view FailureConsequence() const override {
    return "connection closed";
  }

 private:
  // FinishRequest serves `connection` with `handler` and closes it.
  void FinishRequest(net::Socket connection, const net::Address& peer,
                     StreamRequestHandler& handler);

  StreamHandlerFactory factory_;
  net::Socket socket_;
};

// DatagramServer serves UDP and Unix datagram sockets: each datagram is one
// request for one DatagramRequestHandler, which answers through the
// server's socket.
class DatagramServer : public BaseServer {
 public:
  DatagramServer(net::Address address, DatagramHandlerFactory factory,
                 std::unique_ptr<ConcurrencyPolicy> policy,
                 const ServerConfig& config);
  ~DatagramServer() override;

  static absl::StatusOr<std::unique_ptr<DatagramServer>> Create(
      const net::Address& address, DatagramHandlerFactory factory,
      std::unique_ptr<ConcurrencyPolicy> policy, const ServerConfig& config);

  // max_datagram is the largest datagram received whole.
  size_t max_datagram() const { return max_datagram_; }

 protected:
  absl::Status ServerBind() override;
  absl::Status ServerActivate() override { return absl::OkStatus(); }
  int fileno() const override { return socket_ ? socket_->fd() : -1; }
  absl::Status HandleRequestNoBlock() override;
  void CloseSocket() override { socket_.reset(); }
  absl::string_view FailureConsequence() const override {
    return "datagram dropped";
  }

 private:
  DatagramHandlerFactory factory_;
  // Shared with the tasks answering through it: a handler thread the close
  // did not wait for may still reply, and the socket lives until it is done.
  std::shared_ptr<net::Socket> socket_;
  size_t max_datagram_ = 0;
  std::unique_ptr<char[]> buffer_;
};

// MaxDatagramSize returns the largest datagram `transport` can carry to a
// receiver: 65535 for UDP (the IP length limit), and for Unix datagrams the
// largest send buffer the kernel allows a sender (2 × wmem_max).
size_t MaxDatagramSize(net::Transport transport);

}  // namespace asyncwork::server

#endif  // ASYNCWORK_SERVER_SOCKET_SERVER_H_
