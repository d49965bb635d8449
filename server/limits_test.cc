// The limits in ServerOptions hold in every server kind they apply to:
// max_connections, max_frame, idle_timeout, max_in_flight, and the output
// bounds (the epoll server's water marks, the other kinds' synchronous
// writes), the last shown by the server's memory (VmRSS) staying bounded
// under a client that pipelines large requests and never reads.
#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "framing/frame.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"
#include "net/address.h"
#include "server/log_capture.h"
#include "server/server.h"
#include "server/test_client.h"

namespace asyncwork::server {
namespace {

using framing::Op;
using framing::RequestView;
using testing::DatagramTestClient;
using testing::LogCapture;
using testing::TestClient;

net::Address Loopback() { return *net::Address::Parse("127.0.0.1:0"); }

std::unique_ptr<RunningServer> Start(ServerKind kind, ServerOptions options,
                                     const net::Address& listen = Loopback()) {
  absl::StatusOr<std::unique_ptr<RunningServer>> server =
      StartServer(kind, listen, options);
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

std::string KindName(const ::testing::TestParamInfo<ServerKind>& info) {
  return std::string(ServerKindName(info.param));
}

// ResponseId parses `body` as a response to one of `sent`, checks it
// against that request, and returns its id (0 on any failure).
uint64_t ResponseId(absl::string_view body,
                    const std::vector<RequestView>& sent) {
  absl::StatusOr<framing::ResponseView> response = framing::ParseResponse(body);
  EXPECT_TRUE(response.ok()) << response.status();
  if (!response.ok()) return 0;
  for (const RequestView& request : sent) {
    if (request.id == response->id) {
      EXPECT_TRUE(testing::VerifiedResult(request, body).ok());
      return response->id;
    }
  }
  ADD_FAILURE() << "an answer to no request: id " << response->id;
  return 0;
}

// ---------------------------------------------------------------------------
// max_connections

class ConnectionLimitTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(ConnectionLimitTest, OneMoreIsAcceptedClosedAndLoggedTheRestServed) {
  LogCapture log;
  ServerOptions options;
  options.max_connections = 2;
  options.pool_size = 4;  // so the pool's own bound (2 x 4) is not the one
  std::unique_ptr<RunningServer> server = Start(GetParam(), options);
  ASSERT_NE(server, nullptr);
  std::optional<TestClient> first(*TestClient::Connect(server->address()));
  TestClient second = *TestClient::Connect(server->address());
  ASSERT_TRUE(first->Call({.id = 1}).ok());
  ASSERT_TRUE(second.Call({.id = 2}).ok());
  TestClient third = *TestClient::Connect(server->address());
  EXPECT_TRUE(third.ExpectClosed().ok());
  EXPECT_TRUE(log.WaitFor("(max_connections=2)")) << log.Text();
  // The first two are still served.
  EXPECT_TRUE(first->Call({.id = 3}).ok());
  EXPECT_TRUE(second.Call({.id = 4}).ok());
  first.reset();
  // Once the server has seen the first go, a new connection is served.
  absl::Time deadline = testing::GenerousDeadline();
  bool served = false;
  while (!served && absl::Now() < deadline) {
    absl::StatusOr<TestClient> next = TestClient::Connect(server->address());
    ASSERT_TRUE(next.ok());
    served = next->Call({.id = 5}).ok();
    if (!served) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(served);
  EXPECT_TRUE(second.Call({.id = 6}).ok());
}

INSTANTIATE_TEST_SUITE_P(Kinds, ConnectionLimitTest,
                         ::testing::Values(ServerKind::kThreading,
                                           ServerKind::kForking,
                                           ServerKind::kPool,
                                           ServerKind::kEpoll),
                         KindName);

TEST(ConnectionLimit, BlockingServerLeavesTheNextConnectionQueued) {
  // One connection at a time: the next waits in the listen queue, unread
  // and unanswered, rather than being closed.
  LogCapture log;
  ServerOptions options;
  options.max_connections = 1;
  std::unique_ptr<RunningServer> server = Start(ServerKind::kBlocking, options);
  ASSERT_NE(server, nullptr);
  std::optional<TestClient> first(*TestClient::Connect(server->address()));
  ASSERT_TRUE(first->Call({.id = 1}).ok());
  TestClient second = *TestClient::Connect(server->address());
  RequestView echo{.id = 2, .data = "queued"};
  ASSERT_TRUE(second.Send(echo).ok());
  absl::StatusOr<std::optional<std::string>> early =
      second.ReceiveBody(absl::Now() + absl::Milliseconds(200));
  EXPECT_TRUE(absl::IsDeadlineExceeded(early.status())) << early.status();
  first.reset();
  absl::StatusOr<std::optional<std::string>> body = second.ReceiveBody();
  ASSERT_TRUE(body.ok() && body->has_value()) << body.status();
  EXPECT_EQ(ResponseId(**body, {echo}), 2u);
  EXPECT_FALSE(absl::StrContains(log.Text(), "max_connections"));
}

TEST(ConnectionLimit, EpollDropsDatagramsBeyondTheLimitWithALogLine) {
  LogCapture log;
  ServerOptions options;
  options.max_connections = 1;
  std::unique_ptr<RunningServer> server =
      Start(ServerKind::kEpoll, options,
            *net::Address::Parse("udp://127.0.0.1:0"));
  ASSERT_NE(server, nullptr);
  DatagramTestClient client = *DatagramTestClient::Create(server->address());
  std::vector<RequestView> sent = {
      {.id = 1, .op = Op::kSleep, .arg = 400000, .data = "held"},
      {.id = 2, .data = "beyond the limit"}};
  for (const RequestView& request : sent) {
    ASSERT_TRUE(client.Send(request).ok());
  }
  // The ECHO would be answered first; it was dropped, so the SLEEP is.
  absl::StatusOr<std::string> first = client.ReceiveBody();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(ResponseId(*first, sent), 1u);
  EXPECT_TRUE(log.WaitFor("(max_connections=1)")) << log.Text();
  EXPECT_TRUE(client.Call({.id = 3, .data = "after"}).ok());
}

// ---------------------------------------------------------------------------
// max_frame on datagram sockets (streams: server_test's BadInputTest)

class DatagramFrameLimitTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(DatagramFrameLimitTest, LongerDatagramIsDroppedWithALogLine) {
  LogCapture log;
  ServerOptions options;
  options.max_frame = 1024;
  std::unique_ptr<RunningServer> server =
      Start(GetParam(), options, *net::Address::Parse("udp://127.0.0.1:0"));
  ASSERT_NE(server, nullptr);
  DatagramTestClient client = *DatagramTestClient::Create(server->address());
  std::string over(1025 - framing::kMessageHeaderSize, 'o');
  ASSERT_TRUE(client.Send({.id = 1, .data = over}).ok());
  EXPECT_TRUE(log.WaitFor("longer than the largest accepted")) << log.Text();
  // A body of exactly the limit is answered, and nothing of the dropped one.
  std::string exact(1024 - framing::kMessageHeaderSize, 'e');
  absl::StatusOr<std::string> result =
      client.Call({.id = 2, .op = Op::kReverse, .data = exact});
  EXPECT_TRUE(result.ok()) << result.status();
}

INSTANTIATE_TEST_SUITE_P(Kinds, DatagramFrameLimitTest,
                         ::testing::ValuesIn(kAllServerKinds), KindName);

// ---------------------------------------------------------------------------
// idle_timeout

constexpr absl::Duration kShortIdle = absl::Milliseconds(300);

class IdleLimitTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(IdleLimitTest, SilentConnectionIsClosedAfterTheTimeoutWithALogLine) {
  LogCapture log;
  ServerOptions options;
  options.idle_timeout = kShortIdle;
  std::unique_ptr<RunningServer> server = Start(GetParam(), options);
  ASSERT_NE(server, nullptr);
  absl::Time start = absl::Now();
  TestClient silent = *TestClient::Connect(server->address());
  EXPECT_TRUE(silent.ExpectClosed().ok());
  EXPECT_GE(absl::Now() - start, kShortIdle);
  EXPECT_TRUE(log.WaitFor("idle timeout (300ms)")) << log.Text();
  // The server goes on serving.
  TestClient next = *TestClient::Connect(server->address());
  EXPECT_TRUE(next.Call({.id = 1}).ok());
}

// SendUntil writes `frame` over and over to `client` (whose socket is
// non-blocking), never reading, until `stop` says so or the deadline
// passes; a write error (the server closed) also ends it. Returns the bytes
// written.
template <typename Stop>
size_t SendUntil(TestClient& client, absl::string_view frame, Stop stop) {
  size_t total = 0;
  size_t offset = 0;
  absl::Time deadline = testing::GenerousDeadline();
  while (!stop() && absl::Now() < deadline) {
    absl::StatusOr<net::IoResult> wrote =
        client.socket().Write(frame.substr(offset));
    if (!wrote.ok()) break;
    if (wrote->would_block) {
      struct pollfd entry = {client.socket().fd(), POLLOUT, 0};
      ::poll(&entry, 1, 20);
      continue;
    }
    total += wrote->bytes;
    offset = (offset + wrote->bytes) % frame.size();
  }
  return total;
}

TEST_P(IdleLimitTest, PeerThatNeverReadsIsClosedAfterTheTimeoutWithALogLine) {
  LogCapture log;
  ServerOptions options;
  options.idle_timeout = kShortIdle;
  options.high_water_mark = 64 << 10;
  options.low_water_mark = 16 << 10;
  std::unique_ptr<RunningServer> server =
      Start(GetParam(), options,
            testing::UniqueAbstractAddress(net::Transport::kUnixStream));
  ASSERT_NE(server, nullptr);
  std::string frame;
  framing::AppendRequestFrame(
      {.id = 1, .op = Op::kEcho, .data = std::string(32 << 10, 'r')}, &frame);
  absl::Time start = absl::Now();
  TestClient reader = *TestClient::Connect(server->address());
  SendUntil(reader, frame,
            [&] { return absl::StrContains(log.Text(), "not reading"); });
  EXPECT_GE(absl::Now() - start, kShortIdle);
  EXPECT_TRUE(log.WaitFor("not reading")) << log.Text();
  EXPECT_TRUE(reader.ExpectClosed().ok());
}

INSTANTIATE_TEST_SUITE_P(Kinds, IdleLimitTest,
                         ::testing::ValuesIn(kAllServerKinds), KindName);

// ---------------------------------------------------------------------------
// max_in_flight and the bytes held by requests in flight (epoll)

// ArrivalOffsets sends `requests` pipelined on one connection and returns,
// in arrival order, how long after the first send each answer came, having
// checked every answer.
std::vector<absl::Duration> ArrivalOffsets(
    const net::Address& address, const std::vector<RequestView>& requests) {
  std::vector<absl::Duration> offsets;
  TestClient client = *TestClient::Connect(address);
  std::string wire;
  for (const RequestView& request : requests) {
    framing::AppendRequestFrame(request, &wire);
  }
  absl::Time start = absl::Now();
  EXPECT_TRUE(client.SendBytes(wire).ok());
  std::vector<bool> seen(requests.size() + 1, false);
  for (size_t i = 0; i < requests.size(); ++i) {
    absl::StatusOr<std::optional<std::string>> body = client.ReceiveBody();
    EXPECT_TRUE(body.ok() && body->has_value()) << body.status();
    if (!body.ok() || !body->has_value()) break;
    offsets.push_back(absl::Now() - start);
    uint64_t id = ResponseId(**body, requests);
    EXPECT_FALSE(seen[id]) << "answered twice: " << id;
    seen[id] = true;
  }
  return offsets;
}

// Sleeps makes `count` SLEEPs of `delay` with `data` each, ids from 1.
std::vector<RequestView> Sleeps(int count, absl::Duration delay,
                                const std::string& data) {
  std::vector<RequestView> requests;
  for (int i = 1; i <= count; ++i) {
    requests.push_back(
        {.id = uint64_t(i), .op = Op::kSleep,
         .arg = uint32_t(absl::ToInt64Microseconds(delay)), .data = data});
  }
  return requests;
}

constexpr absl::Duration kSleep = absl::Milliseconds(150);

// ExpectTwoAnswersPerSleepAtMost checks that six SLEEPs of kSleep, sent at
// once, were answered as if at most two were in flight at any time: a
// SLEEP counts from its reading, so the j-th answer (from 0) comes no sooner
// than (j / 2 + 1) kSleeps after the sending.
void ExpectTwoAnswersPerSleepAtMost(const std::vector<absl::Duration>& offsets) {
  ASSERT_EQ(offsets.size(), 6u);
  for (size_t j = 0; j < offsets.size(); ++j) {
    EXPECT_GE(offsets[j], kSleep * (j / 2 + 1)) << "answer " << j;
  }
}

TEST(InFlightLimit, EpollNeverHasMoreThanMaxInFlightOfAConnection) {
  ServerOptions options;
  options.max_in_flight = 2;
  std::unique_ptr<RunningServer> server = Start(ServerKind::kEpoll, options);
  ASSERT_NE(server, nullptr);
  // A request is read only once fewer than two are in flight. With no
  // limit all six would come after one kSleep.
  ExpectTwoAnswersPerSleepAtMost(
      ArrivalOffsets(server->address(), Sleeps(6, kSleep, "s")));
}

TEST(InFlightLimit, EpollCountsHeldAnswerBytesAgainstTheHighWaterMark) {
  // Each SLEEP's answer (about 40 KiB) is held from the reading on; two are
  // over the 64 KiB mark, so reading pauses until both are sent (held bytes
  // back to the low mark of 0).
  ServerOptions options;
  options.high_water_mark = 64 << 10;
  options.low_water_mark = 0;
  std::unique_ptr<RunningServer> server = Start(ServerKind::kEpoll, options);
  ASSERT_NE(server, nullptr);
  ExpectTwoAnswersPerSleepAtMost(ArrivalOffsets(
      server->address(), Sleeps(6, kSleep, std::string(40 << 10, 'h'))));
}

// ---------------------------------------------------------------------------
// Output bounded: a fast sender that never reads

// RssBytes is this process's resident set (VmRSS), in bytes; 0 if unknown.
size_t RssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, "VmRSS:")) continue;
    absl::string_view value = absl::StripAsciiWhitespace(
        absl::string_view(line).substr(6));
    size_t kib = 0;
    if (absl::ConsumeSuffix(&value, " kB") && absl::SimpleAtoi(value, &kib)) {
      return kib << 10;
    }
  }
  return 0;
}

