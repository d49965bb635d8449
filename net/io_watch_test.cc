#include "net/io_watch.h"

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "net/event_loop.h"
#include "net/reactor_test_util.h"
#include "net/test_util.h"

namespace asyncwork::net {
namespace {

using ::asyncwork::net::testing::CountOpenFds;
using ::asyncwork::net::testing::MakeEventFd;
using ::asyncwork::net::testing::MakePipe;
using ::asyncwork::net::testing::MakeSocketPair;
using ::asyncwork::net::testing::ReadAll;
using ::asyncwork::net::testing::RunUntil;
using ::asyncwork::net::testing::WriteByte;

// Recorder counts a watch's handler calls and keeps the bits of each.
struct Recorder {
  IoWatch::Handler Handler() {
    return [this](uint32_t ready) { calls.push_back(ready); };
  }
  std::vector<uint32_t> calls;
};

class IoWatchTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(GetParam());
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
  }

  void RunOnce(absl::Duration max_wait = absl::Milliseconds(100)) {
    absl::Status status = loop_->RunOnce(max_wait);
    ASSERT_TRUE(status.ok()) << status;
  }

  std::unique_ptr<EventLoop> loop_;
};

TEST_P(IoWatchTest, DeliversReadableUntilDrained) {
  auto [read_end, write_end] = MakePipe();
  Recorder recorder;
  IoWatch watch(loop_.get(), read_end.get(), recorder.Handler());
  ASSERT_TRUE(watch.EnableReading().ok());
  EXPECT_EQ(loop_->watch_count(), 1u);
  RunOnce(absl::ZeroDuration());
  EXPECT_TRUE(recorder.calls.empty());
  WriteByte(write_end.get());
  RunOnce();
  RunOnce();  // level-triggered: still readable, reported again
  ASSERT_EQ(recorder.calls.size(), 2u);
  EXPECT_EQ(recorder.calls[0], kReadable);
  EXPECT_EQ(ReadAll(read_end.get()), 1u);
  RunOnce(absl::ZeroDuration());
  EXPECT_EQ(recorder.calls.size(), 2u);
}

TEST_P(IoWatchTest, DeliversWritableOnlyWhileInterested) {
  auto [ours, theirs] = MakeSocketPair();
  Recorder recorder;
  IoWatch watch(loop_.get(), ours.get(), recorder.Handler());
  ASSERT_TRUE(watch.EnableReading().ok());
  ASSERT_TRUE(watch.EnableWriting().ok());
  EXPECT_TRUE(watch.reading() && watch.writing());
  RunOnce();
  ASSERT_EQ(recorder.calls.size(), 1u);
  EXPECT_EQ(recorder.calls[0], kWritable);
  ASSERT_TRUE(watch.DisableWriting().ok());
  RunOnce(absl::ZeroDuration());
  EXPECT_EQ(recorder.calls.size(), 1u);
  EXPECT_EQ(watch.interest(), kReadable);
}

TEST_P(IoWatchTest, DeliversPeerCloseAsHangupOrReadableEof) {
  auto [ours, theirs] = MakeSocketPair();
  Recorder recorder;
  IoWatch watch(loop_.get(), ours.get(), recorder.Handler());
  ASSERT_TRUE(watch.EnableReading().ok());
  theirs.Close();
  RunOnce();
  ASSERT_EQ(recorder.calls.size(), 1u);
  EXPECT_TRUE(recorder.calls[0] & (kReadable | kHangup))
      << EventsToString(recorder.calls[0]);
  char byte;
  EXPECT_EQ(::read(ours.get(), &byte, 1), 0);
}

TEST_P(IoWatchTest, EmptyInterestStopsTheWatch) {
  Fd fd = MakeEventFd(1);
  Recorder recorder;
  IoWatch watch(loop_.get(), fd.get(), recorder.Handler());
  ASSERT_TRUE(watch.EnableReading().ok());
  ASSERT_TRUE(watch.DisableReading().ok());
  EXPECT_FALSE(watch.active());
  EXPECT_EQ(loop_->watch_count(), 0u);
  RunOnce(absl::ZeroDuration());
  EXPECT_TRUE(recorder.calls.empty());
  ASSERT_TRUE(watch.EnableReading().ok());  // and it can start again
  RunOnce();
  EXPECT_EQ(recorder.calls.size(), 1u);
}

