#include "sim/shaping_proxy.h"

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "net/blocking_io.h"
#include "net/socket.h"
#include "net/test_util.h"
#include "sim/fault.h"
#include "sim/link_model.h"
#include "sim/loop_thread.h"
#include "sim/shaping_test_util.h"
#include "sim/units.h"

namespace asyncwork::sim {
namespace {

using ::asyncwork::net::testing::AddressOf;
using ::asyncwork::net::testing::ListenOrDie;
using ::asyncwork::net::testing::RefusingTcpAddress;
using ::asyncwork::sim::testing::Pattern;
using ::asyncwork::sim::testing::PlanOrDie;
using ::asyncwork::sim::testing::ReadToEnd;

constexpr absl::Duration kLatency = absl::Milliseconds(20);
constexpr absl::Duration kSlack = absl::Milliseconds(250);

absl::Time Deadline() { return absl::Now() + absl::Seconds(10); }

// EchoServer accepts `connections` connections on a thread of its own and
// echoes each (on a thread per connection: it is only a test peer) until
// the client ends it. The destructor joins everything.
class EchoServer {
 public:
  explicit EchoServer(int connections)
      : listener_(ListenOrDie("127.0.0.1:0")),
        address_(AddressOf(listener_)),
        acceptor_([this, connections] { Accept(connections); }) {}
  ~EchoServer() {
    acceptor_.join();
    for (std::thread& echo : echoes_) echo.join();
  }

  const net::Address& address() const { return address_; }

 private:
  void Accept(int connections) {
    for (int i = 0; i < connections; ++i) {
      absl::StatusOr<net::Socket> socket =
          net::AcceptBlocking(listener_, Deadline());
      if (!socket.ok()) return;
      echoes_.emplace_back([socket = *std::move(socket)]() mutable {
        char buffer[16384];
        while (true) {
          absl::StatusOr<size_t> got =
              net::ReadSome(socket, absl::MakeSpan(buffer), Deadline());
          if (!got.ok() || *got == 0) return;
          if (!net::WriteAll(socket, absl::string_view(buffer, *got),
                             Deadline())
                   .ok()) {
            return;
          }
        }
      });
    }
  }

  net::Socket listener_;
  const net::Address address_;
  std::vector<std::thread> echoes_;
  std::thread acceptor_;
};

// ProxyTest runs a proxy on a LoopThread, as //tools:shaper runs one on
// its main thread.
class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<LoopThread>> thread = LoopThread::Start();
    ASSERT_TRUE(thread.ok()) << thread.status();
    thread_ = *std::move(thread);
  }

  void TearDown() override {
    thread_->RunAndWait([this] { proxy_.reset(); });
    thread_.reset();
  }

  void StartProxy(const net::Address& upstream, const LinkProfile& profile,
                  const FaultPlan& faults = {}) {
    ShapingProxyOptions options;
    options.listen = *net::Address::Parse("127.0.0.1:0");
    options.upstream = upstream;
    options.profile = profile;
    options.faults = faults;
    absl::Status status;
    thread_->RunAndWait([&] {
      absl::StatusOr<std::unique_ptr<ShapingProxy>> proxy =
          ShapingProxy::Create(thread_->loop(), options);
      status = proxy.status();
      if (proxy.ok()) proxy_ = *std::move(proxy);
    });
    ASSERT_TRUE(status.ok()) << status;
  }

  net::Socket ConnectToProxy() {
    absl::StatusOr<net::Socket> socket =
        net::ConnectBlocking(proxy_->local_address(), Deadline());
    EXPECT_TRUE(socket.ok()) << socket.status();
    return *std::move(socket);
  }

  ShapingProxyStats Stats() {
    ShapingProxyStats stats;
    thread_->RunAndWait([&] { stats = proxy_->stats(); });
    return stats;
  }

  std::unique_ptr<LoopThread> thread_;
  std::unique_ptr<ShapingProxy> proxy_;
};

LinkProfile WithLatency(absl::Duration latency) {
  LinkConfig config;
  config.latency = latency;
  return LinkProfile::Symmetric(config);
}