// kFlood is what the sender tries to send: far more than the server may
// buffer, so a server without backpressure would grow by about this much.
constexpr size_t kFlood = size_t{64} << 20;
// kStalled: no byte taken for this long means the server stopped reading.
constexpr absl::Duration kStalled = absl::Seconds(1);
// kPayload is each request's data; kHighWater and kLowWater the marks.
constexpr size_t kPayload = size_t{64} << 10;
constexpr size_t kHighWater = size_t{256} << 10;
constexpr size_t kLowWater = size_t{64} << 10;
// kRssBound bounds the server's growth: a few times what it may hold (two
// high-water marks, two answers, an input buffer: about 1 MiB) plus
// allocator slack; a sanitizer's shadow memory multiplies it.
#ifdef ASYNCWORK_SANITIZER
constexpr size_t kRssBound = size_t{40} << 20;
#else
constexpr size_t kRssBound = size_t{16} << 20;
#endif

struct FloodOutcome {
  size_t sent = 0;          // bytes the server's side took before the stall
  size_t whole_frames = 0;  // requests sent whole by then
  size_t rss_before = 0;
  size_t rss_peak = 0;      // the largest VmRSS seen while flooding
  size_t answered = 0;      // answers received afterwards, each verified
};

// Flood connects to `address`, sends ECHO (or SLEEP, with `sleep`) requests
// of kPayload bytes as fast as the server takes them, never reading, until
// kFlood bytes are sent or the server stops taking them for kStalled;
// samples VmRSS meanwhile. Then it finishes the request it was in the
// middle of, half-closes, and reads and checks every answer.
FloodOutcome Flood(const net::Address& address, absl::Duration sleep) {
  FloodOutcome outcome;
  TestClient client = *TestClient::Connect(address);
  net::Socket& socket = client.socket();
  const std::string payload(kPayload, 'f');
  auto request = [&](uint64_t id) {
    return RequestView{
        .id = id, .op = sleep > absl::ZeroDuration() ? Op::kSleep : Op::kEcho,
        .arg = uint32_t(absl::ToInt64Microseconds(sleep)), .data = payload};
  };
  outcome.rss_before = RssBytes();
  outcome.rss_peak = outcome.rss_before;
  std::string frame;
  size_t offset = 0;
  uint64_t next_id = 1;
  absl::Time last_progress = absl::Now();
  absl::Time give_up = absl::Now() + absl::Seconds(30);
  // Phase 1: flood.
  while (outcome.sent < kFlood && absl::Now() < give_up) {
    if (offset == frame.size()) {
      frame.clear();
      framing::AppendRequestFrame(request(next_id++), &frame);
      offset = 0;
    }
    absl::StatusOr<net::IoResult> wrote =
        socket.Write(absl::string_view(frame).substr(offset));
    EXPECT_TRUE(wrote.ok()) << wrote.status();
    if (!wrote.ok()) return outcome;
    if (wrote->would_block) {
      outcome.rss_peak = std::max(outcome.rss_peak, RssBytes());
      if (absl::Now() - last_progress >= kStalled) break;
      struct pollfd entry = {socket.fd(), POLLOUT, 0};
      ::poll(&entry, 1, 50);
      continue;
    }
    offset += wrote->bytes;
    outcome.sent += wrote->bytes;
    last_progress = absl::Now();
    if (offset == frame.size() && next_id % 16 == 0) {
      outcome.rss_peak = std::max(outcome.rss_peak, RssBytes());
    }
  }
  outcome.rss_peak = std::max(outcome.rss_peak, RssBytes());
  outcome.whole_frames = next_id - 1;  // the one in progress is finished below

  // Phase 2: finish the frame in progress, half-close, read every answer.
  std::vector<bool> seen(outcome.whole_frames + 1, false);
  framing::FrameDecoder decoder;
  bool shut = false;
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    if (!shut && offset == frame.size()) {
      EXPECT_TRUE(socket.ShutdownWrite().ok());
      shut = true;
    }
    struct pollfd entry = {socket.fd(), short(POLLIN | (shut ? 0 : POLLOUT)),
                           0};
    ::poll(&entry, 1, 100);
    if (!shut && (entry.revents & POLLOUT) != 0) {
      absl::StatusOr<net::IoResult> wrote =
          socket.Write(absl::string_view(frame).substr(offset));
      EXPECT_TRUE(wrote.ok()) << wrote.status();
      if (!wrote.ok()) break;
      offset += wrote->bytes;
    }
    if ((entry.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    absl::StatusOr<net::IoResult> read =
        socket.Read(decoder.PrepareAppend(64 << 10));
    EXPECT_TRUE(read.ok()) << read.status();
    if (!read.ok()) break;
    if (read->would_block) continue;
    if (read->eof) {
      EXPECT_TRUE(decoder.CheckEndOfStream().ok());
      break;
    }
    decoder.CommitAppend(read->bytes);
    while (true) {
      absl::StatusOr<std::optional<absl::string_view>> body = decoder.Next();
      EXPECT_TRUE(body.ok()) << body.status();
      if (!body.ok() || !body->has_value()) break;
      absl::StatusOr<framing::ResponseView> response =
          framing::ParseResponse(**body);
      EXPECT_TRUE(response.ok()) << response.status();
      if (!response.ok()) break;
      uint64_t id = response->id;
      EXPECT_TRUE(id >= 1 && id <= outcome.whole_frames && !seen[id]) << id;
      if (id < 1 || id > outcome.whole_frames || seen[id]) break;
      seen[id] = true;
      EXPECT_TRUE(testing::VerifiedResult(request(id), **body).ok()) << id;
      ++outcome.answered;
    }
  }
  return outcome;
}

void ExpectBounded(const FloodOutcome& outcome) {
  size_t growth = outcome.rss_peak - std::min(outcome.rss_peak,
                                              outcome.rss_before);
  std::printf(
      "flood: %zu bytes (%zu requests) taken before the stall; VmRSS %zu KiB "
      "before, peak growth %zu KiB (bound %zu KiB); %zu answers\n",
      outcome.sent, outcome.whole_frames, outcome.rss_before >> 10,
      growth >> 10, kRssBound >> 10, outcome.answered);
  ASSERT_GT(outcome.rss_before, 0u) << "VmRSS not found in /proc/self/status";
  // The server stopped taking requests long before the flood was out...
  EXPECT_LT(outcome.sent, kFlood / 4);
  // ...and its memory grew by a bounded amount, not by what was sent.
  EXPECT_LT(growth, kRssBound);
  // Nothing was lost: every request sent was answered, correctly.
  EXPECT_EQ(outcome.answered, outcome.whole_frames);
}

ServerOptions FloodOptions() {
  ServerOptions options;
  options.high_water_mark = kHighWater;
  options.low_water_mark = kLowWater;
  // Kept far from the flood's length: the stall must be backpressure, not
  // the server giving up on a reader that does not read.
  options.idle_timeout = absl::Seconds(60);
  return options;
}

class OutputBoundTest : public ::testing::TestWithParam<ServerKind> {};

TEST_P(OutputBoundTest, MemoryStaysBoundedWhenTheReaderNeverReads) {
  // A Unix socket, whose kernel buffers are small and fixed, so the stall
  // comes soon after the server stops reading. (The forking kind serves in
  // children, whose memory is not this process's; it runs the blocking
  // kind's handler.)
  std::unique_ptr<RunningServer> server =
      Start(GetParam(), FloodOptions(),
            testing::UniqueAbstractAddress(net::Transport::kUnixStream));
  ASSERT_NE(server, nullptr);
  ExpectBounded(Flood(server->address(), absl::ZeroDuration()));
}

INSTANTIATE_TEST_SUITE_P(Kinds, OutputBoundTest,
                         ::testing::Values(ServerKind::kBlocking,
                                           ServerKind::kThreading,
                                           ServerKind::kPool,
                                           ServerKind::kEpoll),
                         KindName);

TEST(OutputBound, EpollMemoryStaysBoundedUnderPipelinedSleeps) {
  // SLEEP answers are held on timers, not queued as output: without the
  // held-bytes bound the server would read max_in_flight (1024) of them,
  // all kFlood bytes, before the first one is due.
  std::unique_ptr<RunningServer> server =
      Start(ServerKind::kEpoll, FloodOptions(),
            testing::UniqueAbstractAddress(net::Transport::kUnixStream));
  ASSERT_NE(server, nullptr);
  ExpectBounded(Flood(server->address(), absl::Milliseconds(700)));
}

}  // namespace
}  // namespace asyncwork::server