// Two watches on always-ready eventfds: whichever handler runs first destroys
// the other watch, whose event is already in the same batch.
TEST_P(IoWatchTest, DestroyingWatchInAnotherHandlerSuppressesItsPendingEvent) {
  Fd fd_a = MakeEventFd(1);
  Fd fd_b = MakeEventFd(1);
  int calls_a = 0;
  int calls_b = 0;
  std::unique_ptr<IoWatch> a;
  std::unique_ptr<IoWatch> b;
  a = std::make_unique<IoWatch>(loop_.get(), fd_a.get(), [&](uint32_t) {
    ++calls_a;
    b.reset();
  });
  b = std::make_unique<IoWatch>(loop_.get(), fd_b.get(), [&](uint32_t) {
    ++calls_b;
    a.reset();
  });
  ASSERT_TRUE(a->EnableReading().ok());
  ASSERT_TRUE(b->EnableReading().ok());
  RunOnce();
  EXPECT_EQ(calls_a + calls_b, 1);
  EXPECT_EQ(loop_->watch_count(), 1u);
  // The survivor keeps working.
  RunOnce();
  EXPECT_EQ(calls_a + calls_b, 2);
}

TEST_P(IoWatchTest, StoppingWatchInAnotherHandlerSuppressesItsPendingEvent) {
  Fd fd_a = MakeEventFd(1);
  Fd fd_b = MakeEventFd(1);
  int calls = 0;
  std::unique_ptr<IoWatch> a;
  std::unique_ptr<IoWatch> b;
  a = std::make_unique<IoWatch>(loop_.get(), fd_a.get(), [&](uint32_t) {
    ++calls;
    b->Stop();
  });
  b = std::make_unique<IoWatch>(loop_.get(), fd_b.get(), [&](uint32_t) {
    ++calls;
    a->Stop();
  });
  ASSERT_TRUE(a->EnableReading().ok());
  ASSERT_TRUE(b->EnableReading().ok());
  RunOnce();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(loop_->watch_count(), 1u);
}

TEST_P(IoWatchTest, DisablingReadingInAnotherHandlerMasksThePendingEvent) {
  Fd fd_a = MakeEventFd(1);
  Fd fd_b = MakeEventFd(1);
  std::vector<uint32_t> seen;
  std::unique_ptr<IoWatch> a;
  std::unique_ptr<IoWatch> b;
  // Both are readable and writable; whichever runs first stops the other's
  // reading, so the other (if it runs) sees only writable.
  a = std::make_unique<IoWatch>(loop_.get(), fd_a.get(), [&](uint32_t ready) {
    seen.push_back(ready);
    if (seen.size() == 1) {
      ASSERT_TRUE(b->DisableReading().ok());
    }
  });
  b = std::make_unique<IoWatch>(loop_.get(), fd_b.get(), [&](uint32_t ready) {
    seen.push_back(ready);
    if (seen.size() == 1) {
      ASSERT_TRUE(a->DisableReading().ok());
    }
  });
  ASSERT_TRUE(a->Watch(kReadable | kWritable).ok());
  ASSERT_TRUE(b->Watch(kReadable | kWritable).ok());
  RunOnce();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], kReadable | kWritable);
  EXPECT_EQ(seen[1], kWritable);
}

