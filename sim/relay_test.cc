#include "sim/relay.h"

#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "net/event_loop.h"
#include "net/reactor_test_util.h"
#include "net/socket.h"
#include "net/test_util.h"
#include "sim/datagram_model.h"
#include "sim/fault.h"
#include "sim/link_model.h"
#include "sim/shaping_test_util.h"
#include "sim/units.h"

namespace asyncwork::sim {
namespace {

using ::asyncwork::net::testing::CountOpenFds;
using ::asyncwork::net::testing::RunUntil;
using ::asyncwork::net::testing::SocketPairOrDie;
using ::asyncwork::net::testing::TcpPairOrDie;
using ::asyncwork::sim::testing::Drain;
using ::asyncwork::sim::testing::Drained;
using ::asyncwork::sim::testing::DrainDatagrams;
using ::asyncwork::sim::testing::Pattern;
using ::asyncwork::sim::testing::PlanOrDie;
using ::asyncwork::sim::testing::ReadTimestamp;
using ::asyncwork::sim::testing::Timestamp;
using ::asyncwork::sim::testing::WriteSome;

// Far beyond any healthy delay on a loaded two-core machine: tests check
// that shaping never delivers early, and only loosely that it is not late.
constexpr absl::Duration kSlack = absl::Milliseconds(250);
constexpr absl::Duration kTimeout = absl::Seconds(10);

LinkConfig Latency(absl::Duration latency) {
  LinkConfig config;
  config.latency = latency;
  return config;
}

// RelayTest joins a "program" socket and a "peer" socket through a relay on
// a loop the test runs itself: program <-> relay <-> peer.
class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fds_before_ = CountOpenFds();
    absl::StatusOr<std::unique_ptr<net::EventLoop>> loop =
        net::EventLoop::Create();
    ASSERT_TRUE(loop.ok()) << loop.status();
    loop_ = *std::move(loop);
  }

  void TearDown() override {
    relay_.reset();
    program_.Close();
    peer_.Close();
    loop_.reset();
    EXPECT_EQ(CountOpenFds(), fds_before_);
  }

  // StartStream relays between two Unix stream socketpairs.
  void StartStream(const LinkProfile& profile, const RelayOptions& options = {},
                   const FaultPlan& faults = {}) {
    auto [program, client_side] = SocketPairOrDie(net::Transport::kUnixStream);
    auto [peer, server_side] = SocketPairOrDie(net::Transport::kUnixStream);
    program_ = std::move(program);
    peer_ = std::move(peer);
    Start(ShapedRelay::ForStream(loop_.get(), std::move(client_side),
                                 std::move(server_side), profile, options,
                                 faults));
  }

  // StartTcpWithFaults relays, unshaped, between two loopback TCP
  // connections, so a reset is a real one.
  void StartTcpWithFaults(const FaultPlan& faults) {
    net::testing::StreamPair client = TcpPairOrDie();
    net::testing::StreamPair server = TcpPairOrDie();
    program_ = std::move(client.client);
    peer_ = std::move(server.server);
    Start(ShapedRelay::ForStream(loop_.get(), std::move(client.server),
                                 std::move(server.client), LinkProfile(), {},
                                 faults));
  }

  // Collect runs the loop, draining `socket` into `*got`, until it ends or
  // fails; returns how it ended.
  Drained Collect(net::Socket& socket, std::string* got) {
    Drained last;
    EXPECT_TRUE(RunUntil(
        *loop_,
        [&] {
          last = Drain(socket);
          *got += last.bytes;
          return last.eof || !last.error.ok();
        },
        kTimeout));
    return last;
  }

  void Start(std::unique_ptr<ShapedRelay> relay) {
    relay_ = std::move(relay);
    absl::Status started = relay_->Start([this](absl::Status status) {
      ++closed_calls_;
      closed_status_ = std::move(status);
    });
    ASSERT_TRUE(started.ok()) << started;
  }

