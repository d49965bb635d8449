#include "server/socket_server.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "net/check.h"
#include "net/log.h"
#include "server/poll_util.h"

namespace asyncwork::server {
namespace {

// kAcceptBackoff keeps the socket out of the wait after an accept or
// receive error, so a persistent one (EMFILE) is logged at a bounded rate
// rather than spinning the loop.
constexpr absl::Duration kAcceptBackoff = absl::Milliseconds(100);

// kLongest caps a condition-variable wait: steady_clock cannot add an
// "infinite" duration without overflowing.
constexpr absl::Duration kLongest = absl::Hours(24 * 365);

absl::Time DeadlineAfter(absl::Duration wait) {
  return wait == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                          : absl::Now() + wait;
}

}  // namespace

size_t MaxDatagramSize(net::Transport transport) {
  if (transport != net::Transport::kUnixDatagram) return 65535;
  // A Unix datagram must fit the sender's send buffer, which a sender may
  // raise to twice wmem_max.
  static const size_t unix_max = [] {
    std::ifstream file("/proc/sys/net/core/wmem_max");
    size_t wmem_max = 0;
    if (!(file >> wmem_max) || wmem_max == 0) wmem_max = 212992;
    return 2 * wmem_max;
  }();
  return unix_max;
}

BaseServer::BaseServer(net::Address address,
                       std::unique_ptr<ConcurrencyPolicy> policy,
                       const ServerConfig& config)
    : server_address_(std::move(address)),
      config_(config),
      policy_(std::move(policy)) {
  ASYNCWORK_CHECK(policy_ != nullptr) << "a server needs a policy";
}

BaseServer::~BaseServer() {
  ASYNCWORK_CHECK(!serving()) << "server destroyed while ServeForever runs";
  // The derived class has already closed the socket and waited (its
  // destructor cannot leave that to this one: the socket is its member).
  policy_->Close(/*wait=*/true);
}

absl::Status BaseServer::Open() {
  if (open_ || closed_) {
    return absl::FailedPreconditionError("open: the server was opened before");
  }
  absl::StatusOr<ShutdownSignal> signal = ShutdownSignal::Create();
  if (!signal.ok()) return signal.status();
  signal_.emplace(std::move(*signal));
  absl::StatusOr<net::Fd> wake =
      net::Fd::Adopt(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd");
  if (!wake.ok()) return wake.status();
  wake_fd_ = std::move(*wake);
  absl::Status bound = ServerBind();
  if (!bound.ok()) return bound;
  absl::Status activated = ServerActivate();
  if (!activated.ok()) return activated;
  policy_->Attach(PolicyHooks{.wake = [this] { Wake(); }});
  open_ = true;
  return absl::OkStatus();
}

bool BaseServer::serving() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return serving_;
}

void BaseServer::Wake() const {
  uint64_t one = 1;
  // A full counter still leaves the fd readable, which is all a wake needs.
  (void)!::write(wake_fd_.get(), &one, sizeof one);
}

absl::StatusOr<BaseServer::Ready> BaseServer::Wait(absl::Time deadline,
                                                   bool wakeable) {
  std::vector<struct pollfd> fds;
  while (true) {
    fds.clear();
    fds.push_back({wake_fd_.get(), POLLIN, 0});
    absl::Time now = absl::Now();
    absl::Time until = deadline;
    bool watch_socket = fileno() >= 0 && policy_->HasCapacity();
    if (now < backoff_until_) {
      watch_socket = false;
      until = std::min(until, backoff_until_);
    }
    if (watch_socket) fds.push_back({fileno(), POLLIN, 0});
    policy_->AppendPollFds(&fds);
    absl::Duration max_wait = policy_->MaxWait();
    if (max_wait != absl::InfiniteDuration()) {
      until = std::min(until, now + max_wait);
    }
    absl::StatusOr<int> ready = internal::PollUntil(absl::MakeSpan(fds), until);
    if (!ready.ok()) return ready.status();
    if (fds[0].revents != 0) {
      uint64_t count;
      (void)!::read(wake_fd_.get(), &count, sizeof count);
      if (wakeable) return Ready::kWoken;
    }
    if (watch_socket && fds[1].revents != 0) return Ready::kRequest;
    if (absl::Now() >= deadline) return Ready::kTimeout;
    // A child exited, a thread finished, or a periodic look is due.
    policy_->ServiceActions();
  }
}

absl::Status BaseServer::ServeForever(absl::Duration poll_interval) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutdown_requested_.load()) {
      // A Shutdown or Stop came first (perhaps from a thread that started
      // this one and stopped at once, closing the socket): nothing to serve.
      shutdown_requested_.store(false);
      return absl::OkStatus();
    }
    if (!open_ || closed_) {
      return absl::FailedPreconditionError(
          "serve_forever: the server is not open");
    }
    if (serving_) {
      return absl::FailedPreconditionError(
          "serve_forever: already serving on another thread");
    }
    serving_ = true;
    serving_thread_ = std::this_thread::get_id();
  }
  absl::Status result;
  while (!shutdown_requested_.load()) {
    absl::StatusOr<Ready> ready =
        Wait(DeadlineAfter(poll_interval), /*wakeable=*/true);
    if (!ready.ok()) {
      result = ready.status();
      break;
    }
    if (*ready == Ready::kRequest && !shutdown_requested_.load()) {
      absl::Status handled = HandleRequestNoBlock();
      if (!handled.ok()) {
        net::LogWarning(absl::StrCat("serving ", server_address_.ToString(),
                                     ": ", handled.message()));
        backoff_until_ = absl::Now() + kAcceptBackoff;
      }
    }
    ServiceActions();
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    serving_ = false;
    serving_thread_ = std::thread::id();
    shutdown_requested_.store(false);
    ++serve_generation_;
  }
  serve_ended_.notify_all();
  return result;
}

