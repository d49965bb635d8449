#include "net/framed_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "framing/frame.h"
#include "framing/protocol_error.h"
#include "gtest/gtest.h"
#include "net/blocking_io.h"
#include "net/event_loop.h"
#include "net/reactor_test_util.h"
#include "net/socket.h"
#include "net/test_util.h"

namespace asyncwork::net {
namespace {

using ::asyncwork::net::testing::CountOpenFds;
using ::asyncwork::net::testing::MakeLoop;
using ::asyncwork::net::testing::kGenerousTimeout;
using ::asyncwork::net::testing::RunUntil;
using ::asyncwork::net::testing::SocketPairOrDie;

std::string Frame(absl::string_view body) {
  std::string wire;
  framing::AppendFrame(body, &wire);
  return wire;
}

// NumberedBody is body `index` of a stream: its index, then filler derived
// from it, so a lost, repeated, reordered or corrupted frame shows.
std::string NumberedBody(uint64_t index, size_t size) {
  std::string body = absl::StrCat(index, ":");
  while (body.size() < size)
    body.push_back(static_cast<char>('a' + (index + body.size()) % 26));
  return body;
}

// Peer is the test's end of the connection, driven by hand between loop
// iterations (one thread runs both ends).
class Peer {
 public:
  explicit Peer(Socket socket) : socket_(std::move(socket)) {}

  // Write writes all of `bytes` (small enough for the socket buffer).
  void Write(absl::string_view bytes) {
    absl::Status written =
        WriteAll(socket_, bytes, absl::Now() + kGenerousTimeout);
    ASSERT_TRUE(written.ok()) << written;
  }

  // WriteSome writes what the kernel takes without blocking and returns it.
  size_t WriteSome(absl::string_view bytes) {
    absl::StatusOr<IoResult> result = socket_.Write(bytes);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->bytes : 0;
  }

  // Read reads whatever has arrived, decoding frames; sets eof/error.
  void Read() {
    while (!eof && error.ok()) {
      absl::Span<char> room = decoder_.PrepareAppend(64 << 10);
      absl::StatusOr<IoResult> result = socket_.Read(room);
      if (!result.ok()) {
        error = result.status();
        return;
      }
      if (result->would_block) return;
      if (result->eof) {
        eof = true;
        return;
      }
      decoder_.CommitAppend(result->bytes);
      while (true) {
        absl::StatusOr<std::optional<absl::string_view>> body = decoder_.Next();
        ASSERT_TRUE(body.ok()) << body.status();
        if (!body->has_value()) break;
        frames.emplace_back(**body);
      }
    }
  }

  Socket& socket() { return socket_; }

  std::vector<std::string> frames;
  bool eof = false;
  absl::Status error;

 private:
  Socket socket_;
  framing::FrameDecoder decoder_;
};

// Harness owns a loop, a FramedConnection on one end of a socket pair (or
// of any connected pair) and a Peer on the other, and records every
// callback. A test sets its hooks, then calls Start.
struct Harness {
  explicit Harness(Backend backend = Backend::kEpoll)
      : loop(MakeLoop(backend)) {
    auto [ours, theirs] = SocketPairOrDie();
    our_socket = std::move(ours);
    peer = std::make_unique<Peer>(std::move(theirs));
  }
  Harness(Socket ours, Socket theirs) : loop(MakeLoop()) {
    our_socket = std::move(ours);
    peer = std::make_unique<Peer>(std::move(theirs));
  }

  // Create makes the connection; with `read_eof_callback` it has an
  // on_read_eof (which counts and calls the on_read_eof hook).
  void Create(FramedConnection::Options options = {},
              bool read_eof_callback = false) {
    FramedConnection::Callbacks callbacks;
    callbacks.on_frame = [this](absl::string_view body) {
      frames.emplace_back(body);
      if (on_frame) on_frame(body);
    };
    if (read_eof_callback) {
      callbacks.on_read_eof = [this] {
        ++read_eofs;
        if (on_read_eof) on_read_eof();
      };
    }
    callbacks.on_close = [this](const absl::Status& reason) {
      ++closes;
      close_reason = reason;
      if (on_close) on_close(reason);
    };
    callbacks.on_drained = [this] { ++drains; };
    connection = std::make_unique<FramedConnection>(
        loop.get(), std::move(our_socket), options, std::move(callbacks));
  }

