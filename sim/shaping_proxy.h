// shaping_proxy.h: ShapingProxy, latency and bandwidth for any TCP program.
//
// The proxy listens on one address and, for every connection it accepts,
// connects to the upstream address and relays both directions through a
// ShapedRelay (relay.h): client-to-upstream bytes follow the profile's
// client_to_server direction, upstream-to-client bytes server_to_client.
// Like toxiproxy's latency and bandwidth toxics, without a control server:
// the profile is fixed when the proxy starts. Every connection runs on the
// one loop the proxy is given; there is no thread per connection.
// //tools:shaper wraps it as a program.
//
//   ShapingProxyOptions options;
//   options.listen = *net::Address::Parse("127.0.0.1:0");
//   options.upstream = *net::Address::Parse("127.0.0.1:7000");
//   options.profile = LinkProfile::Symmetric(config);
//   absl::StatusOr<std::unique_ptr<ShapingProxy>> proxy =
//       ShapingProxy::Create(loop, options);
//   std::printf("listening on %s\n",
//               (*proxy)->local_address().ToString().c_str());
//   loop->Run();
//
// Upstream connects are non-blocking. One that fails (refused, or not done
// within options.connect_timeout) closes the accepted connection and logs
// one line naming both ends and the error. A relay that ends with a failure
// (a reset, or a fault) logs one line too.
//
// Faults (options.faults, fault.h) apply to the connections fault.h's
// every= picks, numbered in the order they are relayed (once their upstream
// connect succeeded). The connect delay holds a connection after
// its upstream connect: neither side's bytes move until it has passed.
//
// Threads: every method, the destructor included, runs on the loop thread
// (or while the loop is not running); the loop must outlive the proxy.
#ifndef ASYNCWORK_SIM_SHAPING_PROXY_H_
#define ASYNCWORK_SIM_SHAPING_PROXY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/address.h"
#include "net/event_loop.h"
#include "net/io_watch.h"
#include "net/socket.h"
#include "net/timer_queue.h"
#include "sim/fault.h"
#include "sim/link_model.h"
#include "sim/relay.h"
#include "sim/units.h"

namespace asyncwork::sim {

// ShapingProxyOptions configures a proxy.
struct ShapingProxyOptions {
  // Where to listen (port 0 picks a free port) and where to connect; both
  // stream addresses (TCP or Unix stream).
  net::Address listen;
  net::Address upstream;
  // client_to_server shapes what clients send upstream.
  LinkProfile profile;
  // Faults injected into the relayed connections (fault.h).
  FaultPlan faults;
  RelayOptions relay;
  // How long an upstream connect may take before the client is dropped.
  absl::Duration connect_timeout = absl::Seconds(10);
};

// ValidateShapingProxyOptions returns InvalidArgument naming the bad field.
absl::Status ValidateShapingProxyOptions(const ShapingProxyOptions& options);

// ShapingProxyFlags holds //tools:shaper's flags as given, so that turning
// them into options (and naming a bad one) can be tested in-process.
struct ShapingProxyFlags {
  std::string listen = "127.0.0.1:0";
  std::string upstream;
  absl::Duration latency = absl::ZeroDuration();
  absl::Duration jitter = absl::ZeroDuration();
  // The cap for both directions; std::nullopt is unlimited.
  std::optional<Bandwidth> bandwidth;
  // Per-direction caps in units.h's notation, overriding `bandwidth`;
  // empty means `bandwidth`. Up is client to upstream.
  std::string up_bandwidth;
  std::string down_bandwidth;
  uint64_t seed = 1;
  // A fault plan in fault.h's syntax ("close_after=4096,every=3"); empty
  // is none.
  std::string fault;
};

// ParseShapingProxyFlags turns `flags` into options. Errors are
// InvalidArgument and name the flag and its value
// ("--up_bandwidth=0mbit: bandwidth must be positive ...",
// "--upstream is required").
absl::StatusOr<ShapingProxyOptions> ParseShapingProxyFlags(
    const ShapingProxyFlags& flags);

// ShapingProxyStats counts connections since Create.
struct ShapingProxyStats {
  uint64_t accepted = 0;
  // Upstream connects that failed or timed out.
  uint64_t upstream_failures = 0;
  // Connections connecting upstream, and relaying, now.
  size_t connecting = 0;
  size_t relaying = 0;
};

class ShapingProxy {
  struct Key {
    explicit Key() = default;
  };

 public:
  // Create validates `options`, listens, and starts accepting on `loop`
  // (not owned). Fails when the options are invalid or listen fails.
  static absl::StatusOr<std::unique_ptr<ShapingProxy>> Create(
      net::EventLoop* loop, const ShapingProxyOptions& options);

  // Use Create; the Key keeps this constructor private.
  ShapingProxy(Key, net::EventLoop* loop, const ShapingProxyOptions& options,
               net::Socket listener, net::Address local_address);

  // ~ShapingProxy stops listening and closes every connection at once.
  ~ShapingProxy();

  ShapingProxy(const ShapingProxy&) = delete;
  ShapingProxy& operator=(const ShapingProxy&) = delete;

  // local_address is the address clients connect to (the real port when
  // options.listen had port 0). Any thread.
  const net::Address& local_address() const { return local_address_; }

  ShapingProxyStats stats() const;

 private:
  // Pending is an accepted client whose upstream connect is in progress.
  struct Pending {
    net::Socket client;
    net::Address peer;
    net::Socket upstream;
    std::unique_ptr<net::IoWatch> watch;
    net::TimerId timeout;
  };

  absl::Status StartAccepting();
  void OnAcceptable();
  void StartUpstream(net::Socket client, const net::Address& peer);
  void OnUpstreamReady(uint64_t id);
  void DropPending(uint64_t id, const absl::Status& status);

  net::EventLoop* const loop_;
  const ShapingProxyOptions options_;
  net::Socket listener_;
  const net::Address local_address_;
  net::IoWatch listen_watch_;
  // Set while accepting is paused after running out of descriptors.
  net::TimerId accept_pause_;
  uint64_t next_id_ = 1;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Pending>> pending_;
  RelaySet relays_;
  // Connections handed to a relay so far; numbers them for
  // FaultPlan::every_nth_connection.
  uint64_t relayed_ = 0;
  ShapingProxyStats stats_;
};

}  // namespace asyncwork::sim

#endif  // ASYNCWORK_SIM_SHAPING_PROXY_H_