absl::Status BaseServer::Shutdown() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (serving_ && serving_thread_ == std::this_thread::get_id()) {
    return absl::FailedPreconditionError(
        "shutdown: called on the thread running serve_forever, which would "
        "wait for itself forever; use RequestShutdown there");
  }
  shutdown_requested_.store(true);
  if (!serving_) return absl::OkStatus();
  Wake();
  uint64_t generation = serve_generation_;
  serve_ended_.wait(lock,
                    [&] { return serve_generation_ != generation; });
  return absl::OkStatus();
}

void BaseServer::RequestShutdown() {
  shutdown_requested_.store(true);
  if (wake_fd_.valid()) Wake();
}

absl::Status BaseServer::HandleRequest() {
  if (!open_ || closed_) {
    return absl::FailedPreconditionError(
        "handle_request: the server is not open");
  }
  absl::StatusOr<Ready> ready =
      Wait(DeadlineAfter(config_.timeout), /*wakeable=*/false);
  if (!ready.ok()) return ready.status();
  absl::Status handled = absl::OkStatus();
  if (*ready == Ready::kTimeout) {
    HandleTimeout();
  } else {
    handled = HandleRequestNoBlock();
  }
  ServiceActions();
  return handled;
}

void BaseServer::ServerClose() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    ASYNCWORK_CHECK(!serving_) << "ServerClose while ServeForever runs; "
                                  "call Shutdown first";
    closed_ = true;
  }
  CloseSocket();
  policy_->Close(policy_->block_on_close());
}

