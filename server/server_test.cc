// Every server kind, over every transport it serves, answers every op.
#include "server/server.h"

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"
#include "net/address.h"
#include "server/log_capture.h"
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
    ::testing::Combine(::testing::ValuesIn(kAllServerKinds),
                       ::testing::Values(Listen::kTcp4, Listen::kTcp6,
                                         Listen::kUnix, Listen::kUdp4,
                                         Listen::kUdp6, Listen::kUnixgram)),
    [](const auto& info) {
      return absl::StrCat(ServerKindName(std::get<0>(info.param)), "_",
                          ListenName(std::get<1>(info.param)));
    });

constexpr ServerKind kStreamKinds[] = {
    ServerKind::kBlocking, ServerKind::kThreading, ServerKind::kForking,
    ServerKind::kPool, ServerKind::kEpoll};

std::string KindTestName(const ::testing::TestParamInfo<ServerKind>& info) {
  return std::string(ServerKindName(info.param));
}

// Start starts a `kind` server on 127.0.0.1 with short limits, so bad input
// is seen quickly: frames up to 1024 bytes, 300 ms of idleness.
std::unique_ptr<RunningServer> Start(ServerKind kind,
                                     ServerOptions options = {}) {
  options.pool_size = 4;
  absl::StatusOr<std::unique_ptr<RunningServer>> server =
      StartServer(kind, *net::Address::Parse("127.0.0.1:0"), options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

constexpr absl::Duration kShortIdle = absl::Milliseconds(300);

ServerOptions ShortLimits() {
  ServerOptions options;
  options.max_frame = 1024;
  options.idle_timeout = kShortIdle;
  return options;
}

class StreamKindTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(StreamKindTest, HalfClosedClientGetsEveryAnswerThenEndOfStream) {
  std::unique_ptr<RunningServer> server = Start(GetParam());
  ASSERT_NE(server, nullptr);
  absl::StatusOr<TestClient> client = TestClient::Connect(server->address());
  ASSERT_TRUE(client.ok());
  std::vector<RequestView> requests = {
      {.id = 1, .op = Op::kSleep, .arg = 200000, .data = "slow"},
      {.id = 2, .op = Op::kEcho, .data = "fast"},
      {.id = 3, .op = Op::kSleep, .arg = 100000, .data = "slower"},
  };
  for (const RequestView& request : requests) {
    ASSERT_TRUE(client->Send(request).ok());
  }
  ASSERT_TRUE(client->ShutdownWrite().ok());
  // Answers may come in any order (the epoll server sends the ECHO first).
  std::vector<bool> answered(requests.size(), false);
  for (size_t i = 0; i < requests.size(); ++i) {
    absl::StatusOr<std::optional<std::string>> body = client->ReceiveBody();
    ASSERT_TRUE(body.ok() && body->has_value()) << body.status();
    absl::StatusOr<framing::ResponseView> response =
        framing::ParseResponse(**body);
    ASSERT_TRUE(response.ok());
    ASSERT_TRUE(response->id >= 1 && response->id <= requests.size());
    EXPECT_FALSE(answered[response->id - 1]);
    answered[response->id - 1] = true;
    EXPECT_TRUE(
        testing::VerifiedResult(requests[response->id - 1], **body).ok());
  }
  absl::StatusOr<std::optional<std::string>> end = client->ReceiveBody();
  ASSERT_TRUE(end.ok()) << end.status();
  EXPECT_FALSE(end->has_value());
}

TEST_P(StreamKindTest, OnlyTheBlockingServerIsHeldUpBySleep) {
  std::unique_ptr<RunningServer> server = Start(GetParam());
  ASSERT_NE(server, nullptr);
  std::atomic<bool> sleep_sent{false};
  std::atomic<bool> sleep_answered{false};
  std::thread sleeper([&] {
    absl::StatusOr<TestClient> a = TestClient::Connect(server->address());
    ASSERT_TRUE(a.ok());
    RequestView sleep{.id = 1, .op = Op::kSleep, .arg = 600000};
    ASSERT_TRUE(a->Send(sleep).ok());
    sleep_sent = true;
    absl::StatusOr<std::optional<std::string>> body = a->ReceiveBody();
    sleep_answered = true;
    ASSERT_TRUE(body.ok() && body->has_value());
    EXPECT_TRUE(testing::VerifiedResult(sleep, **body).ok());
  });  // a closes here, which frees the blocking server
  absl::Time deadline = testing::GenerousDeadline();
  while (!sleep_sent && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  absl::StatusOr<TestClient> b = TestClient::Connect(server->address());
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->Call({.id = 2, .op = Op::kEcho, .data = "b"}).ok());
  // The blocking server answers b only after a's connection ends; every
  // other server answers b while a's SLEEP is still running.
  EXPECT_EQ(sleep_answered.load(), GetParam() == ServerKind::kBlocking);
  sleeper.join();
}

TEST_P(StreamKindTest, SleepLongerThanTheIdleTimeoutIsStillAnswered) {
  ServerOptions options;
  options.idle_timeout = absl::Milliseconds(150);
  std::unique_ptr<RunningServer> server = Start(GetParam(), options);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<TestClient> client = TestClient::Connect(server->address());
  ASSERT_TRUE(client.ok());
  // Waiting for the server's own answer is not the client being idle.
  EXPECT_TRUE(client->Call({.id = 1, .op = Op::kSleep, .arg = 400000}).ok());
}

enum class BadInput { kOversizeLength, kShortBody, kGarbage, kMidFrameClose,
                      kStall };

// ExpectedLog is part of the log line the server writes when it closes the
// connection for `bad`.
const char* ExpectedLog(BadInput bad) {
  switch (bad) {
    case BadInput::kOversizeLength: return "frame too large (1025 > 1024)";
    case BadInput::kShortBody: return "short body";
    case BadInput::kGarbage: return "frame too large";
    case BadInput::kMidFrameClose: return "truncated frame";
    case BadInput::kStall: return "idle timeout (300ms)";
  }
  return "?";
}

const char* BadInputName(BadInput bad) {
  switch (bad) {
    case BadInput::kOversizeLength: return "OversizeLength";
    case BadInput::kShortBody: return "ShortBody";
    case BadInput::kGarbage: return "Garbage";
    case BadInput::kMidFrameClose: return "MidFrameClose";
    case BadInput::kStall: return "Stall";
  }
  return "?";
}

class BadInputTest
    : public ::testing::TestWithParam<std::tuple<ServerKind, BadInput>> {};

TEST_P(BadInputTest, ClosesThatConnectionOnlyWithALogLineAndKeepsServing) {
  auto [kind, bad_input] = GetParam();
  testing::LogCapture log;
  std::unique_ptr<RunningServer> server = Start(kind, ShortLimits());
  ASSERT_NE(server, nullptr);
  // A blocking server serves one connection at a time, so its good client
  // comes after the bad one; every other server holds both at once.
  std::optional<TestClient> good;
  if (kind != ServerKind::kBlocking) {
    good.emplace(*TestClient::Connect(server->address()));
    ASSERT_TRUE(good->Call({.id = 1, .data = "before"}).ok());
  }
  absl::Time start = absl::Now();
  absl::StatusOr<TestClient> bad = TestClient::Connect(server->address());
  ASSERT_TRUE(bad.ok());
  switch (bad_input) {
    case BadInput::kOversizeLength:  // 1025 > the 1024-byte limit
      ASSERT_TRUE(bad->SendBytes(std::string("\0\0\x04\x01", 4)).ok());
      break;
    case BadInput::kShortBody:  // 8 bytes, less than a message header
      ASSERT_TRUE(bad->SendBytes(std::string("\0\0\0\x08" "abcdefgh", 12)).ok());
      break;
    case BadInput::kGarbage:
      ASSERT_TRUE(bad->SendBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
      break;
    case BadInput::kMidFrameClose:  // 10 of 100 promised bytes, then gone
    case BadInput::kStall:          // 10 of 100 promised bytes, then nothing
      ASSERT_TRUE(bad->SendBytes(std::string("\0\0\0\x64" "0123456789", 14)).ok());
      break;
  }
  // Meanwhile the good client keeps being served (and, pinging, is never
  // idle long enough to be closed itself).
  std::atomic<bool> bad_done{false};
  std::atomic<int> pings{0};
  std::thread pinger([&] {
    if (!good.has_value()) return;
    for (uint64_t id = 100; !bad_done; ++id) {
      ASSERT_TRUE(good->Call({.id = id, .data = "meanwhile"}).ok());
      ++pings;
      absl::SleepFor(absl::Milliseconds(20));
    }
  });
  if (bad_input == BadInput::kMidFrameClose) {
    bad->socket().Close();
  } else {
    EXPECT_TRUE(bad->ExpectClosed().ok());
    if (bad_input == BadInput::kStall) {
      EXPECT_GE(absl::Now() - start, kShortIdle);
    }
  }
  EXPECT_TRUE(log.WaitFor(ExpectedLog(bad_input))) << log.Text();
  bad_done = true;
  pinger.join();
  if (good.has_value() && bad_input == BadInput::kStall) {
    EXPECT_GT(pings.load(), 1);
  }
  if (!good.has_value()) good.emplace(*TestClient::Connect(server->address()));
  EXPECT_TRUE(good->Call({.id = 2, .data = "after"}).ok());
  // A frame of exactly the limit is still fine.
  std::string data(1024 - framing::kMessageHeaderSize, 'm');
  EXPECT_TRUE(good->Call({.id = 3, .op = Op::kReverse, .data = data}).ok());
}

INSTANTIATE_TEST_SUITE_P(Kinds, StreamKindTest, ::testing::ValuesIn(kStreamKinds),
                         KindTestName);

INSTANTIATE_TEST_SUITE_P(
    Kinds, BadInputTest,
    ::testing::Combine(::testing::ValuesIn(kStreamKinds),
                       ::testing::Values(BadInput::kOversizeLength,
                                         BadInput::kShortBody,
                                         BadInput::kGarbage,
                                         BadInput::kMidFrameClose,
                                         BadInput::kStall)),
    [](const auto& info) {
      return absl::StrCat(ServerKindName(std::get<0>(info.param)), "_",
                          BadInputName(std::get<1>(info.param)));
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
  struct Case {
    void (*spoil)(ServerOptions&);
    const char* message;
  };
  const Case cases[] = {
      {[](ServerOptions& o) { o.threads = 0; }, "threads=0: must be 1 to 256"},
      {[](ServerOptions& o) { o.max_frame = 8; },
       "max_frame=8: must be 16 to 16777216"},
      {[](ServerOptions& o) { o.idle_timeout = absl::ZeroDuration(); },
       "idle_timeout=0: must be positive"},
      {[](ServerOptions& o) { o.max_in_flight = 0; },
       "max_in_flight=0: must be 1 to 1000000"},
      {[](ServerOptions& o) { o.high_water_mark = 0; },
       "high_water_mark=0: must be 1 to 1073741824"},
      {[](ServerOptions& o) {
         o.high_water_mark = 1000;
         o.low_water_mark = 1001;
       },
       "low_water_mark=1001: must be 0 to 1000"},
  };
  for (const Case& bad : cases) {
    ServerOptions options;
    bad.spoil(options);
    EXPECT_EQ(ValidateServerOptions(options).message(), bad.message);
  }
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

TEST(StartServer, StopRightAfterStartIsCleanForEveryKind) {
  // Stop may come before the serving thread (or an epoll loop) has run at
  // all: it must neither abort nor report an error from serving.
  for (ServerKind kind : kAllServerKinds) {
    for (const char* listen : {"127.0.0.1:0", "udp://127.0.0.1:0"}) {
      for (int i = 0; i < 10; ++i) {
        SCOPED_TRACE(absl::StrCat(ServerKindName(kind), " ", listen, " #", i));
        ServerOptions options;
        options.pool_size = 2;
        absl::StatusOr<std::unique_ptr<RunningServer>> server =
            StartServer(kind, *net::Address::Parse(listen), options);
        ASSERT_TRUE(server.ok()) << server.status();
        absl::Status stopped = (*server)->Stop();
        EXPECT_TRUE(stopped.ok()) << stopped;
      }
    }
  }
}

}  // namespace
}  // namespace asyncwork::server
