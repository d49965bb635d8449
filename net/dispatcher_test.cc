// Tests for Dispatcher, DispatcherWithSend, ChannelMap and Loop, on real
// loopback TCP and Unix sockets under every poller backend.
#include "net/dispatcher.h"

#include <sys/socket.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/address.h"
#include "net/dispatcher_with_send.h"
#include "net/reactor_test_util.h"
#include "net/socket.h"
#include "net/test_util.h"

namespace asyncwork::net {
namespace {

using ::testing::HasSubstr;
using testing::CountOpenFds;
using testing::kGenerousTimeout;
using testing::ListenOrDie;
using testing::ParseOrDie;
using testing::RefusingTcpAddress;
using testing::ScopedTempDir;
using testing::SocketPairOrDie;
using testing::TcpPairOrDie;

// kTick bounds each iteration's wait in these tests.
constexpr absl::Duration kTick = absl::Milliseconds(100);

void WriteAll(Socket& socket, absl::string_view data) {
  absl::StatusOr<IoResult> written = socket.Write(data);
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_EQ(written->bytes, data.size());
}

// Probe records each handler call, in order, and lets a test steer it:
// Readable()/Writable() return the `readable`/`writable` fields, and the
// on_* hooks replace the default reaction.
class Probe : public Dispatcher {
 public:
  explicit Probe(ChannelMap* map) : Dispatcher(map) {}
  ~Probe() override {
    if (destroyed != nullptr) *destroyed = true;
  }

  void HandleRead() override {
    Note("read");
    if (on_read) return on_read();
    ReadSome();
  }
  void HandleWrite() override {
    Note("write");
    if (on_write) on_write();
  }
  void HandleConnect() override {
    Note("connect");
    if (on_connect) on_connect();
  }
  void HandleAccept() override {
    Note("accept");
    Dispatcher::HandleAccept();
  }
  void HandleAccepted(Socket socket, const Address& peer) override {
    Note("accepted");
    if (on_accepted) on_accepted(std::move(socket));
  }
  void HandleClose() override {
    Note("close");
    if (on_close) return on_close();
    Close();
  }
  void HandleError(const absl::Status& error) override {
    Note("error");
    last_error = error;
    if (on_error) return on_error();
    Close();
  }
  void HandleExpt() override {
    Note("expt");
    if (on_expt) return on_expt();
    Dispatcher::HandleExpt();
  }
  bool Readable() const override {
    ++asked;
    return readable;
  }
  bool Writable() const override {
    ++asked;
    return writable;
  }

  // ReadSome reads once into `received`; end of stream reaches HandleClose
  // through Recv, as in asyncore.
  void ReadSome(size_t limit = 64 * 1024) {
    std::string buffer(limit, '\0');
    absl::StatusOr<IoResult> got = Recv(absl::MakeSpan(buffer));
    ASSERT_TRUE(got.ok()) << got.status();
    received.append(buffer, 0, got->bytes);
  }

  int Count(absl::string_view event) const {
    return static_cast<int>(std::count(events.begin(), events.end(), event));
  }

  std::vector<std::string> events;
  std::string received;
  absl::Status last_error;
  bool readable = true;
  // false by default, unlike asyncore, so an idle test socket does not wake
  // the loop on every iteration.
  bool writable = false;
  mutable int asked = 0;  // calls of Readable() and Writable()
  std::function<void()> on_read, on_write, on_connect, on_close, on_error,
      on_expt;
  std::function<void(Socket)> on_accepted;
  bool* destroyed = nullptr;

 private:
  void Note(const char* event) { events.emplace_back(event); }
};

// Echo sends back what it reads, through DispatcherWithSend.
class Echo : public DispatcherWithSend {
 public:
  using DispatcherWithSend::DispatcherWithSend;

  void HandleRead() override {
    ++reads;
    char buffer[4096];
    absl::StatusOr<IoResult> got = Recv(absl::MakeSpan(buffer));
    if (!got.ok()) return HandleError(got.status());
    if (got->bytes > 0) {
      absl::Status sent =
          BufferedSend(absl::string_view(buffer, got->bytes));
      EXPECT_TRUE(sent.ok()) << sent;
    }
  }
  void HandleClose() override {
    ++closes;
    Close();
  }