  // Start creates the connection unless Create did, and starts it.
  void Start(FramedConnection::Options options = {},
             bool read_eof_callback = false) {
    if (connection == nullptr) Create(options, read_eof_callback);
    absl::Status started = connection->Start();
    ASSERT_TRUE(started.ok()) << started;
  }

  bool RunUntil(absl::FunctionRef<bool()> done,
                absl::Duration timeout = kGenerousTimeout) {
    return testing::RunUntil(*loop, done, timeout);
  }

  // RunUntilPeerHas runs the loop, reading at the peer, until the peer has
  // at least `count` frames (false if it saw EOF or an error first).
  bool RunUntilPeerHas(size_t count) {
    RunUntil([&] {
      peer->Read();
      return peer->frames.size() >= count || peer->eof || !peer->error.ok();
    });
    return peer->frames.size() >= count;
  }

  // RunIterations runs `n` iterations that do not block.
  void RunIterations(int n) {
    for (int i = 0; i < n; ++i) {
      absl::Status ran = loop->RunOnce(absl::ZeroDuration());
      ASSERT_TRUE(ran.ok()) << ran;
    }
  }

  std::unique_ptr<EventLoop> loop;
  Socket our_socket;
  std::unique_ptr<Peer> peer;
  std::unique_ptr<FramedConnection> connection;
  absl::AnyInvocable<void(absl::string_view)> on_frame;
  absl::AnyInvocable<void()> on_read_eof;
  absl::AnyInvocable<void(const absl::Status&)> on_close;
  std::vector<std::string> frames;
  int read_eofs = 0;
  int closes = 0;
  absl::Status close_reason;
  int drains = 0;
};

TEST(FramedConnection, FramesSplitAtEveryByteBoundaryArriveWhole) {
  Harness h;
  h.Start();
  const std::vector<std::string> bodies = {"", "hello", std::string(300, 'x'),
                                           "z"};
  std::string wire;
  for (const std::string& body : bodies) framing::AppendFrame(body, &wire);
  std::vector<std::string> expected;
  for (size_t split = 0; split <= wire.size(); ++split) {
    h.peer->Write(absl::string_view(wire).substr(0, split));
    h.RunIterations(2);  // the connection reads the first part alone
    h.peer->Write(absl::string_view(wire).substr(split));
    expected.insert(expected.end(), bodies.begin(), bodies.end());
    ASSERT_TRUE(h.RunUntil([&] { return h.frames.size() >= expected.size(); }))
        << "split " << split;
  }
  EXPECT_EQ(h.frames, expected);
  EXPECT_EQ(h.connection->frames_received(), expected.size());
  EXPECT_EQ(h.closes, 0);
}

TEST(FramedConnection, EchoesOnEveryBackend) {
  for (Backend backend : kAllBackends) {
    Harness h(backend);
    h.on_frame = [&](absl::string_view body) { h.connection->SendFrame(body); };
    h.Start();
    std::string wire;
    for (int i = 0; i < 100; ++i)
      framing::AppendFrame(NumberedBody(i, 100), &wire);
    h.peer->Write(wire);
    ASSERT_TRUE(h.RunUntilPeerHas(100)) << BackendName(backend);
    for (int i = 0; i < 100; ++i) {
      EXPECT_EQ(h.peer->frames[i], NumberedBody(i, 100))
          << BackendName(backend);
    }
    ASSERT_TRUE(h.peer->socket().ShutdownWrite().ok());
    ASSERT_TRUE(h.RunUntil([&] { return h.closes > 0; }))
        << BackendName(backend);
    EXPECT_TRUE(h.close_reason.ok()) << h.close_reason;
  }
}

TEST(FramedConnection, FramesWrittenOneByteAtATimeArriveWhole) {
  Harness h;
  h.Start();
  std::string wire = Frame("abc") + Frame("") + Frame("defgh");
  for (char byte : wire) {
    h.peer->Write(absl::string_view(&byte, 1));
    h.RunIterations(1);
  }
  ASSERT_TRUE(h.RunUntil([&] { return h.frames.size() >= 3; }));
  EXPECT_EQ(h.frames, (std::vector<std::string>{"abc", "", "defgh"}));
}

TEST(FramedConnection, ThousandFramesFromOneBurstCostFewWriteSyscalls) {
  Harness h;
  h.on_frame = [&](absl::string_view body) {
    for (int i = 0; i < 1000; ++i) h.connection->SendFrame(NumberedBody(i, 64));
  };
  h.Start();
  h.peer->Write(Frame("go"));
  ASSERT_TRUE(h.RunUntilPeerHas(1000));
  ASSERT_EQ(h.peer->frames.size(), 1000u);
  for (int i = 0; i < 1000; ++i)
    EXPECT_EQ(h.peer->frames[i], NumberedBody(i, 64));
  EXPECT_EQ(h.connection->frames_sent(), 1000u);
  EXPECT_GE(h.connection->write_syscalls(), 1u);
  EXPECT_LE(h.connection->write_syscalls(), 5u);
  EXPECT_EQ(h.connection->output_bytes(), 0u);
  EXPECT_GE(h.drains, 1);
}

TEST(FramedConnection, AppendToOutputWritesWholeFramesAndCountsThem) {
  Harness h;
  h.Start();
  h.connection->AppendToOutput(
      [](std::string* out) {
        framing::AppendFrame("one", out);
        framing::AppendFrame("two", out);
      },
      2);
  EXPECT_EQ(h.connection->output_bytes(), 14u);
  ASSERT_TRUE(h.RunUntilPeerHas(2));
  EXPECT_EQ(h.peer->frames, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(h.connection->frames_sent(), 2u);
}

TEST(FramedConnection, SlowReaderMakesSenderQueueThenDrainWithNothingLost) {
  Harness h;
  // A small kernel buffer on our side, so the output queues early.
  ASSERT_TRUE(h.our_socket.SetSendBuffer(16 << 10).ok());
  FramedConnection::Options options;
  options.high_water_mark = 64 << 10;
  options.low_water_mark = 16 << 10;
  options.read_size = 4 << 10;
  constexpr size_t kBody = 1000;
  constexpr size_t kFrames = 2000;  // 2 MB of echoes, far above the marks
  size_t max_output = 0;
  int pauses = 0;
  int resumes = 0;
  bool was_paused = false;
  auto observe = [&] {
    max_output = std::max(max_output, h.connection->output_bytes());
    bool paused = h.connection->reading_paused();
    if (paused && !was_paused) ++pauses;
    if (!paused && was_paused) ++resumes;
    was_paused = paused;
  };
  h.on_frame = [&](absl::string_view body) {
    h.connection->SendFrame(body);  // echo
    observe();
  };
  h.Start(options);

  std::string requests;
  for (size_t i = 0; i < kFrames; ++i) {
    framing::AppendFrame(NumberedBody(i, kBody), &requests);
  }
  size_t written = 0;
  // Phase 1: the peer writes and never reads, until the connection has
  // paused reading and the peer's own writes are refused.
  bool peer_blocked = false;
  ASSERT_TRUE(h.RunUntil([&] {
    observe();
    if (written < requests.size()) {
      size_t n = h.peer->WriteSome(absl::string_view(requests).substr(written));
      written += n;
      peer_blocked = n == 0 && h.connection->reading_paused();
    }
    return peer_blocked;
  }));
  EXPECT_TRUE(h.connection->reading_paused());
  EXPECT_GT(h.connection->output_bytes(), options.low_water_mark);
  EXPECT_LT(written, requests.size());
  EXPECT_EQ(h.peer->frames.size(), 0u);
  // Output stops at most one answer past the high-water mark.
  EXPECT_LE(max_output, options.high_water_mark + kBody + 4);

  // Phase 2: the peer reads and writes the rest; every echo arrives.
  ASSERT_TRUE(h.RunUntil([&] {
    observe();
    if (written < requests.size()) {
      written += h.peer->WriteSome(absl::string_view(requests).substr(written));
    }
    h.peer->Read();
    return h.peer->frames.size() >= kFrames || h.peer->eof;
  }));
  ASSERT_EQ(h.peer->frames.size(), kFrames);
  for (size_t i = 0; i < kFrames; ++i) {
    ASSERT_EQ(h.peer->frames[i], NumberedBody(i, kBody)) << "frame " << i;
  }
  EXPECT_GE(pauses, 1);
  EXPECT_GE(resumes, 1);
  EXPECT_LE(max_output, options.high_water_mark + kBody + 4);
  EXPECT_FALSE(h.connection->reading_paused());
  // Drained, the connection no longer watches for writability: a
  // level-triggered writable watch left on would end this wait at once.
  absl::Time before_wait = absl::Now();
  ASSERT_TRUE(h.loop->RunOnce(absl::Milliseconds(30)).ok());
  EXPECT_GE(absl::Now() - before_wait, absl::Milliseconds(29));
  EXPECT_EQ(h.connection->frames_received(), kFrames);
  EXPECT_EQ(h.closes, 0);
}

TEST(FramedConnection, OversizeLengthClosesWithFrameTooLargeWithoutTheBody) {
  Harness h;
  FramedConnection::Options options;
  options.max_body_size = 1024;
  h.Start(options);
  // A whole frame of exactly the maximum is fine; then a header announcing
  // one byte more, whose body never comes.
  h.peer->Write(Frame(std::string(1024, 'm')));
  char header[framing::kFrameHeaderSize];
  framing::EncodeFrameHeader(1025, header);
  h.peer->Write(absl::string_view(header, sizeof(header)));
  ASSERT_TRUE(h.RunUntil([&] { return h.closes > 0; }));
  EXPECT_EQ(h.frames.size(), 1u);
  EXPECT_EQ(framing::GetProtocolError(h.close_reason),
            framing::ProtocolError::kFrameTooLarge)
      << h.close_reason;
  EXPECT_TRUE(h.connection->closed());
  EXPECT_FALSE(h.connection->socket().valid());
  h.peer->Read();
  EXPECT_TRUE(h.peer->eof);
  h.RunIterations(3);
  EXPECT_EQ(h.closes, 1);
}

TEST(FramedConnection, EndOfStreamMidFrameClosesWithTruncatedFrame) {
  Harness h;
  h.Start({}, /*read_eof_callback=*/true);
  std::string wire = Frame("whole") + Frame("cut short");
  h.peer->Write(absl::string_view(wire).substr(0, wire.size() - 3));
  ASSERT_TRUE(h.peer->socket().ShutdownWrite().ok());
  ASSERT_TRUE(h.RunUntil([&] { return h.closes > 0; }));
  EXPECT_EQ(h.frames, (std::vector<std::string>{"whole"}));
  EXPECT_EQ(framing::GetProtocolError(h.close_reason),
            framing::ProtocolError::kTruncatedFrame)
      << h.close_reason;
  EXPECT_EQ(h.read_eofs, 0);
  h.RunIterations(3);
  EXPECT_EQ(h.closes, 1);
}

TEST(FramedConnection, HalfClosedPeerStillReceivesLateAnswersFromTimers) {
  Harness h;
  int owed = 0;
  bool peer_done = false;
  auto maybe_finish = [&] {
    if (peer_done && owed == 0) h.connection->ShutdownWrite();
  };
  h.on_frame = [&](absl::string_view body) {
    ++owed;
    std::string answer = absl::StrCat("late ", body);
    // Answers complete later, from timers, as SLEEPs do.
    h.loop->RunAfter(absl::Milliseconds(10 * owed), [&, answer] {
      h.connection->SendFrame(answer);
      --owed;
      maybe_finish();
    });
  };
  h.on_read_eof = [&] {
    peer_done = true;
    maybe_finish();
  };
  h.Start({}, /*read_eof_callback=*/true);
  h.peer->Write(Frame("a") + Frame("b") + Frame("c"));
  ASSERT_TRUE(h.peer->socket().ShutdownWrite().ok());
  ASSERT_TRUE(h.RunUntil([&] {
    h.peer->Read();
    return h.closes > 0 && h.peer->eof;
  }));
  EXPECT_EQ(h.read_eofs, 1);
  EXPECT_EQ(h.peer->frames,
            (std::vector<std::string>{"late a", "late b", "late c"}));
  EXPECT_TRUE(h.close_reason.ok()) << h.close_reason;
  EXPECT_EQ(h.closes, 1);
}

TEST(FramedConnection, WithoutReadEofCallbackClosesOkAfterFlushingAnswers) {
  Harness h;
  h.on_frame = [&](absl::string_view body) { h.connection->SendFrame(body); };
  h.Start();
  h.peer->Write(Frame("x") + Frame("y"));
  ASSERT_TRUE(h.peer->socket().ShutdownWrite().ok());
  ASSERT_TRUE(h.RunUntil([&] {
    h.peer->Read();
    return h.peer->eof;
  }));
  EXPECT_EQ(h.peer->frames, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(h.closes, 1);
  EXPECT_TRUE(h.close_reason.ok()) << h.close_reason;
}

TEST(FramedConnection, ShutdownWriteHalfClosesAndKeepsReadingUntilPeerEnds) {
  Harness h;
  h.Start();
  h.connection->SendFrame("first");
  h.connection->SendFrame("second");
  h.connection->ShutdownWrite();
  h.connection->SendFrame("ignored after ShutdownWrite");
  ASSERT_TRUE(h.RunUntil([&] {
    h.peer->Read();
    return h.peer->eof;
  }));
  EXPECT_EQ(h.peer->frames, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(h.closes, 0);
  h.peer->Write(Frame("still heard"));
  ASSERT_TRUE(h.RunUntil([&] { return !h.frames.empty(); }));
  EXPECT_EQ(h.frames, (std::vector<std::string>{"still heard"}));
  ASSERT_TRUE(h.peer->socket().ShutdownWrite().ok());
  ASSERT_TRUE(h.RunUntil([&] { return h.closes > 0; }));
  EXPECT_TRUE(h.close_reason.ok()) << h.close_reason;
}

TEST(FramedConnection, PeerResetClosesWithErrorNamingTheSyscall) {
  testing::StreamPair pair = testing::TcpPairOrDie();
  Harness h(std::move(pair.server), std::move(pair.client));
  h.Start();
  int no_delay = 0;
  socklen_t length = sizeof(no_delay);
  ASSERT_EQ(::getsockopt(h.connection->socket().fd(), IPPROTO_TCP, TCP_NODELAY,
                         &no_delay, &length),
            0);
  EXPECT_NE(no_delay, 0);
  h.peer->Write(Frame("before the reset"));
  ASSERT_TRUE(h.RunUntil([&] { return !h.frames.empty(); }));
  // SO_LINGER with a zero timeout makes close send a RST.
  struct linger abort_on_close = {1, 0};
  ASSERT_EQ(::setsockopt(h.peer->socket().fd(), SOL_SOCKET, SO_LINGER,
                         &abort_on_close, sizeof(abort_on_close)),
            0);
  h.peer->socket().Close();
  ASSERT_TRUE(h.RunUntil([&] { return h.closes > 0; }));
  EXPECT_FALSE(h.close_reason.ok());
  EXPECT_NE(h.close_reason.message().find("recv"), absl::string_view::npos)
      << h.close_reason;
  EXPECT_NE(h.close_reason.message().find(std::strerror(ECONNRESET)),
            absl::string_view::npos)
      << h.close_reason;
  h.RunIterations(3);
  EXPECT_EQ(h.closes, 1);
}

TEST(FramedConnection, WriteErrorDuringFlushClosesOnceWithTheSyscall) {
  Harness h;
  h.Start();
  h.connection->SendFrame("nobody will read this");
  h.peer->socket().Close();
  ASSERT_TRUE(h.RunUntil([&] { return h.closes > 0; }));
  EXPECT_NE(h.close_reason.message().find("sendmsg"), absl::string_view::npos)
      << h.close_reason;
  EXPECT_NE(h.close_reason.message().find(std::strerror(EPIPE)),
            absl::string_view::npos)
      << h.close_reason;
  EXPECT_EQ(h.connection->output_bytes(), 0u);
  h.connection->SendFrame("after close: dropped");
  h.connection->Close(absl::InternalError("second close is a no-op"));
  h.RunIterations(3);
  EXPECT_EQ(h.closes, 1);
  EXPECT_EQ(h.connection->output_bytes(), 0u);
}

TEST(FramedConnection, CloseInsideOnFrameStopsDeliveryAndReportsOnce) {
  Harness h;
  h.on_frame = [&](absl::string_view body) {
    if (body == "2") {
      h.connection->Close(absl::CancelledError("owner gave up"));
      h.connection->SendFrame("dropped");
      h.connection->Close();
    }
  };
  h.Start();
  h.peer->Write(Frame("1") + Frame("2") + Frame("3") + Frame("4"));
  ASSERT_TRUE(h.RunUntil([&] { return h.closes > 0; }));
  h.RunIterations(3);
  EXPECT_EQ(h.frames, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(h.closes, 1);
  EXPECT_EQ(h.close_reason, absl::CancelledError("owner gave up"));
  h.peer->Read();
  EXPECT_TRUE(h.peer->eof);
  EXPECT_TRUE(h.peer->frames.empty());
}

TEST(FramedConnection, CloseAfterFlushSendsEverythingThenClosesOk) {
  Harness h;
  h.on_frame = [&](absl::string_view body) {
    h.connection->SendFrame(absl::StrCat("bye ", body));
    h.connection->CloseAfterFlush();
    EXPECT_EQ(h.closes, 0);  // never inside the caller's CloseAfterFlush
  };
  h.Start();
  h.peer->Write(Frame("a") + Frame("b"));
  ASSERT_TRUE(h.RunUntil([&] {
    h.peer->Read();
    return h.peer->eof;
  }));
  EXPECT_EQ(h.frames, (std::vector<std::string>{"a"}));
  EXPECT_EQ(h.peer->frames, (std::vector<std::string>{"bye a"}));
  EXPECT_EQ(h.closes, 1);
  EXPECT_TRUE(h.close_reason.ok()) << h.close_reason;
}

TEST(FramedConnection, OwnerPauseHoldsBufferedFramesUntilResume) {
  Harness h;
  h.on_frame = [&](absl::string_view) { h.connection->PauseReading(); };
  h.Start();
  h.peer->Write(Frame("1") + Frame("2") + Frame("3"));
  ASSERT_TRUE(h.RunUntil([&] { return !h.frames.empty(); }));
  h.RunIterations(5);
  EXPECT_EQ(h.frames.size(), 1u);
  EXPECT_TRUE(h.connection->reading_paused());
  // The other two frames are already buffered; nothing more arrives on the
  // socket, yet resuming delivers them.
  h.on_frame = nullptr;
  h.connection->ResumeReading();
  EXPECT_EQ(h.frames.size(), 1u);  // not from inside ResumeReading
  ASSERT_TRUE(h.RunUntil([&] { return h.frames.size() >= 3; }));
  EXPECT_EQ(h.frames, (std::vector<std::string>{"1", "2", "3"}));
  EXPECT_FALSE(h.connection->reading_paused());
}

TEST(FramedConnection, IdleTimeoutClosesWithDeadlineExceeded) {
  Harness h;
  FramedConnection::Options options;
  options.idle_timeout = absl::Milliseconds(50);
  absl::Time start = absl::Now();
  h.Start(options);
  ASSERT_TRUE(h.RunUntil([&] { return h.closes > 0; }));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
  EXPECT_EQ(h.close_reason.code(), absl::StatusCode::kDeadlineExceeded)
      << h.close_reason;
  EXPECT_EQ(h.closes, 1);
}

TEST(FramedConnection, TrafficPostponesIdleTimeout) {
  Harness h;
  FramedConnection::Options options;
  options.idle_timeout = absl::Milliseconds(300);
  h.Start(options);
  // A frame every 20 ms for 400 ms: longer than the timeout in total, but
  // never a silence near it.
  absl::Time start = absl::Now();
  for (int i = 0; i < 20; ++i) {
    h.peer->Write(Frame("tick"));
    absl::Time next = start + absl::Milliseconds(20 * (i + 1));
    ASSERT_FALSE(h.RunUntil([&] { return h.closes > 0; }, next - absl::Now()));
  }
  EXPECT_EQ(h.frames.size(), 20u);
  ASSERT_TRUE(h.RunUntil([&] { return h.closes > 0; }));
  EXPECT_EQ(h.close_reason.code(), absl::StatusCode::kDeadlineExceeded);
}

TEST(FramedConnection, DeleteLaterInsideOnFrameIsSafe) {
  Harness h;
  int destroyed_frames = 0;
  h.on_frame = [&](absl::string_view body) {
    ++destroyed_frames;
    if (h.connection != nullptr) h.loop->DeleteLater(std::move(h.connection));
  };
  h.Start();
  h.peer->Write(Frame("1") + Frame("2") + Frame("3"));
  ASSERT_TRUE(h.RunUntil(
      [&] { return h.connection == nullptr && destroyed_frames > 0; }));
  h.RunIterations(3);
  EXPECT_EQ(h.closes, 0);  // destruction does not call on_close
  h.peer->Read();
  EXPECT_TRUE(h.peer->eof);  // the socket was closed
}

TEST(FramedConnection, CloseThenDeleteLaterInsideOnFrameIsSafe) {
  Harness h;
  h.on_frame = [&](absl::string_view) {
    h.connection->SendFrame("dropped");
    h.connection->Close();
  };
  h.on_close = [&](const absl::Status&) {
    h.loop->DeleteLater(std::move(h.connection));
  };
  h.Start();
  h.peer->Write(Frame("1") + Frame("2"));
  ASSERT_TRUE(h.RunUntil([&] { return h.connection == nullptr; }));
  h.RunIterations(3);
  EXPECT_EQ(h.frames, (std::vector<std::string>{"1"}));
  EXPECT_EQ(h.closes, 1);
}

TEST(FramedConnection, DeleteLaterFromOnCloseAfterPeerEndsIsSafe) {
  Harness h;
  h.on_close = [&](const absl::Status&) {
    h.loop->DeleteLater(std::move(h.connection));
  };
  h.Start();
  h.connection->SendFrame("pending when the peer leaves");
  h.peer->socket().Close();
  ASSERT_TRUE(h.RunUntil([&] { return h.connection == nullptr; }));
  EXPECT_EQ(h.closes, 1);
}

TEST(FramedConnection, ThousandConnectionsLeaveNoFdOpen) {
  std::unique_ptr<EventLoop> loop = MakeLoop();
  const int before = CountOpenFds();
  for (int i = 0; i < 1000; ++i) {
    auto [ours, theirs] = SocketPairOrDie();
    Peer peer(std::move(theirs));
    int closes = 0;
    FramedConnection::Callbacks callbacks;
    callbacks.on_close = [&closes](const absl::Status&) { ++closes; };
    auto connection = std::make_unique<FramedConnection>(
        loop.get(), std::move(ours), FramedConnection::Options(),
        std::move(callbacks));
    ASSERT_TRUE(connection->Start().ok());
    connection->SendFrame("hi");
    if (i % 2 == 0) {
      // Half end by the peer leaving, half by being destroyed while open.
      ASSERT_TRUE(peer.socket().ShutdownWrite().ok());
      ASSERT_TRUE(RunUntil(
          *loop, [&] { return closes > 0; }, kGenerousTimeout));
    } else {
      ASSERT_TRUE(loop->RunOnce(absl::ZeroDuration()).ok());
    }
    connection.reset();
  }
  EXPECT_EQ(CountOpenFds(), before);
  EXPECT_EQ(loop->watch_count(), 0u);
  EXPECT_EQ(loop->timer_count(), 0u);
}

TEST(FramedConnectionDeathTest, LowWaterAboveHighWaterAborts) {
  EXPECT_DEATH(
      {
        std::unique_ptr<EventLoop> loop = MakeLoop();
        FramedConnection::Options options;
        options.low_water_mark = options.high_water_mark + 1;
        FramedConnection connection(loop.get(), SocketPairOrDie().first, options, {});
      },
      "low_water_mark");
}

}  // namespace
}  // namespace asyncwork::net