  // MeasureDelays sends `count` timestamped 8-byte messages from `from`
  // one at a time and returns how long each took to reach `to`.
  std::vector<absl::Duration> MeasureDelays(net::Socket& from, net::Socket& to,
                                            int count) {
    std::vector<absl::Duration> delays;
    for (int i = 0; i < count; ++i) {
      std::string stamp = Timestamp(absl::Now());
      size_t offset = 0;
      WriteSome(from, stamp, &offset);
      EXPECT_EQ(offset, stamp.size());
      std::string got;
      absl::Time arrived;
      EXPECT_TRUE(RunUntil(*loop_, [&] {
        got += Drain(to).bytes;
        arrived = absl::Now();
        return got.size() >= stamp.size();
      }));
      EXPECT_EQ(got, stamp);
      delays.push_back(arrived - ReadTimestamp(got));
    }
    return delays;
  }

  // Transfer writes the rest of `sent` from `*offset` on to the program's
  // socket while running the loop, and checks the peer receives all of it.
  void Transfer(const std::string& sent, size_t* offset) {
    std::string got;
    ASSERT_TRUE(RunUntil(
        *loop_,
        [&] {
          WriteSome(program_, sent, offset);
          got += Drain(peer_).bytes;
          return got.size() >= sent.size();
        },
        kTimeout));
    EXPECT_TRUE(got == sent) << "the bytes changed on the way";
  }

  int fds_before_ = 0;
  std::unique_ptr<net::EventLoop> loop_;
  net::Socket program_;
  net::Socket peer_;
  std::unique_ptr<ShapedRelay> relay_;
  int closed_calls_ = 0;
  absl::Status closed_status_ = absl::UnknownError("not closed");
};

TEST_F(RelayTest, DeliversEachDirectionNoSoonerThanItsLatency) {
  // Unequal latencies show that each direction has its own.
  LinkProfile profile{Latency(absl::Milliseconds(30)),
                      Latency(absl::Milliseconds(3))};
  StartStream(profile);
  for (absl::Duration delay : MeasureDelays(program_, peer_, 10)) {
    EXPECT_GE(delay, absl::Milliseconds(30));
    EXPECT_LT(delay, absl::Milliseconds(30) + kSlack);
  }
  for (absl::Duration delay : MeasureDelays(peer_, program_, 10)) {
    EXPECT_GE(delay, absl::Milliseconds(3));
    EXPECT_LT(delay, absl::Milliseconds(3) + kSlack);
  }
}

TEST_F(RelayTest, BandwidthCapTakesAtLeastTheModelTime) {
  const Bandwidth cap = Bandwidth::BitsPerSecond(8'000'000);
  LinkConfig config;
  config.bandwidth = cap;
  StartStream(LinkProfile::Symmetric(config));
  const std::string sent = Pattern(1 << 20, 1);
  size_t offset = 0;
  absl::Time start = absl::Now();
  Transfer(sent, &offset);
  absl::Duration elapsed = absl::Now() - start;
  const absl::Duration model = cap.TimeToSend(sent.size());
  EXPECT_GE(elapsed, model);
  EXPECT_LT(elapsed, model * 3);
}

TEST_F(RelayTest, CarriesBothDirectionsAtOnceByteForByte) {
  StartStream(LinkProfile::Symmetric(Latency(absl::Milliseconds(1))));
  const std::string up = Pattern(512 << 10, 2);
  const std::string down = Pattern(512 << 10, 3);
  size_t up_offset = 0;
  size_t down_offset = 0;
  std::string got_up;
  std::string got_down;
  ASSERT_TRUE(RunUntil(
      *loop_,
      [&] {
        WriteSome(program_, up, &up_offset);
        WriteSome(peer_, down, &down_offset);
        got_up += Drain(peer_).bytes;
        got_down += Drain(program_).bytes;
        return got_up.size() >= up.size() && got_down.size() >= down.size();
      },
      kTimeout));
  EXPECT_TRUE(got_up == up);
  EXPECT_TRUE(got_down == down);
  RelayStats stats = relay_->stats();
  EXPECT_EQ(stats.client_to_server.bytes_delivered, up.size());
  EXPECT_EQ(stats.server_to_client.bytes_delivered, down.size());
}