  int reads = 0;
  int closes = 0;
};

class DispatcherTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ChannelMap>> map =
        ChannelMap::Create(GetParam());
    ASSERT_TRUE(map.ok()) << map.status();
    map_ = *std::move(map);
    fds_before_ = CountOpenFds();
  }

  // Every test's sockets are gone by the time it ends.
  void TearDown() override { EXPECT_EQ(CountOpenFds(), fds_before_); }

  // LoopUntilEmpty runs Loop until the map is empty. A guard timer closes
  // every channel after kGenerousTimeout, so a bug fails the test instead
  // of hanging it.
  void LoopUntilEmpty() {
    bool expired = false;
    TimerId guard = map_->loop()->RunAfter(kGenerousTimeout, [&] {
      expired = true;
      map_->CloseAll();
    });
    absl::Status looped = Loop(kTick, GetParam(), map_.get());
    map_->loop()->Cancel(guard);
    EXPECT_TRUE(looped.ok()) << looped;
    EXPECT_FALSE(expired) << "the map did not empty in time";
    EXPECT_TRUE(map_->empty());
  }

  // RunUntil runs single iterations until `done`; false if it never is.
  bool RunUntil(absl::FunctionRef<bool()> done) {
    return testing::RunUntil(*map_->loop(), done, kGenerousTimeout);
  }

  void RunOnce() {
    absl::Status ran = map_->loop()->RunOnce(kTick);
    ASSERT_TRUE(ran.ok()) << ran;
  }

  std::unique_ptr<ChannelMap> map_;
  int fds_before_ = 0;
};

TEST_P(DispatcherTest, EchoFiresEachHandlerWhereAsyncoreDoes) {
  ScopedTempDir dir;
  for (const std::string& text :
       {std::string("127.0.0.1:0"), "unix:" + dir.File("echo.sock")}) {
    SCOPED_TRACE(text);
    const Address address = ParseOrDie(text);
    const std::string message = "hello, dispatcher";

    Probe server(map_.get());
    std::vector<std::unique_ptr<Echo>> handlers;
    server.on_accepted = [&](Socket socket) {
      auto handler = std::make_unique<Echo>(map_.get());
      ASSERT_TRUE(handler->Set(std::move(socket)).ok());
      EXPECT_TRUE(handler->connected());
      handlers.push_back(std::move(handler));
      server.Close();  // one connection is all this server takes
    };
    ASSERT_TRUE(server.CreateSocket(address.family(), address.transport()).ok());
    ASSERT_TRUE(server.Bind(address).ok());
    ASSERT_TRUE(server.Listen(8).ok());
    EXPECT_TRUE(server.accepting());
    absl::StatusOr<Address> bound = server.socket().LocalAddress();
    ASSERT_TRUE(bound.ok()) << bound.status();

    // The client is asyncore-style: it writes in HandleWrite while
    // Writable() says there is something left to send.
    Probe client(map_.get());
    size_t offset = 0;
    client.writable = true;
    client.on_write = [&] {
      absl::StatusOr<size_t> sent =
          client.Send(absl::string_view(message).substr(offset));
      ASSERT_TRUE(sent.ok()) << sent.status();
      offset += *sent;
      client.writable = offset < message.size();
    };
    client.on_read = [&] {
      client.ReadSome();
      if (client.received.size() == message.size()) client.Close();
    };
    ASSERT_TRUE(client.CreateSocket(bound->family(), bound->transport()).ok());
    ASSERT_TRUE(client.Connect(*bound).ok());
    EXPECT_TRUE(client.connecting());
    EXPECT_FALSE(client.connected());

    LoopUntilEmpty();

    EXPECT_EQ(server.Count("accept"), 1);
    EXPECT_EQ(server.Count("accepted"), 1);
    EXPECT_EQ(client.received, message);
    // Connect is implied by the first write event: HandleConnect, then
    // HandleWrite in the same event, and nothing before them.
    ASSERT_GE(client.events.size(), 2u);
    EXPECT_EQ(client.events[0], "connect");
    EXPECT_EQ(client.events[1], "write");
    EXPECT_EQ(client.Count("connect"), 1);
    EXPECT_EQ(client.Count("error"), 0);
    ASSERT_EQ(handlers.size(), 1u);
    // At least one read with the message, then the read of 0 bytes that
    // became HandleClose.
    EXPECT_GE(handlers[0]->reads, 2);
    EXPECT_EQ(handlers[0]->closes, 1);
    EXPECT_FALSE(handlers[0]->open());
  }
}