TEST_F(ProxyTest, EchoRoundTripTakesBothLatencies) {
  EchoServer echo(1);
  StartProxy(echo.address(), WithLatency(kLatency));
  EXPECT_EQ(proxy_->local_address().ToString().rfind("127.0.0.1:", 0), 0u);
  EXPECT_NE(proxy_->local_address().port(), 0);
  net::Socket client = ConnectToProxy();
  for (int i = 0; i < 5; ++i) {
    absl::Time sent_at = absl::Now();
    ASSERT_TRUE(net::WriteAll(client, "ping", Deadline()).ok());
    char reply[4];
    ASSERT_TRUE(net::ReadExactly(client, absl::MakeSpan(reply), Deadline()).ok());
    absl::Duration round_trip = absl::Now() - sent_at;
    EXPECT_EQ(absl::string_view(reply, 4), "ping");
    EXPECT_GE(round_trip, 2 * kLatency);
    EXPECT_LT(round_trip, 2 * kLatency + kSlack);
  }
  ShapingProxyStats stats = Stats();
  EXPECT_EQ(stats.accepted, 1u);
  EXPECT_EQ(stats.relaying, 1u);
}

TEST_F(ProxyTest, ServesManyConnectionsOnItsOneThread) {
  constexpr int kClients = 16;
  EchoServer echo(kClients);
  StartProxy(echo.address(), WithLatency(absl::Milliseconds(5)));
  std::vector<net::Socket> clients;
  std::vector<std::string> sent;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(ConnectToProxy());
    sent.push_back(Pattern(64 << 10, i));
    ASSERT_TRUE(net::WriteAll(clients.back(), sent.back(), Deadline()).ok());
  }
  for (int i = 0; i < kClients; ++i) {
    std::string got(sent[i].size(), '\0');
    ASSERT_TRUE(net::ReadExactly(clients[i], absl::MakeSpan(got), Deadline())
                    .ok());
    EXPECT_TRUE(got == sent[i]) << "client " << i;
  }
  EXPECT_EQ(Stats().accepted, static_cast<uint64_t>(kClients));
  clients.clear();  // the echo threads end at end of stream
}

TEST_F(ProxyTest, RefusedUpstreamClosesTheClient) {
  StartProxy(RefusingTcpAddress(), WithLatency(kLatency));
  net::Socket client = ConnectToProxy();
  char byte;
  absl::StatusOr<size_t> got =
      net::ReadSome(client, absl::MakeSpan(&byte, 1), Deadline());
  // Closed: an end of stream (or a reset, had bytes been unread).
  EXPECT_TRUE(!got.ok() || *got == 0);
  ShapingProxyStats stats = Stats();
  EXPECT_EQ(stats.accepted, 1u);
  EXPECT_EQ(stats.upstream_failures, 1u);
  EXPECT_EQ(stats.connecting + stats.relaying, 0u);
}

TEST_F(ProxyTest, CloseFaultCutsEveryNthConnectionAfterItsBytes) {
  EchoServer echo(2);
  StartProxy(echo.address(), LinkProfile(),
             PlanOrDie("close_after=6,every=2,direction=to_client"));
  for (int n = 1; n <= 2; ++n) {
    net::Socket client = ConnectToProxy();
    ASSERT_TRUE(net::WriteAll(client, "pingpong", Deadline()).ok());
    std::string got;
    if (n == 2) {
      got.resize(8);
      ASSERT_TRUE(net::ReadExactly(client, absl::MakeSpan(got), Deadline()).ok());
      EXPECT_EQ(got, "pingpong");
      continue;
    }
    EXPECT_TRUE(ReadToEnd(client, Deadline(), &got).ok());
    EXPECT_EQ(got, "pingpo");
  }
  EXPECT_EQ(Stats().accepted, 2u);
}

TEST_F(ProxyTest, ResetFaultResetsTheClient) {
  EchoServer echo(1);
  // After one byte, not none: a reset at once could beat the client's own
  // connect to the proxy.
  StartProxy(echo.address(), LinkProfile(), PlanOrDie("reset_after=1"));
  net::Socket client = ConnectToProxy();
  // The write may already meet the reset.
  net::WriteAll(client, "ping", Deadline()).IgnoreError();
  std::string got;
  absl::Status end = ReadToEnd(client, Deadline(), &got);
  EXPECT_NE(end.message().find("reset"), std::string::npos) << end;
  EXPECT_EQ(got, "");
}