TEST_F(RelayTest, HalfClosePropagatesAfterTheDataAndFinishesCleanly) {
  const absl::Duration latency = absl::Milliseconds(20);
  StartStream(LinkProfile::Symmetric(Latency(latency)));
  size_t offset = 0;
  WriteSome(program_, "hello", &offset);
  ASSERT_TRUE(program_.ShutdownWrite().ok());
  absl::Time shut_at = absl::Now();
  Drained up;
  ASSERT_TRUE(RunUntil(*loop_, [&] {
    Drained more = Drain(peer_);
    up.bytes += more.bytes;
    up.eof = more.eof;
    return up.eof;
  }));
  EXPECT_GE(absl::Now() - shut_at, latency);
  EXPECT_EQ(up.bytes, "hello");
  EXPECT_EQ(closed_calls_, 0) << "the other direction is still open";

  // The peer can still answer over the half-open connection.
  offset = 0;
  WriteSome(peer_, "bye", &offset);
  ASSERT_TRUE(peer_.ShutdownWrite().ok());
  Drained down;
  ASSERT_TRUE(RunUntil(*loop_, [&] {
    Drained more = Drain(program_);
    down.bytes += more.bytes;
    down.eof = more.eof;
    return down.eof && closed_calls_ > 0;
  }));
  EXPECT_EQ(down.bytes, "bye");
  EXPECT_EQ(closed_calls_, 1);
  EXPECT_TRUE(closed_status_.ok()) << closed_status_;
  EXPECT_TRUE(relay_->closed());
}

TEST_F(RelayTest, ResetReachesTheOtherSideAfterTheLatency) {
  const absl::Duration latency = absl::Milliseconds(20);
  auto [server_side, peer] = TcpPairOrDie();
  auto [program, client_side] = SocketPairOrDie(net::Transport::kUnixStream);
  program_ = std::move(program);
  peer_ = std::move(peer);
  Start(ShapedRelay::ForStream(loop_.get(), std::move(client_side),
                               std::move(server_side),
                               LinkProfile::Symmetric(Latency(latency))));

  // An abortive close: the relay's TCP socket sees a reset.
  struct linger abort_on_close = {1, 0};
  ASSERT_EQ(::setsockopt(peer_.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close,
                         sizeof(abort_on_close)),
            0);
  peer_.Close();
  absl::Time reset_at = absl::Now();
  Drained seen;
  ASSERT_TRUE(RunUntil(*loop_, [&] {
    seen = Drain(program_);
    return seen.eof || !seen.error.ok();
  }));
  EXPECT_GE(absl::Now() - reset_at, latency);
  EXPECT_EQ(closed_calls_, 1);
  EXPECT_FALSE(closed_status_.ok());
  EXPECT_NE(closed_status_.message().find("server side"), std::string::npos)
      << closed_status_;
}

TEST_F(RelayTest, StopsReadingWhenItHoldsItsLimitAndLosesNothing) {
  RelayOptions options;
  options.max_held_bytes = 64 << 10;
  StartStream(LinkProfile::Symmetric(LinkConfig()), options);
  // The peer reads nothing, so the relay's writes block and bytes pile up
  // until the relay stops reading and the program's writes block too.
  const std::string sent = Pattern(2 << 20, 4);
  size_t offset = 0;
  size_t offset_before = 0;
  int stalled_rounds = 0;
  for (int round = 0; round < 1000 && stalled_rounds < 20; ++round) {
    WriteSome(program_, sent, &offset);
    ASSERT_TRUE(loop_->RunOnce(absl::Milliseconds(1)).ok());
    stalled_rounds = offset == offset_before ? stalled_rounds + 1 : 0;
    offset_before = offset;
  }
  EXPECT_LT(offset, sent.size()) << "the writer was never held back";
  const RelayDirectionStats stats = relay_->stats().client_to_server;
  EXPECT_LE(stats.peak_held_bytes, options.max_held_bytes + (64 << 10));
  EXPECT_GT(stats.peak_held_bytes, 0u);

  Transfer(sent, &offset);
}