absl::Status BaseServer::Stop(absl::Duration drain_timeout) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (serving_ && serving_thread_ == std::this_thread::get_id()) {
      return absl::FailedPreconditionError(
          "stop: called on the thread running serve_forever, which would "
          "wait for itself forever");
    }
  }
  // Ask first, then drain: a synchronous server's ServeForever returns only
  // once the request it is serving ends, which the drain brings about.
  RequestShutdown();
  if (signal_) signal_->Drain();
  // A watchdog aborts the handlers' waits if draining takes too long.
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::thread watchdog([&] {
    std::unique_lock<std::mutex> lock(mutex);
    bool in_time = finished.wait_for(
        lock, absl::ToChronoNanoseconds(std::min(drain_timeout, kLongest)),
        [&] { return done; });
    if (!in_time && signal_) {
      net::LogWarning(absl::StrCat("stopping ", server_address_.ToString(),
                                   ": requests still running after ",
                                   absl::FormatDuration(drain_timeout),
                                   "; aborting them"));
      signal_->Abort();
    }
  });
  absl::Status shut = Shutdown();
  if (shut.ok()) {
    bool close_socket = false;
    {
      // Under the lock: a ServeForever starting on another thread reads it.
      std::lock_guard<std::mutex> lock(mutex_);
      close_socket = !closed_;
      closed_ = true;
    }
    if (close_socket) CloseSocket();
    policy_->Close(/*wait=*/true);
  }
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
  }
  finished.notify_all();
  watchdog.join();
  return shut;
}

absl::StatusOr<net::Socket> BaseServer::BindSocket() {
  absl::StatusOr<net::Socket> socket = net::Socket::Create(
      server_address_.family(), server_address_.transport());
  if (!socket.ok()) return socket.status();
  bool ip = server_address_.transport() == net::Transport::kTcp ||
            server_address_.transport() == net::Transport::kUdp;
  if (ip && config_.allow_reuse_address) {
    absl::Status reuse = socket->SetReuseAddress(true);
    if (!reuse.ok()) return reuse;
  }
  absl::Status bound = socket->Bind(server_address_);
  if (!bound.ok()) return bound;
  absl::StatusOr<net::Address> local = socket->LocalAddress();
  if (!local.ok()) return local.status();
  server_address_ = *local;
  return socket;
}

void BaseServer::HandleError(const absl::Status& error,
                             const net::Address& peer) {
  net::LogWarning(absl::StrCat("request from ", peer.ToString(), " failed, ",
                               FailureConsequence(), ": ", error.message()));
}

StreamServer::StreamServer(net::Address address, StreamHandlerFactory factory,
                           std::unique_ptr<ConcurrencyPolicy> policy,
                           const ServerConfig& config)
    : BaseServer(std::move(address), std::move(policy), config),
      factory_(std::move(factory)) {}

StreamServer::~StreamServer() {
  ServerClose();
  // Requests use this object (HandleError, the limits): all must end before
  // its members go.
  policy().Close(/*wait=*/true);
}

absl::StatusOr<std::unique_ptr<StreamServer>> StreamServer::Create(
    const net::Address& address, StreamHandlerFactory factory,
    std::unique_ptr<ConcurrencyPolicy> policy, const ServerConfig& config) {
  auto server = std::make_unique<StreamServer>(address, std::move(factory),
                                               std::move(policy), config);
  absl::Status opened = server->Open();
  if (!opened.ok()) return opened;
  return server;
}

absl::Status StreamServer::ServerBind() {
  if (!server_address_.is_stream()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a stream server needs a tcp or unix address, not ",
                     server_address_.ToString()));
  }
  absl::StatusOr<net::Socket> socket = BindSocket();
  if (!socket.ok()) return socket.status();
  socket_ = std::move(*socket);
  return absl::OkStatus();
}

absl::Status StreamServer::ServerActivate() {
  return socket_.StartListening(config_.request_queue_size);
}

absl::Status StreamServer::HandleRequestNoBlock() {
  net::Address peer;
  absl::StatusOr<std::optional<net::Socket>> accepted = socket_.Accept(&peer);
  if (!accepted.ok()) return accepted.status();
  if (!accepted->has_value()) return absl::OkStatus();
  net::Socket connection = std::move(**accepted);
  if (!VerifyRequest(peer)) {
    net::LogInfo(absl::StrCat("connection from ", peer.ToString(),
                              " refused by verify_request; closed"));
    return absl::OkStatus();
  }
  size_t open = policy().active();
  if (open >= static_cast<size_t>(config_.max_connections)) {
    net::LogWarning(absl::StrCat(
        "connection from ", peer.ToString(), " closed: ", open,
        " connections open, the limit (max_connections=",
        config_.max_connections, ")"));
    return absl::OkStatus();
  }
  if (connection.transport() == net::Transport::kTcp) {
    // Answers are small and must not wait for Nagle's timer.
    (void)connection.SetNoDelay(true);
  }
  std::unique_ptr<StreamRequestHandler> handler = factory_();
  const int task_fds[] = {connection.fd(), signal()->drain_fd(),
                          signal()->abort_fd()};
  policy().Process(
      [this, connection = std::move(connection), peer,
       handler = std::move(handler)]() mutable {
        FinishRequest(std::move(connection), peer, *handler);
      },
      task_fds);
  return absl::OkStatus();
}

