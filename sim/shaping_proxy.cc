#include "sim/shaping_proxy.h"

#include <sys/socket.h>

#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "net/log.h"
#include "net/poller.h"

namespace asyncwork::sim {
namespace {

// Accepting stops for this long after the process runs out of descriptors;
// a level-triggered listener would otherwise wake the loop without end.
constexpr absl::Duration kAcceptPause = absl::Milliseconds(100);

// One readiness event accepts at most this many clients, so a flood of
// connects cannot starve the relays on the same loop.
constexpr int kMaxAcceptsPerEvent = 64;

// EMFILE, ENFILE, ENOBUFS and ENOMEM all map to ResourceExhausted.
bool IsOutOfDescriptors(const absl::Status& status) {
  return absl::IsResourceExhausted(status);
}

void LogDropped(const net::Address& peer, const absl::Status& status) {
  net::LogWarning(absl::StrCat("shaper: closing connection from ",
                               peer.ToString(), ": ", status.message()));
}

void SetNoDelayIfTcp(net::Socket& socket) {
  // Best effort: the relay writes each segment when it is due, and Nagle's
  // algorithm would hold small ones back; failing to disable it only costs
  // accuracy.
  if (socket.transport() == net::Transport::kTcp) {
    socket.SetNoDelay(true).IgnoreError();
  }
}

}  // namespace

absl::Status ValidateShapingProxyOptions(const ShapingProxyOptions& options) {
  for (const auto& [name, address] :
       {std::pair<const char*, const net::Address*>{"listen", &options.listen},
        {"upstream", &options.upstream}}) {
    if (address->family() == AF_UNSPEC || !address->is_stream()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "shaping proxy ", name, " address '", address->ToString(),
          "' must be a stream address (TCP or unix:)"));
    }
  }
  for (absl::Status status : {ValidateLinkConfig(options.profile.client_to_server),
                              ValidateLinkConfig(options.profile.server_to_client)}) {
    if (!status.ok()) return status;
  }
  absl::Status faults = ValidateFaultPlan(options.faults);
  if (!faults.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("shaping proxy faults: ", faults.message()));
  }
  if (options.relay.max_held_bytes == 0) {
    return absl::InvalidArgumentError(
        "shaping proxy relay.max_held_bytes must be at least 1");
  }
  if (options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "shaping proxy connect_timeout must be positive");
  }
  return absl::OkStatus();
}

absl::StatusOr<ShapingProxyOptions> ParseShapingProxyFlags(
    const ShapingProxyFlags& flags) {
  if (flags.upstream.empty()) {
    return absl::InvalidArgumentError(
        "--upstream is required (the address to relay to, e.g. "
        "--upstream=127.0.0.1:7000)");
  }
  ShapingProxyOptions options;
  for (const auto& [name, text, address] :
       {std::tuple<const char*, const std::string*, net::Address*>{
            "listen", &flags.listen, &options.listen},
        {"upstream", &flags.upstream, &options.upstream}}) {
    absl::StatusOr<net::Address> parsed = net::Address::Parse(*text);
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, "=", *text, ": ", parsed.status().message()));
    }
    if (!parsed->is_stream()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, "=", *text,
                       ": the shaper relays streams (TCP or unix:) only"));
    }
    *address = *parsed;
  }
  for (const auto& [name, value] :
       {std::pair<const char*, absl::Duration>{"latency", flags.latency},
        {"jitter", flags.jitter}}) {
    if (value < absl::ZeroDuration() || value == absl::InfiniteDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--", name, "=", absl::FormatDuration(value),
          ": must be finite and not negative"));
    }
  }
  LinkConfig config;
  config.latency = flags.latency;
  config.jitter = flags.jitter;
  config.bandwidth = flags.bandwidth;
  config.seed = flags.seed;
  options.profile = LinkProfile::Symmetric(config);
  for (const auto& [name, text, link] :
       {std::tuple<const char*, const std::string*, LinkConfig*>{
            "up_bandwidth", &flags.up_bandwidth,
            &options.profile.client_to_server},
        {"down_bandwidth", &flags.down_bandwidth,
         &options.profile.server_to_client}}) {
    if (text->empty()) continue;
    absl::StatusOr<std::optional<Bandwidth>> cap = ParseBandwidth(name, *text);
    if (!cap.ok()) return cap.status();
    link->bandwidth = *cap;
  }
  absl::StatusOr<FaultPlan> faults = ParseFaultPlan(flags.fault);
  if (!faults.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--fault=", flags.fault, ": ", faults.status().message()));
  }
  options.faults = *faults;
  return options;
}

absl::StatusOr<std::unique_ptr<ShapingProxy>> ShapingProxy::Create(
    net::EventLoop* loop, const ShapingProxyOptions& options) {
  loop->AssertInLoopThread();
  absl::Status valid = ValidateShapingProxyOptions(options);
  if (!valid.ok()) return valid;
  absl::StatusOr<net::Socket> listener = net::Socket::Listen(options.listen);
  if (!listener.ok()) return listener.status();
  absl::StatusOr<net::Address> local = listener->LocalAddress();
  if (!local.ok()) return local.status();
  auto proxy = std::make_unique<ShapingProxy>(Key(), loop, options,
                                              *std::move(listener), *local);
  absl::Status accepting = proxy->StartAccepting();
  if (!accepting.ok()) return accepting;
  return proxy;
}