TEST_F(RelayTest, DestroyingARelayClosesBothSidesWithoutTheCallback) {
  StartStream(LinkProfile::Symmetric(Latency(absl::Seconds(5))));
  size_t offset = 0;
  WriteSome(program_, "never delivered", &offset);
  ASSERT_TRUE(loop_->RunOnce(absl::Milliseconds(10)).ok());
  relay_.reset();
  EXPECT_TRUE(Drain(program_).eof);
  EXPECT_TRUE(Drain(peer_).eof);
  EXPECT_EQ(closed_calls_, 0);
}

// DatagramRelayTest relays datagrams from the program to the peer with a
// given config (the reverse direction is unshaped).
class DatagramRelayTest : public RelayTest {
 protected:
  void StartDatagrams(const DatagramConfig& config) {
    auto [program, client_side] = SocketPairOrDie(net::Transport::kUnixDatagram);
    auto [peer, server_side] = SocketPairOrDie(net::Transport::kUnixDatagram);
    program_ = std::move(program);
    peer_ = std::move(peer);
    Start(ShapedRelay::ForDatagrams(loop_.get(), std::move(client_side),
                                    std::move(server_side),
                                    DatagramProfile{config, DatagramConfig()}));
  }

  // Send sends datagrams numbered `from` to `to` - 1, waiting for the relay
  // to take each (a Unix datagram queue is short), and collects arrivals.
  void Send(int from, int to) {
    for (int i = from; i < to; ++i) {
      std::string datagram = absl::StrCat("#", i);
      ASSERT_TRUE(program_.Write(datagram).ok());
      ASSERT_TRUE(RunUntil(*loop_, [&] {
        Collect();
        return relay_->stats().client_to_server.datagrams_read ==
               static_cast<uint64_t>(i + 1);
      }));
    }
  }

  // Finish waits until nothing is held and collects the rest.
  void Finish() {
    ASSERT_TRUE(RunUntil(*loop_, [&] {
      Collect();
      return relay_->stats().client_to_server.held_bytes == 0;
    }));
    Collect();
  }

  void Collect() {
    for (std::string& datagram : DrainDatagrams(peer_)) {
      arrived_.push_back(std::move(datagram));
    }
  }

  // RunAll sends `count` datagrams through a fresh relay with `config` and
  // returns them in the order they arrived.
  std::vector<std::string> RunAll(const DatagramConfig& config, int count) {
    arrived_.clear();
    StartDatagrams(config);
    Send(0, count);
    Finish();
    return arrived_;
  }

  std::vector<std::string> arrived_;
};

TEST_F(DatagramRelayTest, SameSeedSameFateDifferentSeedDifferentFate) {
  DatagramConfig config;
  config.link.latency = absl::Milliseconds(1);
  config.loss = 0.3;
  config.duplicate = 0.2;
  config.link.seed = 11;
  constexpr int kCount = 150;
  std::vector<std::string> first = RunAll(config, kCount);
  std::vector<std::string> again = RunAll(config, kCount);
  EXPECT_EQ(first, again);
  // Some were lost and some duplicated, as the model decides for seed 11.
  DatagramDirection model(config);
  size_t expected = 0;
  for (int i = 0; i < kCount; ++i) {
    expected += model.OnSend(absl::Now(), 4).size();
  }
  EXPECT_EQ(first.size(), expected);
  EXPECT_GT(model.stats().lost, 0u);
  EXPECT_GT(model.stats().duplicated, 0u);

  config.link.seed = 12;
  EXPECT_NE(RunAll(config, kCount), first);
}

