// dialer.h: Dialer, the one place where every client strategy opens a
// connection to the server.
//
// Keeping connection creation in one function means the in-process link
// shaping (sim/shaper.h's Link) applies to every strategy alike, and a
// strategy cannot forget it. Every connection goes through the Link; an
// unshaped Link hands out the plain connection, with no relay.
//
//   absl::StatusOr<std::unique_ptr<Dialer>> dialer =
//       Dialer::Create(config, /*loop=*/nullptr);
//   absl::StatusOr<net::Socket> socket =
//       (*dialer)->Dial(absl::Now() + config.deadline);
//
// Every Socket returned is connected and non-blocking. An unshaped TCP
// connection has TCP_NODELAY set, since every request is one small write
// that should leave at once; a shaped one is the client's end of a Unix
// socketpair, whose relay sets TCP_NODELAY on the real connection itself.
// With a loop, the shaping runs on it (its timers deliver the bytes);
// without one, on one shaping thread the Dialer owns.
#ifndef ASYNCWORK_CLIENTS_DIALER_H_
#define ASYNCWORK_CLIENTS_DIALER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/run_config.h"
#include "net/address.h"
#include "net/event_loop.h"
#include "net/socket.h"
#include "sim/shaper.h"

namespace asyncwork::clients {

class Dialer {
  struct Key {
    explicit Key() = default;
  };

 public:
  // Create returns a Dialer for `config.server`, shaping each connection
  // with `config.link` when `config.shaped` and injecting `config.faults`. `loop` (not owned; may be null)
  // is the reactor the caller runs its connections on; it must outlive the
  // Dialer, and then Create and the destructor run on the loop thread.
  // Errors: an invalid link profile.
  static absl::StatusOr<std::unique_ptr<Dialer>> Create(const RunConfig& config,
                                                        net::EventLoop* loop);

  // Use Create; the Key keeps this constructor private to it.
  Dialer(Key, const net::Address& server, std::unique_ptr<sim::Link> link);

  Dialer(const Dialer&) = delete;
  Dialer& operator=(const Dialer&) = delete;
  ~Dialer();

  // Dial connects, waiting until `deadline` at most (with a loop, the loop
  // waits too: one handshake). Errors name the call and the errno text
  // ("connect 127.0.0.1:7: Connection refused") or are DeadlineExceeded.
  // Without a loop, any thread may call it, concurrently; with one, only
  // the loop thread.
  absl::StatusOr<net::Socket> Dial(absl::Time deadline);

  const net::Address& server() const { return server_; }

 private:
  net::Address server_;
  std::unique_ptr<sim::Link> link_;
};

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_DIALER_H_
