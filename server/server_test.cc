// Every server kind, over every transport it serves, answers every op.
#include "server/server.h"

#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"
#include "net/address.h"
#include "server/test_client.h"

namespace asyncwork::server {
namespace {

using framing::Op;
using framing::RequestView;
using testing::DatagramTestClient;
using testing::TestClient;
using testing::UniqueAbstractAddress;

enum class Listen { kTcp4, kTcp6, kUnix, kUdp4, kUdp6, kUnixgram };

const char* ListenName(Listen listen) {
  switch (listen) {
    case Listen::kTcp4: return "tcp4";
    case Listen::kTcp6: return "tcp6";
    case Listen::kUnix: return "unix";
    case Listen::kUdp4: return "udp4";
    case Listen::kUdp6: return "udp6";
    case Listen::kUnixgram: return "unixgram";
  }
  return "?";
}

net::Address ListenAddress(Listen listen) {
  switch (listen) {
    case Listen::kTcp4: return *net::Address::Parse("127.0.0.1:0");
    case Listen::kTcp6: return *net::Address::Parse("[::1]:0");
    case Listen::kUnix: return UniqueAbstractAddress(net::Transport::kUnixStream);
    case Listen::kUdp4: return *net::Address::Parse("udp://127.0.0.1:0");
    case Listen::kUdp6: return *net::Address::Parse("udp://[::1]:0");
    case Listen::kUnixgram:
      return UniqueAbstractAddress(net::Transport::kUnixDatagram);
  }
  return net::Address();
}

// The requests every server must answer correctly; VerifyResponse computes
// the expected answer independently of the server.
std::vector<RequestView> EveryOp(const std::string& large) {
  return {
      {.id = 1, .op = Op::kEcho, .data = "hello"},
      {.id = 2, .op = Op::kEcho, .data = ""},
      {.id = 3, .op = Op::kReverse, .data = "abcdef"},
      {.id = 4, .op = Op::kHash, .arg = 3, .data = "foobar"},
      {.id = 5, .op = Op::kHash, .arg = 0, .data = "a"},
      {.id = 6, .op = Op::kSleep, .arg = 2000, .data = "zz"},
      {.id = 7, .op = static_cast<Op>(9), .data = "?"},
      {.id = 8, .op = Op::kEcho, .data = "x", .flags = 1},
      {.id = 9, .op = Op::kReverse, .data = large},
  };
}

class EveryKindTest
    : public ::testing::TestWithParam<std::tuple<ServerKind, Listen>> {};

TEST_P(EveryKindTest, AnswersEveryOp) {
  auto [kind, listen] = GetParam();
  net::Address address = ListenAddress(listen);
  if (!ServerKindServes(kind, address.transport())) {
    GTEST_SKIP() << ServerKindName(kind) << " does not serve "
                 << net::TransportName(address.transport());
  }
  ServerOptions options;
  options.pool_size = 2;
  absl::StatusOr<std::unique_ptr<RunningServer>> server =
      StartServer(kind, address, options);
  ASSERT_TRUE(server.ok()) << server.status();
  if (address.transport() == net::Transport::kTcp ||
      address.transport() == net::Transport::kUdp) {
    EXPECT_NE((*server)->address().port(), 0);
  }
  // Larger than socketserver's 8 KiB datagram limit, within UDP's.
  std::string large(address.is_stream() ? 200000 : 60000, 'q');
  for (size_t i = 0; i < large.size(); ++i) large[i] = 'a' + i % 26;

  if (address.is_stream()) {
    absl::StatusOr<TestClient> client = TestClient::Connect((*server)->address());
    ASSERT_TRUE(client.ok()) << client.status();
    for (const RequestView& request : EveryOp(large)) {
      absl::Time sent = absl::Now();
      absl::StatusOr<std::string> result = client->Call(request);
      ASSERT_TRUE(result.ok()) << "request " << request.id << ": "
                               << result.status();
      if (request.op == Op::kSleep) {
        EXPECT_GE(absl::Now() - sent, absl::Microseconds(request.arg));
      }
    }
  } else {
    absl::StatusOr<DatagramTestClient> client =
        DatagramTestClient::Create((*server)->address());
    ASSERT_TRUE(client.ok()) << client.status();
    for (const RequestView& request : EveryOp(large)) {
      absl::StatusOr<std::string> result = client->Call(request);
      ASSERT_TRUE(result.ok()) << "request " << request.id << ": "
                               << result.status();
    }
  }
  EXPECT_TRUE((*server)->Stop().ok());
  EXPECT_TRUE((*server)->Stop().ok());  // a second Stop is harmless
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, EveryKindTest,
    ::testing::Combine(::testing::Values(ServerKind::kBlocking,
                                         ServerKind::kThreading,
                                         ServerKind::kForking,
                                         ServerKind::kPool),
                       ::testing::Values(Listen::kTcp4, Listen::kTcp6,
                                         Listen::kUnix, Listen::kUdp4,
                                         Listen::kUdp6, Listen::kUnixgram)),
    [](const auto& info) {
      return absl::StrCat(ServerKindName(std::get<0>(info.param)), "_",
                          ListenName(std::get<1>(info.param)));
    });

TEST(ServerKind, ParsesEveryNameAndRejectsOthers) {
  for (ServerKind kind : kAllServerKinds) {
    absl::StatusOr<ServerKind> parsed = ParseServerKind(ServerKindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  absl::StatusOr<ServerKind> bad = ParseServerKind("asyncore");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"asyncore\""), std::string::npos);
}

TEST(ServerOptions, ValidationNamesTheOption) {
  EXPECT_TRUE(ValidateServerOptions(ServerOptions{}).ok());
  ServerOptions options;
  options.threads = 0;
  EXPECT_EQ(ValidateServerOptions(options).message(),
            "threads=0: must be 1 to 256");
  options = ServerOptions{};
  options.max_frame = 8;
  EXPECT_NE(ValidateServerOptions(options).message().find("max_frame=8"),
            std::string::npos);
  options = ServerOptions{};
  options.idle_timeout = absl::ZeroDuration();
  EXPECT_NE(ValidateServerOptions(options).message().find("idle_timeout=0"),
            std::string::npos);
}

TEST(StartServer, RefusesBadOptionsAndBusyAddresses) {
  ServerOptions options;
  options.pool_size = 0;
  EXPECT_FALSE(StartServer(ServerKind::kPool,
                           *net::Address::Parse("127.0.0.1:0"), options)
                   .ok());
  absl::StatusOr<std::unique_ptr<RunningServer>> first = StartServer(
      ServerKind::kBlocking, *net::Address::Parse("127.0.0.1:0"), {});
  ASSERT_TRUE(first.ok());
  absl::StatusOr<std::unique_ptr<RunningServer>> second =
      StartServer(ServerKind::kBlocking, (*first)->address(), {});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("bind"), std::string::npos)
      << second.status();
}

}  // namespace
}  // namespace asyncwork::server
