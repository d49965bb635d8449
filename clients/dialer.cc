#include "clients/dialer.h"

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "net/blocking_io.h"

namespace asyncwork::clients {

absl::StatusOr<std::unique_ptr<Dialer>> Dialer::Create(const RunConfig& config,
                                                       net::EventLoop* loop) {
  if (config.shaped) {
    return absl::UnimplementedError(
        "in-process link shaping is not available in this build");
  }
  return std::make_unique<Dialer>(Key(), config.server);
}

Dialer::Dialer(Key, const net::Address& server) : server_(server) {}

Dialer::~Dialer() = default;

absl::StatusOr<net::Socket> Dialer::Dial(absl::Time deadline) {
  absl::StatusOr<net::Socket> socket = net::ConnectBlocking(server_, deadline);
  if (!socket.ok()) return socket.status();
  if (server_.transport() == net::Transport::kTcp) {
    absl::Status no_delay = socket->SetNoDelay(true);
    if (!no_delay.ok()) return no_delay;
  }
  return socket;
}

}  // namespace asyncwork::clients
