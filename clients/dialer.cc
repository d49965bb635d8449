#include "clients/dialer.h"

#include <memory>
#include <utility>

#include "absl/status/status.h"

namespace asyncwork::clients {

absl::StatusOr<std::unique_ptr<Dialer>> Dialer::Create(const RunConfig& config,
                                                       net::EventLoop* loop) {
  // An unshaped profile makes a Link that starts no thread and no relay.
  sim::ShapingProfile profile;
  if (config.shaped) profile = sim::ShapingProfile::FromLink(config.link);
  profile.faults = config.faults;
  absl::StatusOr<std::unique_ptr<sim::Link>> link =
      loop != nullptr ? sim::Link::CreateOnLoop(loop, profile)
                      : sim::Link::Create(profile);
  if (!link.ok()) return link.status();
  return std::make_unique<Dialer>(Key(), config.server, *std::move(link));
}

Dialer::Dialer(Key, const net::Address& server, std::unique_ptr<sim::Link> link)
    : server_(server), link_(std::move(link)) {}

Dialer::~Dialer() = default;

absl::StatusOr<net::Socket> Dialer::Dial(absl::Time deadline) {
  absl::StatusOr<net::Socket> socket = link_->Connect(server_, deadline);
  if (!socket.ok()) return socket.status();
  if (socket->transport() == net::Transport::kTcp) {
    absl::Status no_delay = socket->SetNoDelay(true);
    if (!no_delay.ok()) return no_delay;
  }
  return socket;
}

}  // namespace asyncwork::clients