// Whichever handler runs first retires the other watch, closes its fd, opens
// a new eventfd (which takes the lowest free number: the one just closed) and
// watches it. The old watch's event, already returned in the same batch, must
// not reach the new watch.
TEST_P(IoWatchTest, ReusedFdNumberDoesNotReachTheOldWatch) {
  struct Side {
    Fd fd;
    std::unique_ptr<IoWatch> watch;
    int calls = 0;
  };
  Side sides[2];
  Fd replacement_fd;
  std::unique_ptr<IoWatch> replacement;
  int replacement_calls = 0;
  int reused_number = -1;
  auto replace = [&](Side& other) {
    reused_number = other.fd.get();
    other.watch.reset();
    other.fd.Close();
    replacement_fd = MakeEventFd(0);  // not readable
    ASSERT_EQ(replacement_fd.get(), reused_number);
    replacement = std::make_unique<IoWatch>(loop_.get(), replacement_fd.get(),
                                            [&](uint32_t) { ++replacement_calls; });
    ASSERT_TRUE(replacement->EnableReading().ok());
  };
  for (int i = 0; i < 2; ++i) {
    sides[i].fd = MakeEventFd(1);
    sides[i].watch = std::make_unique<IoWatch>(
        loop_.get(), sides[i].fd.get(), [&, i](uint32_t) {
          ++sides[i].calls;
          if (replacement == nullptr) replace(sides[1 - i]);
        });
    ASSERT_TRUE(sides[i].watch->EnableReading().ok());
  }
  RunOnce();
  EXPECT_EQ(sides[0].calls + sides[1].calls, 1);
  EXPECT_NE(reused_number, -1);
  EXPECT_EQ(replacement_calls, 0);
  RunOnce(absl::ZeroDuration());
  EXPECT_EQ(replacement_calls, 0);  // its own fd is not readable
  uint64_t one = 1;
  ASSERT_EQ(::write(replacement_fd.get(), &one, sizeof(one)), 8);
  RunOnce();
  EXPECT_EQ(replacement_calls, 1);
}

TEST_P(IoWatchTest, HandlerMayStopItsOwnWatch) {
  Fd fd = MakeEventFd(1);
  int calls = 0;
  std::unique_ptr<IoWatch> watch;
  watch = std::make_unique<IoWatch>(loop_.get(), fd.get(), [&](uint32_t) {
    ++calls;
    watch->Stop();
  });
  ASSERT_TRUE(watch->EnableReading().ok());
  RunOnce();
  RunOnce(absl::ZeroDuration());
  EXPECT_EQ(calls, 1);
}

// Connection owns its fd and watch and closes itself from its own handler.
class Connection {
 public:
  Connection(EventLoop* loop, Fd fd, std::unique_ptr<Connection>* self, int* destroyed)
      : fd_(std::move(fd)),
        watch_(loop, fd_.get(), [this, loop](uint32_t) {
          ++calls;
          loop->DeleteLater(std::move(*self_));
        }),
        self_(self),
        destroyed_(destroyed) {}
  ~Connection() { ++*destroyed_; }
  absl::Status Start() { return watch_.EnableReading(); }
  int calls = 0;

 private:
  Fd fd_;
  IoWatch watch_;
  std::unique_ptr<Connection>* self_;
  int* destroyed_;
};

TEST_P(IoWatchTest, OwnerHandsItselfToDeleteLaterFromItsHandler) {
  int before = CountOpenFds();
  int destroyed = 0;
  std::unique_ptr<Connection> connection;
  connection = std::make_unique<Connection>(loop_.get(), MakeEventFd(1), &connection,
                                            &destroyed);
  ASSERT_TRUE(connection->Start().ok());
  RunOnce();
  EXPECT_EQ(connection, nullptr);
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(loop_->watch_count(), 0u);
  EXPECT_EQ(CountOpenFds(), before);
}