ShapingProxy::ShapingProxy(Key, net::EventLoop* loop,
                           const ShapingProxyOptions& options,
                           net::Socket listener, net::Address local_address)
    : loop_(loop),
      options_(options),
      listener_(std::move(listener)),
      local_address_(std::move(local_address)),
      listen_watch_(loop_, listener_.fd(), [this](uint32_t) { OnAcceptable(); }),
      relays_(loop_, [](const absl::Status& status) {
        if (!status.ok()) {
          net::LogInfo(absl::StrCat("shaper: connection closed: ",
                                    status.message()));
        }
      }) {}

ShapingProxy::~ShapingProxy() {
  loop_->AssertInLoopThread();
  // Timer callbacks point at this proxy; the watches stop with their owners.
  if (accept_pause_.valid()) loop_->Cancel(accept_pause_);
  for (auto& [id, pending] : pending_) loop_->Cancel(pending->timeout);
}

absl::Status ShapingProxy::StartAccepting() {
  return listen_watch_.EnableReading();
}

ShapingProxyStats ShapingProxy::stats() const {
  loop_->AssertInLoopThread();
  ShapingProxyStats stats = stats_;
  stats.connecting = pending_.size();
  stats.relaying = relays_.size();
  return stats;
}

void ShapingProxy::OnAcceptable() {
  for (int i = 0; i < kMaxAcceptsPerEvent; ++i) {
    net::Address peer;
    absl::StatusOr<std::optional<net::Socket>> accepted =
        listener_.Accept(&peer);
    if (!accepted.ok()) {
      net::LogWarning(absl::StrCat("shaper: accept: ", accepted.status().message()));
      if (IsOutOfDescriptors(accepted.status())) {
        listen_watch_.Stop();
        accept_pause_ = loop_->RunAfter(kAcceptPause, [this] {
          accept_pause_ = net::TimerId();
          absl::Status resumed = StartAccepting();
          if (!resumed.ok()) {
            net::LogError(absl::StrCat("shaper: cannot resume accepting: ",
                                       resumed.message()));
          }
        });
      }
      return;
    }
    if (!accepted->has_value()) return;
    ++stats_.accepted;
    StartUpstream(std::move(**accepted), peer);
  }
}

void ShapingProxy::StartUpstream(net::Socket client, const net::Address& peer) {
  uint64_t id = next_id_++;
  auto pending = std::make_unique<Pending>();
  pending->client = std::move(client);
  pending->peer = peer;
  absl::StatusOr<net::Socket> upstream = net::Socket::Connect(options_.upstream);
  if (!upstream.ok()) {
    ++stats_.upstream_failures;
    LogDropped(peer, upstream.status());
    return;
  }
  pending->upstream = *std::move(upstream);
  pending->watch = std::make_unique<net::IoWatch>(
      loop_, pending->upstream.fd(),
      [this, id](uint32_t) { OnUpstreamReady(id); });
  absl::Status watched = pending->watch->EnableWriting();
  if (!watched.ok()) {
    ++stats_.upstream_failures;
    LogDropped(peer, watched);
    return;
  }
  pending->timeout = loop_->RunAfter(options_.connect_timeout, [this, id] {
    pending_.at(id)->timeout = net::TimerId();
    DropPending(id, absl::DeadlineExceededError(absl::StrCat(
                        "connect ", options_.upstream.ToString(),
                        ": no answer within ", absl::FormatDuration(
                                                   options_.connect_timeout))));
  });
  pending_.emplace(id, std::move(pending));
}

void ShapingProxy::OnUpstreamReady(uint64_t id) {
  Pending& pending = *pending_.at(id);
  absl::Status connected = pending.upstream.FinishConnect();
  if (absl::IsFailedPrecondition(connected)) return;  // not finished yet
  if (!connected.ok()) {
    DropPending(id, connected);
    return;
  }
  pending.watch->Stop();
  loop_->Cancel(pending.timeout);
  SetNoDelayIfTcp(pending.client);
  SetNoDelayIfTcp(pending.upstream);
  net::Address peer = pending.peer;
  FaultPlan faults;
  if (FaultsConnection(options_.faults, ++relayed_)) faults = options_.faults;
  std::unique_ptr<ShapedRelay> relay = ShapedRelay::ForStream(
      loop_, std::move(pending.client), std::move(pending.upstream),
      options_.profile, options_.relay, faults);
  // The watch whose handler is running may not be destroyed here.
  auto it = pending_.find(id);
  loop_->DeleteLater(std::move(it->second));
  pending_.erase(it);
  absl::Status started = relays_.Start(std::move(relay));
  if (!started.ok()) LogDropped(peer, started);
}

void ShapingProxy::DropPending(uint64_t id, const absl::Status& status) {
  auto it = pending_.find(id);
  ++stats_.upstream_failures;
  LogDropped(it->second->peer, status);
  loop_->Cancel(it->second->timeout);
  it->second->watch->Stop();
  // The client's socket closes now, so it sees the end at once; the rest
  // goes when the loop is done with the handler that may be running.
  it->second->client.Close();
  it->second->upstream.Close();
  loop_->DeleteLater(std::move(it->second));
  pending_.erase(it);
}

}  // namespace asyncwork::sim