TEST_F(DatagramRelayTest, ReorderedDatagramsArriveAfterLaterOnes) {
  DatagramConfig config;
  config.reorder = 0.5;
  config.reorder_delay = absl::Milliseconds(500);
  config.link.seed = 5;
  StartDatagrams(config);
  constexpr int kCount = 20;
  Send(0, kCount);
  Finish();
  ASSERT_EQ(arrived_.size(), static_cast<size_t>(kCount));
  const RelayDirectionStats stats = relay_->stats().client_to_server;
  EXPECT_GT(stats.datagrams_reordered, 0u);
  EXPECT_EQ(stats.datagrams_delivered, static_cast<uint64_t>(kCount));
  std::vector<std::string> in_order;
  for (int i = 0; i < kCount; ++i) in_order.push_back(absl::StrCat("#", i));
  EXPECT_NE(arrived_, in_order);
  std::vector<std::string> sorted = arrived_;
  std::sort(sorted.begin(), sorted.end(), [](const std::string& a,
                                             const std::string& b) {
    return std::stoi(a.substr(1)) < std::stoi(b.substr(1));
  });
  EXPECT_EQ(sorted, in_order);
}

TEST_F(DatagramRelayTest, ClosesWhenTheProgramClosesItsEnd) {
  StartDatagrams(DatagramConfig());
  Send(0, 1);
  program_.Close();
  // The relay learns of it when an answer cannot be delivered.
  ASSERT_TRUE(peer_.Write("answer").ok());
  ASSERT_TRUE(RunUntil(*loop_, [&] { return closed_calls_ > 0; }));
  EXPECT_FALSE(closed_status_.ok());
  EXPECT_NE(closed_status_.message().find("client side"), std::string::npos)
      << closed_status_;
}

TEST(RelaySet, ForgetsEachRelayWhenItCloses) {
  absl::StatusOr<std::unique_ptr<net::EventLoop>> loop =
      net::EventLoop::Create();
  ASSERT_TRUE(loop.ok());
  std::vector<absl::Status> statuses;
  RelaySet relays(loop->get(), [&](const absl::Status& status) {
    statuses.push_back(status);
  });
  std::vector<net::Socket> programs;
  std::vector<net::Socket> peers;
  for (int i = 0; i < 3; ++i) {
    auto [program, client_side] = SocketPairOrDie(net::Transport::kUnixStream);
    auto [peer, server_side] = SocketPairOrDie(net::Transport::kUnixStream);
    ASSERT_TRUE(relays
                    .Start(ShapedRelay::ForStream(
                        loop->get(), std::move(client_side),
                        std::move(server_side), LinkProfile()))
                    .ok());
    programs.push_back(std::move(program));
    peers.push_back(std::move(peer));
  }
  EXPECT_EQ(relays.size(), 3u);
  // Both ends of the first connection finish; the others stay open.
  ASSERT_TRUE(programs[0].ShutdownWrite().ok());
  ASSERT_TRUE(peers[0].ShutdownWrite().ok());
  ASSERT_TRUE(RunUntil(**loop, [&] { return relays.size() == 2; }));
  ASSERT_EQ(statuses.size(), 1u);
  EXPECT_TRUE(statuses[0].ok()) << statuses[0];
}

TEST_F(RelayTest, CloseAfterDeliversExactlyThatManyBytesThenEndOfStream) {
  StartTcpWithFaults(PlanOrDie("close_after=37,direction=to_server"));
  const std::string sent = Pattern(100, 4);
  size_t offset = 0;
  WriteSome(program_, sent, &offset);
  std::string at_peer;
  Drained peer_end = Collect(peer_, &at_peer);
  EXPECT_TRUE(peer_end.eof) << peer_end.error;
  EXPECT_EQ(at_peer, sent.substr(0, 37));
  std::string at_program;
  Drained program_end = Collect(program_, &at_program);
  EXPECT_TRUE(program_end.eof) << program_end.error;
  EXPECT_EQ(at_program, "");
  EXPECT_EQ(closed_calls_, 1);
  EXPECT_TRUE(absl::IsAborted(closed_status_)) << closed_status_;
  EXPECT_TRUE(relay_->fault_fired());
  EXPECT_EQ(relay_->stats().client_to_server.bytes_delivered, 37u);
}