TEST_P(IoWatchTest, ThousandWatchesLeaveNoFdOpen) {
  int before = CountOpenFds();
  int calls = 0;
  for (int round = 0; round < 10; ++round) {
    std::vector<Fd> fds;
    std::vector<std::unique_ptr<IoWatch>> watches;
    for (int i = 0; i < 100; ++i) {
      fds.push_back(MakeEventFd(1));
      watches.push_back(std::make_unique<IoWatch>(loop_.get(), fds.back().get(),
                                                  [&](uint32_t) { ++calls; }));
      ASSERT_TRUE(watches.back()->EnableReading().ok());
    }
    EXPECT_EQ(loop_->watch_count(), 100u);
    ASSERT_TRUE(RunUntil(*loop_, [&] { return calls >= (round + 1) * 100; }));
  }
  EXPECT_EQ(loop_->watch_count(), 0u);
  EXPECT_EQ(CountOpenFds(), before);
}

INSTANTIATE_TEST_SUITE_P(AllBackends, IoWatchTest, ::testing::ValuesIn(kAllBackends),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return std::string(BackendName(info.param));
                         });

TEST(IoWatch, EdgeTriggerFiresOnceUntilNewDataWhileLevelRepeats) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(Backend::kEpoll);
  ASSERT_TRUE(loop.ok());
  auto [level_read, level_write] = MakePipe();
  auto [edge_read, edge_write] = MakePipe();
  int level_calls = 0;
  int edge_calls = 0;
  IoWatch level((*loop).get(), level_read.get(), [&](uint32_t) { ++level_calls; });
  IoWatch edge((*loop).get(), edge_read.get(), [&](uint32_t) { ++edge_calls; });
  ASSERT_TRUE(level.Watch(kReadable, Trigger::kLevel).ok());
  ASSERT_TRUE(edge.Watch(kReadable, Trigger::kEdge).ok());
  EXPECT_EQ(edge.trigger(), Trigger::kEdge);
  WriteByte(level_write.get());
  WriteByte(edge_write.get());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*loop)->RunOnce(absl::Milliseconds(100)).ok());
  EXPECT_EQ(level_calls, 3);
  EXPECT_EQ(edge_calls, 1);
  WriteByte(edge_write.get());  // a new edge
  ASSERT_TRUE((*loop)->RunOnce(absl::Milliseconds(100)).ok());
  EXPECT_EQ(edge_calls, 2);
  // Enabling writing keeps the edge trigger.
  ASSERT_TRUE(edge.EnableWriting().ok());
  EXPECT_EQ(edge.trigger(), Trigger::kEdge);
}

TEST(IoWatch, PollAndSelectRefuseEdgeTriggerAndStayInactive) {
  for (Backend backend : {Backend::kPoll, Backend::kSelect}) {
    absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(backend);
    ASSERT_TRUE(loop.ok());
    Fd fd = MakeEventFd();
    IoWatch watch((*loop).get(), fd.get(), [](uint32_t) {});
    EXPECT_EQ(watch.Watch(kReadable, Trigger::kEdge).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_FALSE(watch.active());
    EXPECT_EQ((*loop)->watch_count(), 0u);
  }
}

TEST(IoWatch, SelectRefusesFdAtOrAboveFdSetSize) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(Backend::kSelect);
  ASSERT_TRUE(loop.ok());
  Fd low = MakeEventFd();
  Fd high(::fcntl(low.get(), F_DUPFD_CLOEXEC, FD_SETSIZE));
  if (!high.valid()) GTEST_SKIP() << "cannot open fd >= FD_SETSIZE here";
  IoWatch watch((*loop).get(), high.get(), [](uint32_t) {});
  absl::Status status = watch.EnableReading();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("FD_SETSIZE"), absl::string_view::npos) << status;
  EXPECT_FALSE(watch.active());
  EXPECT_EQ((*loop)->watch_count(), 0u);
}

TEST(IoWatchDeathTest, DestroyingOwnWatchInsideItsHandlerAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
        Fd fd = MakeEventFd(1);
        std::unique_ptr<IoWatch> watch;
        watch = std::make_unique<IoWatch>((*loop).get(), fd.get(),
                                          [&](uint32_t) { watch.reset(); });
        (void)watch->EnableReading();
        (void)(*loop)->RunOnce(absl::Seconds(1));
      },
      "DeleteLater");
}

}  // namespace
}  // namespace asyncwork::net
