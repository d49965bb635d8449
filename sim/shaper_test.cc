#include "sim/shaper.h"

#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "net/blocking_io.h"
#include "net/check.h"
#include "net/event_loop.h"
#include "net/reactor_test_util.h"
#include "net/socket.h"
#include "net/test_util.h"
#include "sim/fault.h"
#include "sim/link_model.h"
#include "sim/shaping_test_util.h"

namespace asyncwork::sim {
namespace {

using ::asyncwork::net::testing::AddressOf;
using ::asyncwork::net::testing::CountOpenFds;
using ::asyncwork::net::testing::ListenOrDie;
using ::asyncwork::net::testing::RefusingTcpAddress;
using ::asyncwork::net::testing::RunUntil;
using ::asyncwork::sim::testing::Drain;
using ::asyncwork::sim::testing::PlanOrDie;
using ::asyncwork::sim::testing::ReadTimestamp;
using ::asyncwork::sim::testing::ReadToEnd;
using ::asyncwork::sim::testing::Timestamp;

constexpr absl::Duration kLatency = absl::Milliseconds(20);
// Generous: tests check that shaping is never early, and only loosely that
// it is not late.
constexpr absl::Duration kSlack = absl::Milliseconds(250);

absl::Time Deadline() { return absl::Now() + absl::Seconds(10); }

ShapingProfile WithLatency(absl::Duration latency) {
  LinkConfig config;
  config.latency = latency;
  return ShapingProfile::FromLink(LinkProfile::Symmetric(config));
}

std::unique_ptr<Link> MakeLink(const ShapingProfile& profile) {
  absl::StatusOr<std::unique_ptr<Link>> link = Link::Create(profile);
  EXPECT_TRUE(link.ok()) << link.status();
  return *std::move(link);
}

// SendStamp writes the time now; ReceiveStamp reads it back and returns how
// long it took.
void SendStamp(net::Socket& socket) {
  ASSERT_TRUE(net::WriteAll(socket, Timestamp(absl::Now()), Deadline()).ok());
}

absl::Duration ReceiveStamp(net::Socket& socket) {
  char stamp[testing::kTimestampBytes];
  absl::Status read =
      net::ReadExactly(socket, absl::MakeSpan(stamp), Deadline());
  EXPECT_TRUE(read.ok()) << read;
  return absl::Now() - ReadTimestamp(absl::string_view(stamp, sizeof(stamp)));
}

// WaitForNoRelays waits (boundedly) until `link` has no open relay.
bool WaitForNoRelays(Link& link) {
  for (int i = 0; i < 10000; ++i) {
    if (link.open_relays() == 0) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return false;
}

TEST(Link, UnshapedConnectReturnsTheConnectionItself) {
  net::Socket listener = ListenOrDie("127.0.0.1:0");
  std::unique_ptr<Link> link = MakeLink(ShapingProfile());
  absl::StatusOr<net::Socket> socket =
      link->Connect(AddressOf(listener), Deadline());
  ASSERT_TRUE(socket.ok()) << socket.status();
  EXPECT_EQ(socket->transport(), net::Transport::kTcp);
  absl::StatusOr<net::Address> peer = socket->PeerAddress();
  ASSERT_TRUE(peer.ok());
  EXPECT_EQ(*peer, AddressOf(listener));
  EXPECT_EQ(link->open_relays(), 0u);
}

TEST(Link, BlockingFormDelaysBothDirections) {
  const int fds_before = CountOpenFds();
  {
    net::Socket listener = ListenOrDie("127.0.0.1:0");
    std::unique_ptr<Link> link = MakeLink(WithLatency(kLatency));
    absl::StatusOr<net::Socket> client =
        link->Connect(AddressOf(listener), Deadline());
    ASSERT_TRUE(client.ok()) << client.status();
    EXPECT_EQ(client->transport(), net::Transport::kUnixStream);
    absl::StatusOr<net::Socket> server =
        net::AcceptBlocking(listener, Deadline());
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_EQ(link->open_relays(), 1u);

    // The shaping thread delivers while this thread blocks in its reads.
    for (int i = 0; i < 5; ++i) {
      SendStamp(*client);
      absl::Duration up = ReceiveStamp(*server);
      EXPECT_GE(up, kLatency);
      EXPECT_LT(up, kLatency + kSlack);
      SendStamp(*server);
      absl::Duration down = ReceiveStamp(*client);
      EXPECT_GE(down, kLatency);
      EXPECT_LT(down, kLatency + kSlack);
    }

    // Closing both ends finishes the relay.
    client->Close();
    char byte;
    absl::StatusOr<size_t> end =
        net::ReadSome(*server, absl::MakeSpan(&byte, 1), Deadline());
    ASSERT_TRUE(end.ok()) << end.status();
    EXPECT_EQ(*end, 0u);
    server->Close();
    EXPECT_TRUE(WaitForNoRelays(*link));
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST(Link, RefusedConnectIsReportedAsRefused) {
  std::unique_ptr<Link> link = MakeLink(WithLatency(kLatency));
  absl::StatusOr<net::Socket> socket =
      link->Connect(RefusingTcpAddress(), Deadline());
  ASSERT_FALSE(socket.ok());
  EXPECT_NE(socket.status().message().find("Connection refused"),
            std::string::npos)
      << socket.status();
  EXPECT_EQ(link->open_relays(), 0u);
}

TEST(Link, RejectsAnInvalidProfileNamingTheField) {
  ShapingProfile profile = WithLatency(kLatency);
  profile.datagram.server_to_client.loss = 2;
  absl::StatusOr<std::unique_ptr<Link>> link = Link::Create(profile);
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(link.status().message().find("loss"), std::string::npos);
}

TEST(Link, ManyThreadsShareOneShapingThread) {
  net::Socket listener = ListenOrDie("127.0.0.1:0");
  std::unique_ptr<Link> link = MakeLink(WithLatency(kLatency));
  constexpr int kThreads = 8;
  // Each client thread connects and sends a stamp; this thread accepts and
  // checks each one's delay.
  std::vector<std::thread> clients;
  std::vector<net::Socket> sockets(kThreads);
  for (int i = 0; i < kThreads; ++i) {
    clients.emplace_back([&, i] {
      absl::StatusOr<net::Socket> socket =
          link->Connect(AddressOf(listener), Deadline());
      ASSERT_TRUE(socket.ok()) << socket.status();
      SendStamp(*socket);
      sockets[i] = *std::move(socket);
    });
  }
  for (int i = 0; i < kThreads; ++i) {
    absl::StatusOr<net::Socket> server =
        net::AcceptBlocking(listener, Deadline());
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_GE(ReceiveStamp(*server), kLatency);
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(link->open_relays(), static_cast<size_t>(kThreads));
}

TEST(Link, DestroyingTheLinkClosesItsConnections) {
  net::Socket listener = ListenOrDie("127.0.0.1:0");
  std::unique_ptr<Link> link = MakeLink(WithLatency(absl::Seconds(5)));
  absl::StatusOr<net::Socket> client =
      link->Connect(AddressOf(listener), Deadline());
  ASSERT_TRUE(client.ok()) << client.status();
  link.reset();
  char byte;
  absl::StatusOr<size_t> end =
      net::ReadSome(*client, absl::MakeSpan(&byte, 1), Deadline());
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_EQ(*end, 0u);
}

TEST(Link, ReactorFormDeliversOnTheCallersLoop) {
  absl::StatusOr<std::unique_ptr<net::EventLoop>> loop =
      net::EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  net::Socket listener = ListenOrDie("127.0.0.1:0");
  absl::StatusOr<std::unique_ptr<Link>> link =
      Link::CreateOnLoop(loop->get(), WithLatency(kLatency));
  ASSERT_TRUE(link.ok()) << link.status();
  absl::StatusOr<net::Socket> client =
      (*link)->Connect(AddressOf(listener), Deadline());
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<net::Socket> server =
      net::AcceptBlocking(listener, Deadline());
  ASSERT_TRUE(server.ok()) << server.status();

  absl::Time sent_at = absl::Now();
  ASSERT_TRUE(client->Write("ping").ok());
  // Nothing moves unless this thread runs the loop.
  absl::SleepFor(kLatency + absl::Milliseconds(5));
  EXPECT_EQ(Drain(*server).bytes, "");
  std::string got;
  ASSERT_TRUE(RunUntil(**loop, [&] {
    got += Drain(*server).bytes;
    return got.size() >= 4;
  }));
  EXPECT_EQ(got, "ping");
  EXPECT_GE(absl::Now() - sent_at, kLatency);
  EXPECT_EQ((*link)->open_relays(), 1u);
  link->reset();
}

ShapingProfile WithFaults(absl::string_view spec) {
  ShapingProfile profile;
  profile.faults = PlanOrDie(spec);
  return profile;
}

// Ends is one connection made through a Link: the client's socket and the
// server's accepted one.
struct Ends {
  net::Socket client;
  net::Socket server;
};

// ConnectOrDie connects through `link` to `listener` and accepts.
Ends ConnectOrDie(Link& link, net::Socket& listener) {
  absl::StatusOr<net::Socket> client =
      link.Connect(AddressOf(listener), Deadline());
  ASYNCWORK_CHECK(client.ok()) << client.status();
  absl::StatusOr<net::Socket> server = net::AcceptBlocking(listener, Deadline());
  ASYNCWORK_CHECK(server.ok()) << server.status();
  return Ends{*std::move(client), *std::move(server)};
}

TEST(LinkFaults, FaultsAloneMakeTheLinkRelay) {
  net::Socket listener = ListenOrDie("127.0.0.1:0");
  std::unique_ptr<Link> link = MakeLink(WithFaults("slice=1"));
  absl::StatusOr<net::Socket> client =
      link->Connect(AddressOf(listener), Deadline());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->transport(), net::Transport::kUnixStream);
  EXPECT_EQ(link->open_relays(), 1u);
}

TEST(LinkFaults, CloseAfterCutsEveryNthConnectionOnly) {
  const int fds_before = CountOpenFds();
  {
    net::Socket listener = ListenOrDie("127.0.0.1:0");
    std::unique_ptr<Link> link =
        MakeLink(WithFaults("close_after=4,every=2"));
    const std::string request = "hello world";
    for (int n = 1; n <= 2; ++n) {
      Ends ends = ConnectOrDie(*link, listener);
      net::Socket* client = &ends.client;
      net::Socket* server = &ends.server;
      ASSERT_TRUE(net::WriteAll(*client, request, Deadline()).ok());
      if (n == 2) {
        std::string got(request.size(), '\0');
        ASSERT_TRUE(
            net::ReadExactly(*server, absl::MakeSpan(got), Deadline()).ok());
        EXPECT_EQ(got, request);
        continue;
      }
      std::string at_server;
      EXPECT_TRUE(ReadToEnd(*server, Deadline(), &at_server).ok());
      EXPECT_EQ(at_server, "hell");
      std::string at_client;
      EXPECT_TRUE(ReadToEnd(*client, Deadline(), &at_client).ok());
      EXPECT_EQ(at_client, "");
    }
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST(LinkFaults, ResetAfterResetsTheClientOverTcp) {
  net::Socket listener = ListenOrDie("127.0.0.1:0");
  std::unique_ptr<Link> link = MakeLink(WithFaults("reset_after=4"));
  Ends ends = ConnectOrDie(*link, listener);
  net::Socket* client = &ends.client;
  net::Socket* server = &ends.server;
  // A Unix socket cannot be reset on demand; a loopback TCP one can.
  EXPECT_EQ(ends.client.transport(), net::Transport::kTcp);
  ASSERT_TRUE(net::WriteAll(*client, "hello world", Deadline()).ok());
  std::string at_server;
  absl::Status server_end = ReadToEnd(*server, Deadline(), &at_server);
  EXPECT_NE(server_end.message().find("reset"), std::string::npos)
      << server_end;
  EXPECT_EQ(at_server, std::string("hell").substr(0, at_server.size()));
  std::string at_client;
  absl::Status client_end = ReadToEnd(*client, Deadline(), &at_client);
  EXPECT_NE(client_end.message().find("reset"), std::string::npos)
      << client_end;
  EXPECT_EQ(at_client, "");
}

TEST(LinkFaults, StalledConnectionStaysOpenUntilTheLinkIsDestroyed) {
  const int fds_before = CountOpenFds();
  {
    net::Socket listener = ListenOrDie("127.0.0.1:0");
    std::unique_ptr<Link> link = MakeLink(WithFaults("stall_after=3"));
    Ends ends = ConnectOrDie(*link, listener);
    net::Socket* client = &ends.client;
    net::Socket* server = &ends.server;
    ASSERT_TRUE(net::WriteAll(*client, "hello world", Deadline()).ok());
    std::string got(3, '\0');
    ASSERT_TRUE(net::ReadExactly(*server, absl::MakeSpan(got), Deadline()).ok());
    EXPECT_EQ(got, "hel");
    ASSERT_TRUE(net::WriteAll(*server, "answer", Deadline()).ok());
    char byte;
    absl::Time soon = absl::Now() + absl::Milliseconds(150);
    EXPECT_TRUE(absl::IsDeadlineExceeded(
        net::ReadSome(*server, absl::MakeSpan(&byte, 1), soon).status()));
    EXPECT_TRUE(absl::IsDeadlineExceeded(
        net::ReadSome(*client, absl::MakeSpan(&byte, 1), soon).status()));
    EXPECT_EQ(link->open_relays(), 1u);
    link.reset();
    std::string rest;
    EXPECT_TRUE(ReadToEnd(*client, Deadline(), &rest).ok());
    EXPECT_TRUE(ReadToEnd(*server, Deadline(), &rest).ok());
    EXPECT_EQ(rest, "");
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

TEST(LinkFaults, SliceKeepsEveryByte) {
  net::Socket listener = ListenOrDie("127.0.0.1:0");
  std::unique_ptr<Link> link = MakeLink(WithFaults("slice=2"));
  Ends ends = ConnectOrDie(*link, listener);
  net::Socket* client = &ends.client;
  net::Socket* server = &ends.server;
  const std::string answer = testing::Pattern(101, 3);
  ASSERT_TRUE(net::WriteAll(*server, answer, Deadline()).ok());
  std::string got(answer.size(), '\0');
  ASSERT_TRUE(net::ReadExactly(*client, absl::MakeSpan(got), Deadline()).ok());
  EXPECT_EQ(got, answer);
}

TEST(LinkFaults, ConnectDelayBlockingFormConnectTakesAtLeastTheDelay) {
  net::Socket listener = ListenOrDie("127.0.0.1:0");
  std::unique_ptr<Link> link = MakeLink(WithFaults("connect_delay=100ms"));
  absl::Time start = absl::Now();
  absl::StatusOr<net::Socket> client =
      link->Connect(AddressOf(listener), Deadline());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
}

TEST(LinkFaults, ConnectDelayBlockingFormHonoursTheDeadline) {
  net::Socket listener = ListenOrDie("127.0.0.1:0");
  std::unique_ptr<Link> link = MakeLink(WithFaults("connect_delay=30s"));
  absl::Time start = absl::Now();
  absl::StatusOr<net::Socket> client = link->Connect(
      AddressOf(listener), absl::Now() + absl::Milliseconds(50));
  EXPECT_TRUE(absl::IsDeadlineExceeded(client.status())) << client.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(LinkFaults, ConnectDelayReactorFormHoldsTheFirstByte) {
  absl::StatusOr<std::unique_ptr<net::EventLoop>> loop =
      net::EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  net::Socket listener = ListenOrDie("127.0.0.1:0");
  absl::StatusOr<std::unique_ptr<Link>> link =
      Link::CreateOnLoop(loop->get(), WithFaults("connect_delay=100ms"));
  ASSERT_TRUE(link.ok()) << link.status();
  absl::Time start = absl::Now();
  absl::StatusOr<net::Socket> client =
      (*link)->Connect(AddressOf(listener), Deadline());
  ASSERT_TRUE(client.ok()) << client.status();
  absl::StatusOr<net::Socket> server =
      net::AcceptBlocking(listener, Deadline());
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(client->Write("ping").ok());
  std::string got;
  ASSERT_TRUE(RunUntil(**loop, [&] {
    got += Drain(*server).bytes;
    return got.size() >= 4;
  }));
  EXPECT_EQ(got, "ping");
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  link->reset();
}

TEST(LinkFaults, ReactorFormStallThenDestroyClosesBoth) {
  const int fds_before = CountOpenFds();
  {
    absl::StatusOr<std::unique_ptr<net::EventLoop>> loop =
        net::EventLoop::Create();
    ASSERT_TRUE(loop.ok());
    net::Socket listener = ListenOrDie("127.0.0.1:0");
    absl::StatusOr<std::unique_ptr<Link>> link =
        Link::CreateOnLoop(loop->get(), WithFaults("stall_after=0"));
    ASSERT_TRUE(link.ok()) << link.status();
    absl::StatusOr<net::Socket> client =
        (*link)->Connect(AddressOf(listener), Deadline());
    ASSERT_TRUE(client.ok()) << client.status();
    absl::StatusOr<net::Socket> server =
        net::AcceptBlocking(listener, Deadline());
    ASSERT_TRUE(server.ok()) << server.status();
    ASSERT_TRUE(client->Write("ping").ok());
    absl::Time until = absl::Now() + absl::Milliseconds(100);
    std::string got;
    RunUntil(**loop, [&] {
      got += Drain(*server).bytes;
      return absl::Now() >= until;
    });
    EXPECT_EQ(got, "");
    EXPECT_EQ((*link)->open_relays(), 1u);
    link->reset();
    std::string rest;
    EXPECT_TRUE(ReadToEnd(*client, Deadline(), &rest).ok());
    EXPECT_TRUE(ReadToEnd(*server, Deadline(), &rest).ok());
  }
  EXPECT_EQ(CountOpenFds(), fds_before);
}

// LinkDatagramTest runs each datagram case over UDP and Unix datagrams.
class LinkDatagramTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Server listens on the parameter's address.
  net::Socket Server() {
    std::string address = GetParam();
    if (address == "unixgram") {
      address = absl::StrCat("unixgram:@asyncwork-shaper-test-", ::getpid());
    }
    return ListenOrDie(address);
  }
};

TEST_P(LinkDatagramTest, DelaysBothDirectionsAndTheServerCanReply) {
  net::Socket server = Server();
  std::unique_ptr<Link> link = MakeLink(WithLatency(kLatency));
  absl::StatusOr<net::Socket> client =
      link->Connect(AddressOf(server), Deadline());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->transport(), net::Transport::kUnixDatagram);

  absl::Time sent_at = absl::Now();
  ASSERT_TRUE(client->Write("ping").ok());
  ASSERT_TRUE(net::WaitReadable(server.fd(), Deadline()).ok());
  char buffer[16];
  net::Address from;
  absl::StatusOr<net::IoResult> got =
      server.RecvFrom(absl::MakeSpan(buffer), &from);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(absl::string_view(buffer, got->bytes), "ping");
  EXPECT_GE(absl::Now() - sent_at, kLatency);

  ASSERT_TRUE(server.SendTo("pong", from).ok());
  ASSERT_TRUE(net::WaitReadable(client->fd(), Deadline()).ok());
  got = client->Read(absl::MakeSpan(buffer));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(absl::string_view(buffer, got->bytes), "pong");
  EXPECT_GE(absl::Now() - sent_at, 2 * kLatency);
}

TEST_P(LinkDatagramTest, LossDropsWhatTheModelLoses) {
  net::Socket server = Server();
  ShapingProfile profile;
  profile.datagram.client_to_server.loss = 1;
  std::unique_ptr<Link> link = MakeLink(profile);
  absl::StatusOr<net::Socket> client =
      link->Connect(AddressOf(server), Deadline());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->transport(), net::Transport::kUnixDatagram);
  ASSERT_TRUE(client->Write("lost").ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(net::WaitReadable(
      server.fd(), absl::Now() + absl::Milliseconds(100))));
}

INSTANTIATE_TEST_SUITE_P(Transports, LinkDatagramTest,
                         ::testing::Values("udp://127.0.0.1:0", "unixgram"));

}  // namespace
}  // namespace asyncwork::sim