TEST_P(DispatcherTest, RefusedConnectCallsHandleErrorNotHandleConnect) {
  Probe client(map_.get());
  client.writable = true;
  Address refusing = RefusingTcpAddress();
  ASSERT_TRUE(client.CreateSocket(AF_INET, Transport::kTcp).ok());
  absl::Status started = client.Connect(refusing);
  // A non-blocking connect learns of the refusal later, through SO_ERROR.
  ASSERT_TRUE(started.ok()) << started;

  LoopUntilEmpty();

  EXPECT_EQ(client.Count("error"), 1);
  EXPECT_EQ(client.Count("connect"), 0);
  EXPECT_EQ(client.Count("write"), 0);
  EXPECT_EQ(client.Count("read"), 0);
  EXPECT_EQ(client.last_error.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(client.last_error.message(), HasSubstr("Connection refused"));
  EXPECT_FALSE(client.open());
  EXPECT_FALSE(client.connecting());
}

TEST_P(DispatcherTest, UrgentDataCallsHandleExpt) {
  testing::StreamPair pair = TcpPairOrDie();
  ASSERT_TRUE(pair.client.valid() && pair.server.valid());

  Probe receiver(map_.get());
  std::string urgent;
  receiver.on_expt = [&] {
    char byte;
    absl::StatusOr<IoResult> got =
        receiver.RecvUrgent(absl::MakeSpan(&byte, 1));
    ASSERT_TRUE(got.ok()) << got.status();
    if (got->bytes == 1) urgent.push_back(byte);
  };
  ASSERT_TRUE(receiver.Set(std::move(pair.server)).ok());
  EXPECT_TRUE(receiver.connected());
  ASSERT_EQ(::send(pair.client.fd(), "!", 1, MSG_OOB), 1);
  ASSERT_TRUE(RunUntil([&] { return !urgent.empty(); }));
  EXPECT_EQ(urgent, "!");

  // Ordinary data is still HandleRead, and the urgent byte is not in it.
  WriteAll(pair.client, "abc");
  ASSERT_TRUE(RunUntil([&] { return receiver.received.size() == 3; }));
  EXPECT_EQ(receiver.received, "abc");
  pair.client.Close();
  ASSERT_TRUE(RunUntil([&] { return !receiver.open(); }));
  EXPECT_EQ(receiver.Count("expt"), 1);
  EXPECT_EQ(receiver.Count("close"), 1);
}

TEST_P(DispatcherTest, NoHandleWriteWhileWritableIsFalse) {
  auto [ours, theirs] = SocketPairOrDie();
  Probe probe(map_.get());
  probe.writable = false;
  ASSERT_TRUE(probe.Set(std::move(ours)).ok());
  for (size_t i = 1; i <= 3; ++i) {
    WriteAll(theirs, "x");
    ASSERT_TRUE(RunUntil([&] { return probe.received.size() == i; }));
  }
  // The socket was writable throughout; only Writable() kept it quiet.
  EXPECT_EQ(probe.Count("write"), 0);
  EXPECT_EQ(probe.interest() & kWritable, 0u);

  probe.writable = true;
  ASSERT_TRUE(probe.UpdateInterest().ok());
  ASSERT_TRUE(RunUntil([&] { return probe.Count("write") > 0; }));
}

TEST_P(DispatcherTest, IdleChannelIsNotAskedEachIteration) {
  auto [idle_end, idle_peer] = SocketPairOrDie();
  auto [busy_end, busy_peer] = SocketPairOrDie();
  Probe idle(map_.get());
  Probe busy(map_.get());
  ASSERT_TRUE(idle.Set(std::move(idle_end)).ok());
  ASSERT_TRUE(busy.Set(std::move(busy_end)).ok());
  const int idle_asked = idle.asked;
  const int busy_asked = busy.asked;
  constexpr size_t kRounds = 20;
  for (size_t i = 1; i <= kRounds; ++i) {
    WriteAll(busy_peer, "x");
    ASSERT_TRUE(RunUntil([&] { return busy.received.size() == i; }));
  }
  // asyncore asked every channel on every pass; here only the one whose
  // handler ran is asked again.
  EXPECT_EQ(idle.asked, idle_asked);
  EXPECT_GE(busy.asked - busy_asked, static_cast<int>(2 * kRounds));
}

TEST_P(DispatcherTest, CloseInHandleReadSuppressesSameIterationWrite) {
  auto [ours, theirs] = SocketPairOrDie();
  Probe probe(map_.get());
  probe.writable = true;
  probe.on_read = [&] { probe.Close(); };
  ASSERT_TRUE(probe.Set(std::move(ours)).ok());
  WriteAll(theirs, "x");  // readable and writable in the first iteration
  RunOnce();
  EXPECT_EQ(probe.Count("read"), 1);
  EXPECT_EQ(probe.Count("write"), 0);
  EXPECT_FALSE(probe.open());
  EXPECT_TRUE(map_->empty());
}

TEST_P(DispatcherTest, ClosedRegistrationGetsNoPendingEventEvenOnReusedFd) {
  auto [a_end, a_peer] = SocketPairOrDie();
  auto [b_end, b_peer] = SocketPairOrDie();
  Probe a(map_.get());
  Probe b(map_.get());
  Probe reuser(map_.get());
  Socket reuser_peer;
  // Whichever of a and b runs first closes the other, whose event is
  // already in this iteration's batch, and opens `reuser` on its fd number.
  auto close_other = [&](Probe& other) {
    if (!other.open()) return;
    const int closed_fd = other.socket().fd();
    other.Close();
    auto [first, second] = SocketPairOrDie();
    // The kernel hands out the lowest free descriptor: the one just closed.
    ASSERT_EQ(first.fd(), closed_fd);
    ASSERT_TRUE(reuser.Set(std::move(first)).ok());
    reuser_peer = std::move(second);
  };
  a.on_read = [&] {
    a.ReadSome();
    close_other(b);
  };
  b.on_read = [&] {
    b.ReadSome();
    close_other(a);
  };
  ASSERT_TRUE(a.Set(std::move(a_end)).ok());
  ASSERT_TRUE(b.Set(std::move(b_end)).ok());
  WriteAll(a_peer, "x");
  WriteAll(b_peer, "x");
  RunOnce();
  EXPECT_EQ(a.Count("read") + b.Count("read"), 1);
  EXPECT_TRUE(reuser.open());
  EXPECT_EQ(reuser.Count("read"), 0);
  EXPECT_TRUE(reuser.events.empty());
}

TEST_P(DispatcherTest, HangupWhileNotReadingCallsHandleClose) {
  if (GetParam() == Backend::kSelect) {
    GTEST_SKIP() << "select cannot report a hang-up, only readiness";
  }
  auto [ours, theirs] = SocketPairOrDie();
  Probe probe(map_.get());
  probe.readable = false;
  probe.writable = true;
  probe.on_write = [] {};
  ASSERT_TRUE(probe.Set(std::move(ours)).ok());
  theirs.Close();
  LoopUntilEmpty();
  EXPECT_EQ(probe.Count("close"), 1);
  EXPECT_EQ(probe.Count("read"), 0);
}

TEST_P(DispatcherTest, HandlerMayHandItsOwnerToDeleteLater) {
  auto [ours, theirs] = SocketPairOrDie();
  bool destroyed = false;
  auto owner = std::make_unique<Probe>(map_.get());
  Probe* probe = owner.get();
  probe->destroyed = &destroyed;
  probe->on_close = [&] {
    probe->Close();
    map_->loop()->DeleteLater(std::move(owner));
    EXPECT_FALSE(destroyed);
  };
  ASSERT_TRUE(probe->Set(std::move(ours)).ok());
  theirs.Close();
  LoopUntilEmpty();
  EXPECT_TRUE(destroyed);
}

TEST_P(DispatcherTest, HandlerMayReopenItsOwnDispatcher) {
  absl::StatusOr<Socket> listening = Socket::Listen(ParseOrDie("127.0.0.1:0"));
  ASSERT_TRUE(listening.ok()) << listening.status();
  Probe server(map_.get());
  Socket accepted;
  server.on_accepted = [&](Socket socket) {
    accepted = std::move(socket);
    server.Close();
  };
  ASSERT_TRUE(server.Set(*std::move(listening)).ok());
  absl::StatusOr<Address> address = server.socket().LocalAddress();
  ASSERT_TRUE(address.ok()) << address.status();

  // The first connect is refused; HandleError replaces the socket (and so
  // the watch whose handler is running) and connects again.
  Probe client(map_.get());
  client.on_error = [&] {
    ASSERT_TRUE(client.CreateSocket(AF_INET, Transport::kTcp).ok());
    ASSERT_TRUE(client.Connect(*address).ok());
  };
  client.on_connect = [&] { client.Close(); };
  ASSERT_TRUE(client.CreateSocket(AF_INET, Transport::kTcp).ok());
  ASSERT_TRUE(client.Connect(RefusingTcpAddress()).ok());
  LoopUntilEmpty();
  EXPECT_EQ(client.Count("error"), 1);
  EXPECT_EQ(client.Count("connect"), 1);
  EXPECT_TRUE(accepted.valid());
}

TEST_P(DispatcherTest, SetRecognisesListeningAndConnectedSockets) {
  Socket listener = ListenOrDie("127.0.0.1:0");
  absl::StatusOr<testing::StreamPair> pair =
      testing::ConnectToListener(listener);
  ASSERT_TRUE(pair.ok()) << pair.status();

  Probe accepting(map_.get());
  Probe connected(map_.get());
  Probe idle(map_.get());
  ASSERT_TRUE(accepting.Set(std::move(listener)).ok());
  ASSERT_TRUE(connected.Set(std::move(pair->server)).ok());
  ASSERT_TRUE(idle.CreateSocket(AF_INET, Transport::kTcp).ok());
  EXPECT_TRUE(accepting.accepting());
  EXPECT_EQ(accepting.interest(), kReadable);
  EXPECT_TRUE(connected.connected());
  EXPECT_EQ(connected.interest(), kReadable | kPriority);
  EXPECT_FALSE(idle.connected() || idle.accepting() || idle.connecting());
  EXPECT_EQ(idle.interest(), 0u);
  EXPECT_EQ(map_->size(), 3u);
  EXPECT_EQ(map_->Find(connected.socket().fd()), &connected);
  EXPECT_EQ(idle.Set(Socket()).code(), absl::StatusCode::kInvalidArgument);
  map_->CloseAll();
  EXPECT_TRUE(map_->empty());
  EXPECT_FALSE(accepting.open() || connected.open() || idle.open());
}

TEST_P(DispatcherTest, BufferedSendQueuesForSlowReaderThenDrainsInFewSends) {
  testing::StreamPair pair = TcpPairOrDie();
  ASSERT_TRUE(pair.client.valid() && pair.server.valid());
  // Small fixed buffers, so the kernel cannot swallow the payload whole.
  ASSERT_TRUE(pair.client.SetSendBuffer(64 * 1024).ok());
  ASSERT_TRUE(pair.server.SetReceiveBuffer(64 * 1024).ok());

  // Counts each HandleWrite (one send each) and the bytes it moved.
  class Sender : public DispatcherWithSend {
   public:
    using DispatcherWithSend::DispatcherWithSend;
    void HandleWrite() override {
      size_t before = pending_bytes();
      DispatcherWithSend::HandleWrite();
      ++writes;
      largest = std::max(largest, before - pending_bytes());
    }
    int writes = 0;
    size_t largest = 0;
  };

  std::string payload(4 * 1024 * 1024, '\0');
  for (size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>((i * 131 + (i >> 12)) & 0xff);
  }
  Sender sender(map_.get());
  Probe reader(map_.get());
  reader.readable = false;  // slow: not reading at all at first
  ASSERT_TRUE(sender.Set(std::move(pair.client)).ok());
  ASSERT_TRUE(reader.Set(std::move(pair.server)).ok());

  ASSERT_TRUE(sender.BufferedSend(payload).ok());
  const size_t queued = sender.pending_bytes();
  EXPECT_GT(queued, 0u);
  EXPECT_LT(queued, payload.size());  // the first send took what fit
  EXPECT_TRUE(sender.Writable());
  sender.CloseWhenDone();
  EXPECT_EQ(sender.BufferedSend("late").code(),
            absl::StatusCode::kFailedPrecondition);

  map_->loop()->RunAfter(absl::Milliseconds(50), [&] {
    reader.readable = true;
    // A change made outside the reader's own handlers.
    ASSERT_TRUE(reader.UpdateInterest().ok());
  });
  LoopUntilEmpty();

  EXPECT_EQ(sender.pending_bytes(), 0u);
  EXPECT_FALSE(sender.open());
  ASSERT_EQ(reader.received.size(), payload.size());
  EXPECT_TRUE(reader.received == payload) << "bytes lost or reordered";
  EXPECT_EQ(reader.Count("close"), 1);
  // asyncore's 512-byte slices would take 8,192 sends for 4 MiB; here each
  // send offers everything pending.
  RecordProperty("sends_after_the_first", sender.writes);
  RecordProperty("largest_send", static_cast<int>(sender.largest));
  EXPECT_GT(sender.writes, 0);
  EXPECT_LT(sender.writes, 1024);
  EXPECT_GT(sender.largest, 512u * 8);
}

TEST_P(DispatcherTest, LoopCountBoundsIterations) {
  auto [ours, theirs] = SocketPairOrDie();
  Probe probe(map_.get());
  probe.readable = false;
  probe.writable = true;  // writable on every iteration: one HandleWrite each
  ASSERT_TRUE(probe.Set(std::move(ours)).ok());

  ASSERT_TRUE(Loop(kTick, GetParam(), map_.get(), 5).ok());
  EXPECT_EQ(probe.Count("write"), 5);
  ASSERT_TRUE(Loop(kTick, GetParam(), map_.get(), 0).ok());
  EXPECT_EQ(probe.Count("write"), 5);
  ASSERT_TRUE(Loop(kTick, GetParam(), map_.get(), 1).ok());
  EXPECT_EQ(probe.Count("write"), 6);
}

TEST_P(DispatcherTest, LoopReturnsWhenTheMapEmpties) {
  // An empty map runs no iteration at all, even with a timer due.
  bool early_timer = false;
  map_->loop()->RunAfter(absl::ZeroDuration(), [&] { early_timer = true; });
  ASSERT_TRUE(Loop(kTick, GetParam(), map_.get()).ok());
  EXPECT_FALSE(early_timer);

  auto [ours, theirs] = SocketPairOrDie();
  Probe probe(map_.get());
  ASSERT_TRUE(probe.Set(std::move(ours)).ok());
  EXPECT_FALSE(map_->empty());
  // Timers, which asyncore lacked, come from the map's loop.
  map_->loop()->RunAfter(absl::Milliseconds(20), [&] { probe.Close(); });
  LoopUntilEmpty();
  EXPECT_TRUE(early_timer);
  EXPECT_FALSE(probe.open());
}

TEST_P(DispatcherTest, LoopRefusesAMapOnAnotherBackend) {
  Backend other = GetParam() == Backend::kEpoll ? Backend::kPoll
                                                : Backend::kEpoll;
  absl::Status looped = Loop(kTick, other, map_.get());
  EXPECT_EQ(looped.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(looped.message(), HasSubstr(BackendName(GetParam())));
}

TEST_P(DispatcherTest, TenThousandConnectionsLeaveNoDescriptorOpen) {
  constexpr int kConnections = 10000;
  constexpr int kBatch = 100;  // far below select's FD_SETSIZE
  Probe listener(map_.get());
  std::vector<std::unique_ptr<Probe>> served;
  int served_closed = 0;
  listener.on_accepted = [&](Socket socket) {
    auto handler = std::make_unique<Probe>(map_.get());
    Probe* raw = handler.get();
    raw->on_close = [&served_closed, raw] {
      ++served_closed;
      raw->Close();
    };
    ASSERT_TRUE(handler->Set(std::move(socket)).ok());
    served.push_back(std::move(handler));
  };
  absl::StatusOr<Socket> listening = Socket::Listen(ParseOrDie("127.0.0.1:0"));
  ASSERT_TRUE(listening.ok()) << listening.status();
  ASSERT_TRUE(listener.Set(*std::move(listening)).ok());
  absl::StatusOr<Address> address = listener.socket().LocalAddress();
  ASSERT_TRUE(address.ok());

  int connected = 0;
  for (int batch = 1; batch <= kConnections / kBatch; ++batch) {
    std::vector<std::unique_ptr<Probe>> clients;
    for (int i = 0; i < kBatch; ++i) {
      auto client = std::make_unique<Probe>(map_.get());
      Probe* raw = client.get();
      raw->on_connect = [&connected, raw] {
        ++connected;
        raw->Close();
      };
      ASSERT_TRUE(client->CreateSocket(AF_INET, Transport::kTcp).ok());
      ASSERT_TRUE(client->Connect(*address).ok());
      clients.push_back(std::move(client));
    }
    ASSERT_TRUE(RunUntil([&] {
      return connected == batch * kBatch && served_closed == batch * kBatch;
    })) << "batch " << batch << ": " << connected << " connected, "
        << served_closed << " closed by the server";
    EXPECT_EQ(map_->size(), 1u);  // only the listener is left
    clients.clear();
    served.clear();
  }
  listener.Close();
  EXPECT_EQ(listener.Count("accepted"), kConnections);
  EXPECT_EQ(connected, kConnections);
  EXPECT_EQ(served_closed, kConnections);
  EXPECT_EQ(CountOpenFds(), fds_before_);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, DispatcherTest,
                         ::testing::ValuesIn(kAllBackends),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return std::string(BackendName(info.param));
                         });

// Not parameterised: the default map is one per process. No other test in
// this file gives a socket to a dispatcher without a map, so this one sees
// the default map come into existence.
TEST(DefaultChannelMap, IsCreatedOnlyWhenAsked) {
  ASSERT_EQ(DefaultChannelMapIfCreated(), nullptr);
  auto [ours, theirs] = SocketPairOrDie();
  {
    Probe probe(nullptr);
    EXPECT_EQ(probe.map(), nullptr);
    EXPECT_EQ(DefaultChannelMapIfCreated(), nullptr);
    probe.writable = true;
    ASSERT_TRUE(probe.Set(std::move(ours)).ok());
    ChannelMap* created = DefaultChannelMapIfCreated();
    ASSERT_NE(created, nullptr);
    EXPECT_EQ(probe.map(), created);
    EXPECT_EQ(created->backend(), Backend::kEpoll);
    absl::StatusOr<ChannelMap*> again = DefaultChannelMap();
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, created);
    EXPECT_EQ(DefaultChannelMap(Backend::kPoll).status().code(),
              absl::StatusCode::kFailedPrecondition);

    // Loop with a null map drives the default one.
    ASSERT_TRUE(Loop(kTick, Backend::kEpoll, nullptr, 2).ok());
    EXPECT_EQ(probe.Count("write"), 2);
    probe.Close();
    EXPECT_TRUE(created->empty());
    ASSERT_TRUE(Loop(kTick, Backend::kEpoll, nullptr).ok());
    EXPECT_EQ(probe.Count("write"), 2);
  }
}

}  // namespace
}  // namespace asyncwork::net