void StreamServer::FinishRequest(net::Socket connection,
                                 const net::Address& peer,
                                 StreamRequestHandler& handler) {
  StreamRequest request(std::move(connection), peer, limits(), signal());
  absl::Status served = RunHandler(handler, request);
  if (!served.ok()) HandleError(served, peer);
  // socketserver's shutdown_request: end our direction explicitly, so the
  // peer sees end of stream even if a forked copy of the fd lingers.
  (void)request.socket().ShutdownWrite();
  request.socket().Close();
}

DatagramServer::DatagramServer(net::Address address,
                               DatagramHandlerFactory factory,
                               std::unique_ptr<ConcurrencyPolicy> policy,
                               const ServerConfig& config)
    : BaseServer(std::move(address), std::move(policy), config),
      factory_(std::move(factory)) {}

DatagramServer::~DatagramServer() {
  ServerClose();
  policy().Close(/*wait=*/true);
}

absl::StatusOr<std::unique_ptr<DatagramServer>> DatagramServer::Create(
    const net::Address& address, DatagramHandlerFactory factory,
    std::unique_ptr<ConcurrencyPolicy> policy, const ServerConfig& config) {
  auto server = std::make_unique<DatagramServer>(address, std::move(factory),
                                                 std::move(policy), config);
  absl::Status opened = server->Open();
  if (!opened.ok()) return opened;
  return server;
}

absl::Status DatagramServer::ServerBind() {
  if (server_address_.is_stream()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a datagram server needs a udp or unixgram address, not ",
                     server_address_.ToString()));
  }
  absl::StatusOr<net::Socket> socket = BindSocket();
  if (!socket.ok()) return socket.status();
  socket_ = std::make_shared<net::Socket>(std::move(*socket));
  max_datagram_ = std::min(MaxDatagramSize(server_address_.transport()),
                           config_.max_frame + framing::kFrameHeaderSize);
  buffer_ = std::make_unique<char[]>(max_datagram_);
  return absl::OkStatus();
}

absl::Status DatagramServer::HandleRequestNoBlock() {
  net::Address peer;
  absl::StatusOr<net::IoResult> received =
      socket_->RecvFrom(absl::MakeSpan(buffer_.get(), max_datagram_), &peer);
  if (!received.ok()) return received.status();
  if (received->would_block) return absl::OkStatus();
  absl::Time received_at = absl::Now();
  if (received->truncated) {
    net::LogWarning(absl::StrCat(
        "datagram from ", peer.ToString(),
        " dropped: longer than the largest accepted (", max_datagram_,
        " bytes)"));
    return absl::OkStatus();
  }
  if (!VerifyRequest(peer)) {
    net::LogInfo(absl::StrCat("datagram from ", peer.ToString(),
                              " refused by verify_request; dropped"));
    return absl::OkStatus();
  }
  std::unique_ptr<DatagramRequestHandler> handler = factory_();
  const int task_fds[] = {socket_->fd(), signal()->drain_fd(),
                          signal()->abort_fd()};
  policy().Process(
      [this, socket = socket_,
       datagram = std::string(buffer_.get(), received->bytes), peer,
       received_at, handler = std::move(handler)]() mutable {
        DatagramRequest request(std::move(datagram), peer, received_at,
                                socket.get(), limits(), signal());
        absl::Status served = RunHandler(*handler, request);
        if (!served.ok()) HandleError(served, peer);
      },
      task_fds);
  return absl::OkStatus();
}

}  // namespace asyncwork::server