TEST_F(ProxyTest, StallFaultHoldsUntilTheClientGivesUp) {
  EchoServer echo(1);
  StartProxy(echo.address(), LinkProfile(), PlanOrDie("stall_after=4"));
  net::Socket client = ConnectToProxy();
  ASSERT_TRUE(net::WriteAll(client, "pingpong", Deadline()).ok());
  char reply[8];
  absl::StatusOr<size_t> got = net::ReadSome(
      client, absl::MakeSpan(reply), absl::Now() + absl::Milliseconds(200));
  // Four bytes reach the echo server, and its answer counts toward the
  // four, so at most what fits arrives before the stall.
  if (got.ok()) {
    EXPECT_LE(*got, 4u);
    got = net::ReadSome(client, absl::MakeSpan(reply),
                        absl::Now() + absl::Milliseconds(200));
  }
  EXPECT_TRUE(absl::IsDeadlineExceeded(got.status())) << got.status();
  EXPECT_EQ(Stats().relaying, 1u);
  // Giving up closes the upstream connection too: the echo thread ends at
  // its end of stream, well before its own deadline (the destructor joins).
  absl::Time closed_at = absl::Now();
  client.Close();
  for (int i = 0; i < 5000 && Stats().relaying > 0; ++i) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(Stats().relaying, 0u);
  EXPECT_LT(absl::Now() - closed_at, absl::Seconds(5));
}

TEST(ShapingProxy, RefusesADatagramAddress) {
  absl::StatusOr<std::unique_ptr<LoopThread>> thread = LoopThread::Start();
  ASSERT_TRUE(thread.ok());
  ShapingProxyOptions options;
  options.listen = *net::Address::Parse("udp://127.0.0.1:0");
  options.upstream = *net::Address::Parse("127.0.0.1:1");
  absl::Status status;
  (*thread)->RunAndWait([&] {
    status = ShapingProxy::Create((*thread)->loop(), options).status();
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("listen"), std::string::npos) << status;
}

TEST(ParseShapingProxyFlags, BuildsTheProfileFromTheFlags) {
  ShapingProxyFlags flags;
  flags.upstream = "127.0.0.1:7000";
  flags.latency = absl::Milliseconds(50);
  flags.bandwidth = Bandwidth::BitsPerSecond(10'000'000);
  flags.down_bandwidth = "1mbit";
  flags.seed = 9;
  absl::StatusOr<ShapingProxyOptions> options = ParseShapingProxyFlags(flags);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->listen.ToString(), "127.0.0.1:0");
  EXPECT_EQ(options->upstream.ToString(), "127.0.0.1:7000");
  EXPECT_EQ(options->profile.client_to_server.latency, absl::Milliseconds(50));
  EXPECT_EQ(options->profile.server_to_client.latency, absl::Milliseconds(50));
  EXPECT_EQ(options->profile.client_to_server.bandwidth,
            Bandwidth::BitsPerSecond(10'000'000));
  EXPECT_EQ(options->profile.server_to_client.bandwidth,
            Bandwidth::BitsPerSecond(1'000'000));
  EXPECT_EQ(options->profile.client_to_server.seed, 9u);
  EXPECT_FALSE(HasFaults(options->faults));
}

TEST(ParseShapingProxyFlags, ReadsTheFaultPlan) {
  ShapingProxyFlags flags;
  flags.upstream = "127.0.0.1:7000";
  flags.fault = "close_after=4096,every=3";
  absl::StatusOr<ShapingProxyOptions> options = ParseShapingProxyFlags(flags);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->faults.close_after_bytes, 4096u);
  EXPECT_EQ(options->faults.every_nth_connection, 3);
}

TEST(ParseShapingProxyFlags, NamesTheBadFlagAndItsValue) {
  struct Case {
    ShapingProxyFlags flags;
    std::string expected;
  };
  // With returns good flags changed by `change`.
  auto with = [](auto change) {
    ShapingProxyFlags flags;
    flags.upstream = "127.0.0.1:7000";
    change(flags);
    return flags;
  };
  using Flags = ShapingProxyFlags;
  const Case cases[] = {
      {ShapingProxyFlags(), "--upstream is required"},
      {with([](Flags& f) { f.up_bandwidth = "0mbit"; }), "--up_bandwidth=0mbit"},
      {with([](Flags& f) { f.down_bandwidth = "5parsecs"; }),
       "--down_bandwidth=5parsecs"},
      {with([](Flags& f) { f.listen = "udp://127.0.0.1:0"; }),
       "--listen=udp://127.0.0.1:0"},
      {with([](Flags& f) { f.upstream = "127.0.0.1"; }), "--upstream=127.0.0.1"},
      {with([](Flags& f) { f.latency = -absl::Milliseconds(1); }),
       "--latency=-1ms"},
      {with([](Flags& f) { f.fault = "slice=0"; }), "--fault=slice=0"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ShapingProxyOptions> options =
        ParseShapingProxyFlags(c.flags);
    ASSERT_FALSE(options.ok()) << c.expected;
    EXPECT_EQ(options.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(options.status().message().find(c.expected), std::string::npos)
        << options.status();
  }
}

}  // namespace
}  // namespace asyncwork::sim
