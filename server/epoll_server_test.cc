// What the epoll server does that the socketserver family cannot.
#include "server/epoll_server.h"

#include <poll.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "framing/frame.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"
#include "server/test_client.h"

namespace asyncwork::server {
namespace {

using framing::Op;
using framing::RequestView;
using testing::TestClient;

std::unique_ptr<EpollServer> StartEpoll(EpollServerOptions options = {}) {
  absl::StatusOr<std::unique_ptr<EpollServer>> server =
      EpollServer::Start(*net::Address::Parse("127.0.0.1:0"), options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

// NextId receives one answer, checks it, and returns its id.
uint64_t NextId(TestClient& client, const std::vector<RequestView>& sent) {
  absl::StatusOr<std::optional<std::string>> body = client.ReceiveBody();
  EXPECT_TRUE(body.ok() && body->has_value()) << body.status();
  if (!body.ok() || !body->has_value()) return 0;
  absl::StatusOr<framing::ResponseView> response =
      framing::ParseResponse(**body);
  EXPECT_TRUE(response.ok());
  for (const RequestView& request : sent) {
    if (request.id == response->id) {
      EXPECT_TRUE(testing::VerifiedResult(request, **body).ok());
    }
  }
  return response->id;
}

bool ReadableNow(TestClient& client) {
  struct pollfd entry = {client.socket().fd(), POLLIN, 0};
  return ::poll(&entry, 1, 0) == 1;
}

TEST(EpollServer, AnswersAnEchoSentAfterASleepBeforeTheSleep) {
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    std::unique_ptr<EpollServer> server = StartEpoll({.threads = threads});
    ASSERT_NE(server, nullptr);
    TestClient client = *TestClient::Connect(server->address());
    std::vector<RequestView> sent = {
        {.id = 1, .op = Op::kSleep, .arg = 500000, .data = "late"},
        {.id = 2, .op = Op::kEcho, .data = "early"}};
    for (const RequestView& request : sent) {
      ASSERT_TRUE(client.Send(request).ok());
    }
    EXPECT_EQ(NextId(client, sent), 2u);
    EXPECT_EQ(NextId(client, sent), 1u);
    EXPECT_TRUE(server->Stop(testing::kGenerous).ok());
  }
}

TEST(EpollServer, ServesThousandsOfConnectionsAtOnce) {
  constexpr int kConnections = 2000;
  std::unique_ptr<EpollServer> server = StartEpoll({.threads = 2});
  ASSERT_NE(server, nullptr);
  std::vector<TestClient> clients;
  clients.reserve(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    absl::StatusOr<TestClient> client = TestClient::Connect(server->address());
    ASSERT_TRUE(client.ok()) << i << ": " << client.status();
    clients.push_back(std::move(*client));
    ASSERT_TRUE(clients.back().Send({.id = uint64_t(i), .data = "hi"}).ok());
  }
  // Every connection is open at once, and every one is answered.
  for (int i = 0; i < kConnections; ++i) {
    absl::StatusOr<std::optional<std::string>> body = clients[i].ReceiveBody();
    ASSERT_TRUE(body.ok() && body->has_value()) << i << ": " << body.status();
    ASSERT_TRUE(testing::VerifiedResult({.id = uint64_t(i), .data = "hi"},
                                        **body)
                    .ok());
  }
  EXPECT_EQ(server->connections(), size_t{kConnections});
  clients.clear();
  EXPECT_TRUE(server->Stop(testing::kGenerous).ok());
  EXPECT_EQ(server->connections(), 0u);
}

TEST(EpollServer, HashRunsOnTheLoopOrOnWorkers) {
  // A HASH costing a good fraction of a second, in a frame small enough to
  // be read whole at once (1 KiB, 50,000 rounds).
  std::string data(1 << 10, 'h');
  RequestView hash{.id = 1, .op = Op::kHash, .arg = 50000, .data = data};
  for (bool on_workers : {false, true}) {
    SCOPED_TRACE(on_workers ? "on workers" : "on the loop");
    std::unique_ptr<EpollServer> server =
        StartEpoll({.hash_on_workers = on_workers});
    ASSERT_NE(server, nullptr);
    TestClient a = *TestClient::Connect(server->address());
    TestClient b = *TestClient::Connect(server->address());
    ASSERT_TRUE(a.Send(hash).ok());
    ASSERT_TRUE(b.Call({.id = 2, .data = "quick"}).ok());
    // On the loop, the HASH's answer was written before the loop could even
    // read b's ECHO; on a worker, the ECHO overtakes it.
    EXPECT_EQ(ReadableNow(a), !on_workers);
    EXPECT_EQ(NextId(a, {hash}), 1u);
    EXPECT_TRUE(server->Stop(testing::kGenerous).ok());
  }
}

TEST(EpollServer, StopsReadingAConnectionThatIsOwedTooMuch) {
  std::unique_ptr<EpollServer> server =
      StartEpoll({.max_in_flight = 2});
  ASSERT_NE(server, nullptr);
  TestClient client = *TestClient::Connect(server->address());
  std::vector<RequestView> sent = {
      {.id = 1, .op = Op::kSleep, .arg = 200000},
      {.id = 2, .op = Op::kSleep, .arg = 200000},
      {.id = 3, .op = Op::kEcho, .data = "waits"}};
  for (const RequestView& request : sent) {
    ASSERT_TRUE(client.Send(request).ok());
  }
  // Two SLEEPs owed: the ECHO is not read until one of them is answered.
  EXPECT_NE(NextId(client, sent), 3u);
  EXPECT_TRUE(server->Stop(testing::kGenerous).ok());
}

TEST(EpollServer, StopSendsWhatIsOwedAndClosesTheRest) {
  std::unique_ptr<EpollServer> server = StartEpoll();
  ASSERT_NE(server, nullptr);
  TestClient idle = *TestClient::Connect(server->address());
  TestClient owed = *TestClient::Connect(server->address());
  ASSERT_TRUE(idle.Call({.id = 1}).ok());
  RequestView sleep{.id = 2, .op = Op::kSleep, .arg = 300000, .data = "z"};
  ASSERT_TRUE(owed.Send(sleep).ok());
  absl::SleepFor(absl::Milliseconds(50));  // the SLEEP is read
  EXPECT_TRUE(server->Stop(testing::kGenerous).ok());
  EXPECT_EQ(NextId(owed, {sleep}), 2u);
  EXPECT_TRUE(owed.ExpectClosed().ok());
  EXPECT_TRUE(idle.ExpectClosed().ok());
  EXPECT_EQ(server->connections(), 0u);
}

// Twice echoes each frame: once now, once 50 ms later, and records its
// Setup and Finish in counters the test reads.
class Twice : public AsyncStreamHandler {
 public:
  explicit Twice(std::atomic<int>* calls) : calls_(calls) {}
  void Setup(AsyncStreamRequest& request) override { ++calls_[0]; }
  void HandleFrame(AsyncStreamRequest& request,
                   absl::string_view body) override {
    ++calls_[1];
    std::string frame;
    framing::AppendFrame(body, &frame);
    request.AppendToOutput([&](std::string* out) { out->append(frame); });
    request.SendAt(absl::Now() + absl::Milliseconds(50), frame);
  }
  void Finish(AsyncStreamRequest& request,
              const absl::Status& reason) override {
    if (reason.ok()) ++calls_[2];
  }

 private:
  std::atomic<int>* calls_;
};

TEST(EpollServer, RunsAnyAsyncHandlerWithSetupHandleFrameFinish) {
  std::atomic<int> calls[3] = {0, 0, 0};  // Setup, HandleFrame, Finish(OK)
  absl::StatusOr<std::unique_ptr<EpollServer>> server = EpollServer::Start(
      *net::Address::Parse("127.0.0.1:0"), {},
      [&calls] { return std::make_unique<Twice>(calls); });
  ASSERT_TRUE(server.ok()) << server.status();
  TestClient client = *TestClient::Connect((*server)->address());
  std::string wire;
  framing::AppendFrame("one", &wire);
  framing::AppendFrame("two", &wire);
  ASSERT_TRUE(client.SendBytes(wire).ok());
  ASSERT_TRUE(client.ShutdownWrite().ok());
  std::vector<std::string> bodies;
  while (true) {
    absl::StatusOr<std::optional<std::string>> body = client.ReceiveBody();
    ASSERT_TRUE(body.ok()) << body.status();
    if (!body->has_value()) break;
    bodies.push_back(**body);
  }
  // Both answers to each frame, the later ones sent before the close.
  EXPECT_EQ(bodies, (std::vector<std::string>{"one", "two", "one", "two"}));
  EXPECT_TRUE((*server)->Stop(testing::kGenerous).ok());
  EXPECT_EQ(calls[0].load(), 1);
  EXPECT_EQ(calls[1].load(), 2);
  EXPECT_EQ(calls[2].load(), 1);
}

TEST(EpollServer, AnswersDatagramsWithoutBlockingTheLoop) {
  for (bool on_workers : {false, true}) {
    SCOPED_TRACE(on_workers ? "HASH on workers" : "HASH on the loop");
    std::unique_ptr<EpollServer> server = [&] {
      absl::StatusOr<std::unique_ptr<EpollServer>> started =
          EpollServer::Start(*net::Address::Parse("udp://127.0.0.1:0"),
                             {.hash_on_workers = on_workers});
      EXPECT_TRUE(started.ok()) << started.status();
      return started.ok() ? std::move(*started) : nullptr;
    }();
    ASSERT_NE(server, nullptr);
    testing::DatagramTestClient client =
        *testing::DatagramTestClient::Create(server->address());
    std::vector<RequestView> sent = {
        {.id = 1, .op = Op::kSleep, .arg = 300000, .data = "late"},
        {.id = 2, .op = Op::kHash, .arg = 3, .data = "foobar"},
        {.id = 3, .op = Op::kEcho, .data = "early"}};
    for (const RequestView& request : sent) {
      ASSERT_TRUE(client.Send(request).ok());
    }
    std::vector<uint64_t> order;
    for (size_t i = 0; i < sent.size(); ++i) {
      absl::StatusOr<std::string> body = client.ReceiveBody();
      ASSERT_TRUE(body.ok()) << body.status();
      absl::StatusOr<framing::ResponseView> response =
          framing::ParseResponse(*body);
      ASSERT_TRUE(response.ok());
      ASSERT_TRUE(response->id >= 1 && response->id <= sent.size());
      EXPECT_TRUE(testing::VerifiedResult(sent[response->id - 1], *body).ok());
      order.push_back(response->id);
    }
    // The SLEEP, sent first, is answered last: it never held up the loop.
    EXPECT_EQ(order.back(), 1u);
    EXPECT_TRUE(server->Stop(testing::kGenerous).ok());
  }
}

TEST(EpollServer, StopBeforeTheLoopsRunDoesNotAbort) {
  // Once this aborted: the loop threads had not yet entered their loops, so
  // the check against stopping from a loop thread saw the caller as one.
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::unique_ptr<EpollServer>> server = EpollServer::Start(
        *net::Address::Parse("127.0.0.1:0"), {.threads = 1 + i % 3});
    ASSERT_TRUE(server.ok()) << server.status();
    EXPECT_TRUE((*server)->Stop(testing::kGenerous).ok());
  }
}

TEST(EpollServer, RefusesBadOptions) {
  net::Address address = *net::Address::Parse("127.0.0.1:0");
  for (const EpollServerOptions& options : {
           EpollServerOptions{.threads = 0},
           EpollServerOptions{.max_in_flight = 0},
           EpollServerOptions{.high_water_mark = 0, .low_water_mark = 0},
           EpollServerOptions{.high_water_mark = 10, .low_water_mark = 11},
       }) {
    EXPECT_TRUE(
        absl::IsInvalidArgument(EpollServer::Start(address, options).status()));
  }
}

}  // namespace
}  // namespace asyncwork::server