TEST_F(RelayTest, CloseAfterCountsBothDirectionsByDefault) {
  StartStream(LinkProfile(), {}, PlanOrDie("close_after=35"));
  const std::string up = Pattern(20, 5);
  const std::string down = Pattern(30, 6);
  size_t offset = 0;
  WriteSome(program_, up, &offset);
  std::string at_peer;
  ASSERT_TRUE(RunUntil(*loop_, [&] {
    at_peer += Drain(peer_).bytes;
    return at_peer.size() >= up.size();
  }));
  EXPECT_EQ(at_peer, up);
  offset = 0;
  WriteSome(peer_, down, &offset);
  std::string at_program;
  Drained program_end = Collect(program_, &at_program);
  EXPECT_TRUE(program_end.eof) << program_end.error;
  EXPECT_EQ(at_program, down.substr(0, 15));
  Drained peer_end = Collect(peer_, &at_peer);
  EXPECT_TRUE(peer_end.eof) << peer_end.error;
  EXPECT_EQ(at_peer, up);
}

TEST_F(RelayTest, CloseAfterZeroClosesBeforeAnyByte) {
  StartStream(LinkProfile(), {}, PlanOrDie("close_after=0"));
  size_t offset = 0;
  WriteSome(program_, "request", &offset);
  std::string at_peer;
  EXPECT_TRUE(Collect(peer_, &at_peer).eof);
  EXPECT_EQ(at_peer, "");
  std::string at_program;
  EXPECT_TRUE(Collect(program_, &at_program).eof);
}

TEST_F(RelayTest, ResetAfterDeliversThatManyBytesThenResetsBothPeers) {
  StartTcpWithFaults(PlanOrDie("reset_after=10,direction=to_client"));
  const std::string down = Pattern(64, 7);
  size_t offset = 0;
  WriteSome(peer_, down, &offset);
  std::string at_program;
  Drained program_end = Collect(program_, &at_program);
  EXPECT_EQ(program_end.error.code(), absl::StatusCode::kUnavailable)
      << program_end.error << " eof=" << program_end.eof;
  EXPECT_NE(program_end.error.message().find("reset"), std::string::npos)
      << program_end.error;
  // A reset may discard what the program had not read yet: never more
  // than the cut, always a prefix.
  EXPECT_LE(at_program.size(), 10u);
  EXPECT_EQ(at_program, down.substr(0, at_program.size()));
  std::string at_peer;
  Drained peer_end = Collect(peer_, &at_peer);
  EXPECT_FALSE(peer_end.error.ok()) << "eof=" << peer_end.eof;
  EXPECT_EQ(relay_->stats().server_to_client.bytes_delivered, 10u);
  EXPECT_TRUE(absl::IsAborted(closed_status_)) << closed_status_;
}

