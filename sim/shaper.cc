#include "sim/shaper.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "net/blocking_io.h"
#include "net/check.h"
#include "sim/units.h"

namespace asyncwork::sim {
namespace {

bool ShapesLink(const LinkConfig& config) {
  return config.latency != absl::ZeroDuration() ||
         config.jitter != absl::ZeroDuration() || config.bandwidth.has_value();
}

bool HasFaults(const DatagramConfig& config) {
  return config.loss > 0 || config.duplicate > 0 || config.reorder > 0;
}

// ConnectDatagram connects a datagram socket to `server`. A Unix datagram
// socket is autobound first (bind with only the family): an unnamed sender
// cannot be answered, and the server replies to the sender's address.
absl::StatusOr<net::Socket> ConnectDatagram(const net::Address& server) {
  absl::StatusOr<net::Socket> socket =
      net::Socket::Create(server.family(), server.transport());
  if (!socket.ok()) return socket.status();
  if (server.transport() == net::Transport::kUnixDatagram) {
    struct sockaddr_un unnamed = {};
    unnamed.sun_family = AF_UNIX;
    if (::bind(socket->fd(), reinterpret_cast<struct sockaddr*>(&unnamed),
               sizeof(sa_family_t)) != 0) {
      return absl::ErrnoToStatus(errno, "bind (autobind)");
    }
  }
  absl::Status started = socket->StartConnect(server);
  if (!started.ok()) return started;
  // Datagram connects complete at once; this only confirms it.
  absl::Status connected = socket->FinishConnect();
  if (!connected.ok()) return connected;
  return socket;
}

// TcpLoopbackPair returns two connected TCP sockets on 127.0.0.1: a Link
// whose faults reset connections hands the client one end, since a Unix
// stream socket cannot be reset on demand.
absl::StatusOr<std::pair<net::Socket, net::Socket>> TcpLoopbackPair(
    absl::Time deadline) {
  absl::StatusOr<net::Address> any = net::Address::Parse("127.0.0.1:0");
  if (!any.ok()) return any.status();
  absl::StatusOr<net::Socket> listener = net::Socket::Listen(*any, 1);
  if (!listener.ok()) return listener.status();
  absl::StatusOr<net::Address> local = listener->LocalAddress();
  if (!local.ok()) return local.status();
  absl::StatusOr<net::Socket> client = net::ConnectBlocking(*local, deadline);
  if (!client.ok()) return client.status();
  absl::StatusOr<net::Socket> relay_end =
      net::AcceptBlocking(*listener, deadline);
  if (!relay_end.ok()) return relay_end.status();
  // The relay writes slices and segments when they are due; Nagle's
  // algorithm would hold small ones back.
  for (net::Socket* socket : {&*client, &*relay_end}) {
    absl::Status no_delay = socket->SetNoDelay(true);
    if (!no_delay.ok()) return no_delay;
  }
  return std::make_pair(*std::move(client), *std::move(relay_end));
}

}  // namespace

ShapingProfile ShapingProfile::FromLink(const LinkProfile& link) {
  ShapingProfile profile;
  profile.stream = link;
  profile.datagram.client_to_server.link = link.client_to_server;
  profile.datagram.server_to_client.link = link.server_to_client;
  return profile;
}

absl::Status ValidateShapingProfile(const ShapingProfile& profile) {
  for (absl::Status status :
       {ValidateLinkConfig(profile.stream.client_to_server),
        ValidateLinkConfig(profile.stream.server_to_client),
        ValidateDatagramConfig(profile.datagram.client_to_server),
        ValidateDatagramConfig(profile.datagram.server_to_client),
        ValidateFaultPlan(profile.faults)}) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

bool ShapesStreams(const LinkProfile& profile) {
  return ShapesLink(profile.client_to_server) ||
         ShapesLink(profile.server_to_client);
}

bool ShapesDatagrams(const DatagramProfile& profile) {
  for (const DatagramConfig* config :
       {&profile.client_to_server, &profile.server_to_client}) {
    if (ShapesLink(config->link) || HasFaults(*config)) return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<Link>> Link::Create(
    const ShapingProfile& profile, const RelayOptions& options) {
  absl::Status valid = ValidateShapingProfile(profile);
  if (!valid.ok()) return valid;
  std::unique_ptr<LoopThread> thread;
  if (ShapesStreams(profile.stream) || HasFaults(profile.faults) ||
      ShapesDatagrams(profile.datagram)) {
    absl::StatusOr<std::unique_ptr<LoopThread>> started = LoopThread::Start();
    if (!started.ok()) return started.status();
    thread = *std::move(started);
  }
  net::EventLoop* loop = thread == nullptr ? nullptr : thread->loop();
  return std::make_unique<Link>(Key(), profile, options, std::move(thread),
                                loop);
}

absl::StatusOr<std::unique_ptr<Link>> Link::CreateOnLoop(
    net::EventLoop* loop, const ShapingProfile& profile,
    const RelayOptions& options) {
  ASYNCWORK_CHECK(loop != nullptr) << "Link::CreateOnLoop needs a loop";
  loop->AssertInLoopThread();
  absl::Status valid = ValidateShapingProfile(profile);
  if (!valid.ok()) return valid;
  return std::make_unique<Link>(Key(), profile, options, nullptr, loop);
}

Link::Link(Key, const ShapingProfile& profile, const RelayOptions& options,
           std::unique_ptr<LoopThread> thread, net::EventLoop* loop)
    : profile_(profile),
      options_(options),
      shapes_streams_(ShapesStreams(profile.stream) ||
                      HasFaults(profile.faults)),
      shapes_datagrams_(ShapesDatagrams(profile.datagram)),
      thread_(std::move(thread)),
      loop_(loop) {
  if (loop_ != nullptr) {
    // Built on the loop thread (or before the loop runs), where a RelaySet
    // lives.
    OnLoop([this] { relays_ = std::make_unique<RelaySet>(loop_); });
  }
}

Link::~Link() {
  if (thread_ != nullptr) {
    // Once the thread is joined, this thread may use the loop: the relays
    // are destroyed here, then the loop with the thread.
    thread_->Stop();
    relays_.reset();
    thread_.reset();
  } else if (loop_ != nullptr) {
    loop_->AssertInLoopThread();
    relays_.reset();
  }
}

void Link::OnLoop(absl::AnyInvocable<void()> task) {
  if (thread_ != nullptr) {
    thread_->RunAndWait(std::move(task));
  } else {
    loop_->AssertInLoopThread();
    task();
  }
}

absl::StatusOr<net::Socket> Link::Connect(const net::Address& server,
                                          absl::Time deadline) {
  const bool stream = server.is_stream();
  FaultPlan faults;
  if (stream && FaultsConnection(profile_.faults, ++stream_connections_)) {
    faults = profile_.faults;
  }
  if (faults.connect_delay > absl::ZeroDuration() && thread_ != nullptr) {
    // Blocking form: the caller's own thread waits, so no other connection
    // does; the relay then need not hold.
    absl::Time ready_at = absl::Now() + faults.connect_delay;
    if (ready_at > deadline) {
      absl::SleepFor(deadline - absl::Now());
      return absl::DeadlineExceededError(absl::StrCat(
          "connect ", server.ToString(), ": deadline passed during the ",
          FormatLatency(faults.connect_delay), " connect_delay fault"));
    }
    absl::SleepFor(ready_at - absl::Now());
    faults.connect_delay = absl::ZeroDuration();
  }
  absl::StatusOr<net::Socket> upstream =
      stream ? net::ConnectBlocking(server, deadline) : ConnectDatagram(server);
  if (!upstream.ok() || !(stream ? shapes_streams_ : shapes_datagrams_)) {
    return upstream;
  }
  if (upstream->transport() == net::Transport::kTcp) {
    absl::Status no_delay = upstream->SetNoDelay(true);
    if (!no_delay.ok()) return no_delay;
  }
  absl::StatusOr<std::pair<net::Socket, net::Socket>> pair =
      stream && profile_.faults.reset_after_bytes.has_value()
          ? TcpLoopbackPair(deadline)
          : net::Socket::CreatePair(stream ? net::Transport::kUnixStream
                                           : net::Transport::kUnixDatagram);
  if (!pair.ok()) return pair.status();
  absl::Status started;
  // The relay is made and started on the loop thread, where it lives.
  OnLoop([&] {
    std::unique_ptr<ShapedRelay> relay =
        stream ? ShapedRelay::ForStream(loop_, std::move(pair->second),
                                        *std::move(upstream), profile_.stream,
                                        options_, faults)
               : ShapedRelay::ForDatagrams(loop_, std::move(pair->second),
                                           *std::move(upstream),
                                           profile_.datagram, options_);
    started = relays_->Start(std::move(relay));
  });
  if (!started.ok()) return started;
  return std::move(pair->first);
}

size_t Link::open_relays() {
  if (relays_ == nullptr) return 0;
  size_t open = 0;
  OnLoop([&] { open = relays_->size(); });
  return open;
}

}  // namespace asyncwork::sim