TEST_F(RelayTest, StallDeliversNothingMoreAndKeepsBothSidesOpen) {
  StartStream(LinkProfile(), {}, PlanOrDie("stall_after=10"));
  const std::string sent = Pattern(50, 8);
  size_t offset = 0;
  WriteSome(program_, sent, &offset);
  std::string at_peer;
  ASSERT_TRUE(RunUntil(*loop_, [&] {
    at_peer += Drain(peer_).bytes;
    return relay_->fault_fired();
  }));
  // Long enough that anything still flowing would show.
  absl::Time until = absl::Now() + absl::Milliseconds(200);
  std::string at_program;
  RunUntil(*loop_, [&] {
    Drained peer_now = Drain(peer_);
    Drained program_now = Drain(program_);
    at_peer += peer_now.bytes;
    at_program += program_now.bytes;
    EXPECT_FALSE(peer_now.eof || program_now.eof) << "a stall closed a side";
    EXPECT_TRUE(peer_now.error.ok() && program_now.error.ok());
    // Both peers may go on writing: the stalled relay drops it.
    size_t more = 0;
    WriteSome(peer_, "answer", &more);
    return absl::Now() >= until;
  });
  EXPECT_EQ(at_peer, sent.substr(0, 10));
  EXPECT_EQ(at_program, "");
  EXPECT_FALSE(relay_->closed());
  EXPECT_EQ(closed_calls_, 0);
  EXPECT_GT(relay_->stats().server_to_client.bytes_dropped, 0u);
  // The program gives up: the relay closes the peer's side too.
  program_.Close();
  Drained peer_end = Collect(peer_, &at_peer);
  EXPECT_TRUE(peer_end.eof) << peer_end.error;
  EXPECT_EQ(closed_calls_, 1);
  EXPECT_TRUE(absl::IsAborted(closed_status_)) << closed_status_;
}

TEST_F(RelayTest, StalledRelayDestroyedClosesBoth) {
  StartStream(LinkProfile(), {}, PlanOrDie("stall_after=0"));
  ASSERT_TRUE(RunUntil(*loop_, [&] { return relay_->fault_fired(); }));
  relay_.reset();
  std::string got;
  EXPECT_TRUE(Collect(program_, &got).eof);
  EXPECT_TRUE(Collect(peer_, &got).eof);
  EXPECT_EQ(got, "");
  // TearDown checks no descriptor leaked.
}

TEST_F(RelayTest, SliceWritesAtMostThatManyBytesEachAndKeepsTheBytes) {
  StartStream(LinkProfile(), {}, PlanOrDie("slice=3,direction=to_server"));
  const std::string sent = Pattern(100, 9);
  size_t offset = 0;
  WriteSome(program_, sent, &offset);
  std::string at_peer;
  int reads = 0;
  ASSERT_TRUE(RunUntil(*loop_, [&] {
    Drained now = Drain(peer_);
    if (!now.bytes.empty()) {
      ++reads;
      // The loop turns between slices, and this drains after each turn.
      EXPECT_LE(now.bytes.size(), 3u);
    }
    at_peer += now.bytes;
    return at_peer.size() >= sent.size();
  }));
  EXPECT_EQ(at_peer, sent);
  EXPECT_EQ(reads, 34);
  RelayStats stats = relay_->stats();
  EXPECT_EQ(stats.client_to_server.writes, 34u);
  // The other direction is not sliced.
  const std::string down = Pattern(100, 10);
  offset = 0;
  WriteSome(peer_, down, &offset);
  std::string at_program;
  ASSERT_TRUE(RunUntil(*loop_, [&] {
    at_program += Drain(program_).bytes;
    return at_program.size() >= down.size();
  }));
  EXPECT_EQ(at_program, down);
  EXPECT_EQ(relay_->stats().server_to_client.writes, 1u);
}

TEST_F(RelayTest, ConnectDelayHoldsTheFirstByte) {
  const absl::Duration delay = absl::Milliseconds(100);
  absl::Time start = absl::Now();
  StartStream(LinkProfile(), {}, PlanOrDie("connect_delay=100ms"));
  size_t offset = 0;
  WriteSome(program_, "hi", &offset);
  std::string at_peer;
  ASSERT_TRUE(RunUntil(*loop_, [&] {
    at_peer += Drain(peer_).bytes;
    return at_peer.size() >= 2;
  }));
  EXPECT_GE(absl::Now() - start, delay);
  EXPECT_EQ(at_peer, "hi");
}

}  // namespace
}  // namespace asyncwork::sim
