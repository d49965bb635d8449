#include "net/socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/blocking_io.h"
#include "net/fd.h"
#include "net/test_util.h"

namespace asyncwork::net {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using testing::ConnectToListener;
using testing::CountOpenFds;
using testing::kGenerousTimeout;
using testing::ParseOrDie;
using testing::RefusingTcpAddress;
using testing::ScopedTempDir;
using testing::StreamPair;

absl::Time Deadline() { return absl::Now() + kGenerousTimeout; }

bool PathExists(const std::string& path) {
  struct stat info;
  return ::lstat(path.c_str(), &info) == 0;
}

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

// ReadAvailable waits for `socket` to be readable, then reads once.
IoResult ReadAvailable(Socket& socket, absl::Span<char> buffer) {
  EXPECT_TRUE(WaitReadable(socket.fd(), Deadline()).ok());
  absl::StatusOr<IoResult> read = socket.Read(buffer);
  EXPECT_TRUE(read.ok()) << read.status();
  return read.ok() ? *read : IoResult();
}

// ExpectEchoBothWays sends a message each way over a connected stream pair
// and checks each arrives whole.
void ExpectEchoBothWays(StreamPair& pair) {
  ASSERT_TRUE(WriteAll(pair.client, "ping", Deadline()).ok());
  char buffer[16];
  ASSERT_TRUE(
      ReadExactly(pair.server, absl::MakeSpan(buffer, 4), Deadline()).ok());
  EXPECT_EQ(absl::string_view(buffer, 4), "ping");
  ASSERT_TRUE(WriteAll(pair.server, "pong!", Deadline()).ok());
  ASSERT_TRUE(
      ReadExactly(pair.client, absl::MakeSpan(buffer, 5), Deadline()).ok());
  EXPECT_EQ(absl::string_view(buffer, 5), "pong!");
}

// ExerciseStream listens on `text`, connects with a non-blocking connect
// finished through FinishConnect, accepts, and exchanges data both ways.
void ExerciseStream(absl::string_view text) {
  Address requested = ParseOrDie(text);
  absl::StatusOr<Socket> listener = Socket::Listen(requested);
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<Address> bound = listener->LocalAddress();
  ASSERT_TRUE(bound.ok()) << bound.status();
  EXPECT_EQ(bound->family(), requested.family());
  EXPECT_EQ(bound->transport(), requested.transport());
  if (requested.family() != AF_UNIX) {
    EXPECT_NE(bound->port(), 0);
  }

  absl::StatusOr<Socket> client = Socket::Connect(*bound);
  ASSERT_TRUE(client.ok()) << client.status();
  ASSERT_TRUE(WaitWritable(client->fd(), Deadline()).ok());
  ASSERT_TRUE(client->FinishConnect().ok());

  Address peer;
  absl::StatusOr<Socket> server = AcceptBlocking(*listener, Deadline(), &peer);
  ASSERT_TRUE(server.ok()) << server.status();
  absl::StatusOr<Address> client_local = client->LocalAddress();
  ASSERT_TRUE(client_local.ok());
  EXPECT_EQ(peer, *client_local);
  absl::StatusOr<Address> client_peer = client->PeerAddress();
  ASSERT_TRUE(client_peer.ok());
  EXPECT_EQ(*client_peer, *bound);

  StreamPair pair{*std::move(client), *std::move(server)};
  ExpectEchoBothWays(pair);
}

TEST(Socket, TcpOverIpv4ConnectsAcceptsAndTransfers) {
  ExerciseStream("127.0.0.1:0");
}

TEST(Socket, TcpOverIpv6ConnectsAcceptsAndTransfers) {
  ExerciseStream("[::1]:0");
}

TEST(Socket, UnixStreamConnectsAcceptsAndTransfers) {
  ScopedTempDir dir;
  ExerciseStream("unix:" + dir.File("stream.sock"));
}

TEST(Socket, AbstractUnixStreamLeavesNoFile) {
  ScopedTempDir dir;
  std::string name =
      "asyncwork-net-test-" + dir.path().substr(dir.path().rfind('/') + 1);
  ExerciseStream("unix:@" + name);
  EXPECT_FALSE(PathExists(name));
}

TEST(Socket, FinishConnectReportsRefusedConnection) {
  Address closed = RefusingTcpAddress();
  absl::StatusOr<Socket> client = Socket::Connect(closed);
  absl::Status outcome = client.status();
  if (client.ok()) {
    ASSERT_TRUE(WaitWritable(client->fd(), Deadline()).ok());
    outcome = client->FinishConnect();
  }
  EXPECT_EQ(outcome.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(outcome.message(), HasSubstr("connect " + closed.ToString()));
  EXPECT_THAT(outcome.message(), HasSubstr("Connection refused"));
}

TEST(Socket, FinishConnectBeforeCompletionIsNotSuccess) {
  // With a backlog of 0 the accept queue holds one connection; the kernel
  // drops the next SYN, so a second connect stays in progress.
  absl::StatusOr<Socket> listener =
      Socket::Listen(ParseOrDie("127.0.0.1:0"), 0);
  ASSERT_TRUE(listener.ok());
  Address address = *listener->LocalAddress();
  std::vector<Socket> clients;
  absl::Status pending = absl::OkStatus();
  for (int i = 0; i < 8 && pending.ok(); ++i) {
    absl::StatusOr<Socket> client = Socket::Connect(address);
    ASSERT_TRUE(client.ok()) << client.status();
    // Give the handshake every chance to complete if the queue has room.
    (void)WaitWritable(client->fd(), absl::Now() + absl::Milliseconds(50));
    pending = client->FinishConnect();
    clients.push_back(*std::move(client));
  }
  EXPECT_EQ(pending.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(pending.message(), HasSubstr("not connected yet"));
}

TEST(Socket, EmptyReadAndAcceptWouldBlock) {
  absl::StatusOr<Socket> listener = Socket::Listen(ParseOrDie("127.0.0.1:0"));
  ASSERT_TRUE(listener.ok());
  absl::StatusOr<std::optional<Socket>> none = listener->Accept();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  absl::StatusOr<StreamPair> pair = ConnectToListener(*listener);
  ASSERT_TRUE(pair.ok()) << pair.status();
  char buffer[8];
  absl::StatusOr<IoResult> read = pair->server.Read(absl::MakeSpan(buffer));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->would_block);
  EXPECT_FALSE(read->eof);
  EXPECT_EQ(read->bytes, 0u);
}

TEST(Socket, WriteToFullBufferWouldBlock) {
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(Transport::kUnixStream);
  ASSERT_TRUE(pair.ok());
  std::string chunk(64 * 1024, 'x');
  bool blocked = false;
  size_t written = 0;
  // A Unix stream buffer holds well under 64 MiB; the bound keeps a broken
  // would-block report from looping for ever.
  for (int i = 0; i < 1024 && !blocked; ++i) {
    absl::StatusOr<IoResult> result = pair->first.Write(chunk);
    ASSERT_TRUE(result.ok()) << result.status();
    blocked = result->would_block;
    written += result->bytes;
  }
  EXPECT_TRUE(blocked);
  EXPECT_GT(written, 0u);
}

TEST(Socket, ReadReportsEofAfterPeerCloses) {
  absl::StatusOr<Socket> listener = Socket::Listen(ParseOrDie("127.0.0.1:0"));
  ASSERT_TRUE(listener.ok());
  absl::StatusOr<StreamPair> pair = ConnectToListener(*listener);
  ASSERT_TRUE(pair.ok()) << pair.status();
  ASSERT_TRUE(WriteAll(pair->server, "last", Deadline()).ok());
  pair->server.Close();

  char buffer[16];
  IoResult data = ReadAvailable(pair->client, absl::MakeSpan(buffer));
  EXPECT_EQ(data.bytes, 4u);
  EXPECT_FALSE(data.eof);
  IoResult end = ReadAvailable(pair->client, absl::MakeSpan(buffer));
  EXPECT_TRUE(end.eof);
  EXPECT_FALSE(end.would_block);
  EXPECT_EQ(end.bytes, 0u);
}

TEST(Socket, ShutdownWriteGivesPeerEofButKeepsReading) {
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(Transport::kUnixStream);
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(pair->first.ShutdownWrite().ok());
  char buffer[8];
  EXPECT_TRUE(ReadAvailable(pair->second, absl::MakeSpan(buffer)).eof);
  ASSERT_TRUE(WriteAll(pair->second, "still", Deadline()).ok());
  EXPECT_EQ(ReadAvailable(pair->first, absl::MakeSpan(buffer)).bytes, 5u);
}

TEST(Socket, WriteToClosedUnixPeerIsEpipeStatusNotSignal) {
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(Transport::kUnixStream);
  ASSERT_TRUE(pair.ok());
  pair->second.Close();
  absl::StatusOr<IoResult> written = pair->first.Write("anyone?");
  ASSERT_FALSE(written.ok());
  EXPECT_THAT(written.status().message(), HasSubstr("send: Broken pipe"));

  struct iovec parts[] = {{const_cast<char*>("a"), 1}};
  absl::StatusOr<IoResult> gathered = pair->first.Writev(parts);
  ASSERT_FALSE(gathered.ok());
  EXPECT_THAT(gathered.status().message(), HasSubstr("sendmsg: Broken pipe"));
}

TEST(Socket, WriteToClosedTcpPeerIsStatusNotSignal) {
  absl::StatusOr<Socket> listener = Socket::Listen(ParseOrDie("127.0.0.1:0"));
  ASSERT_TRUE(listener.ok());
  absl::StatusOr<StreamPair> pair = ConnectToListener(*listener);
  ASSERT_TRUE(pair.ok()) << pair.status();
  pair->server.Close();
  // The first write after the close may still be accepted; the peer's reset
  // then makes a later one fail with EPIPE (or ECONNRESET).
  absl::Status failure = absl::OkStatus();
  for (int i = 0; i < 100 && failure.ok(); ++i) {
    absl::StatusOr<IoResult> written = pair->client.Write("data");
    failure = written.status();
    if (failure.ok()) absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_FALSE(failure.ok());
  EXPECT_THAT(failure.message(),
              AnyOf(HasSubstr("Broken pipe"), HasSubstr("reset by peer")));
}

// DatagramPair binds two datagram sockets at `first` and `second`.
std::pair<Socket, Socket> BindDatagramPair(const Address& first,
                                           const Address& second) {
  absl::StatusOr<Socket> a = Socket::Listen(first);
  absl::StatusOr<Socket> b = Socket::Listen(second);
  EXPECT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(b.ok()) << b.status();
  if (!a.ok() || !b.ok()) return {};
  return {*std::move(a), *std::move(b)};
}

std::string Pattern(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 7 + 3);
  return data;
}

// ExpectLargeDatagramAndTruncation sends a 60 KiB datagram from `sender` to
// `receiver` and checks it arrives whole with the sender's address; then
// sends it again and receives it into a 1 KiB buffer, which must report
// truncation and leave nothing behind.
void ExpectLargeDatagramAndTruncation(Socket& sender, Socket& receiver) {
  Address to = *receiver.LocalAddress();
  std::string data = Pattern(60 * 1024);
  absl::StatusOr<IoResult> sent = sender.SendTo(data, to);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->bytes, data.size());

  std::vector<char> buffer(64 * 1024);
  ASSERT_TRUE(WaitReadable(receiver.fd(), Deadline()).ok());
  Address from;
  absl::StatusOr<IoResult> got =
      receiver.RecvFrom(absl::MakeSpan(buffer), &from);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->bytes, data.size());
  EXPECT_FALSE(got->truncated);
  EXPECT_EQ(absl::string_view(buffer.data(), got->bytes), data);
  EXPECT_EQ(from, *sender.LocalAddress());

  ASSERT_TRUE(sender.SendTo(data, to).ok());
  ASSERT_TRUE(WaitReadable(receiver.fd(), Deadline()).ok());
  absl::StatusOr<IoResult> cut =
      receiver.RecvFrom(absl::MakeSpan(buffer.data(), 1024));
  ASSERT_TRUE(cut.ok()) << cut.status();
  EXPECT_TRUE(cut->truncated);
  EXPECT_EQ(cut->bytes, 1024u);
  EXPECT_EQ(absl::string_view(buffer.data(), 1024), data.substr(0, 1024));
  absl::StatusOr<IoResult> rest = receiver.RecvFrom(absl::MakeSpan(buffer));
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(rest->would_block);
}

TEST(Socket, UdpCarries60KiBDatagramAndDetectsTruncation) {
  auto [a, b] = BindDatagramPair(ParseOrDie("udp://127.0.0.1:0"),
                                 ParseOrDie("udp://127.0.0.1:0"));
  ExpectLargeDatagramAndTruncation(a, b);
}

TEST(Socket, UdpOverIpv6CarriesDatagram) {
  auto [a, b] = BindDatagramPair(ParseOrDie("udp://[::1]:0"),
                                 ParseOrDie("udp://[::1]:0"));
  ExpectLargeDatagramAndTruncation(b, a);
}

TEST(Socket, UnixDatagramCarries60KiBDatagramAndDetectsTruncation) {
  ScopedTempDir dir;
  auto [a, b] = BindDatagramPair(ParseOrDie("unixgram:" + dir.File("a.sock")),
                                 ParseOrDie("unixgram:" + dir.File("b.sock")));
  ExpectLargeDatagramAndTruncation(a, b);
}

TEST(Socket, RecvFromUnboundUnixSenderGivesUnnamedAddress) {
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(Transport::kUnixDatagram);
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(pair->first.Write("hi").ok());
  ASSERT_TRUE(WaitReadable(pair->second.fd(), Deadline()).ok());
  char buffer[8];
  Address from = ParseOrDie("unixgram:/placeholder");
  absl::StatusOr<IoResult> got =
      pair->second.RecvFrom(absl::MakeSpan(buffer), &from);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->bytes, 2u);
  EXPECT_EQ(from.family(), AF_UNIX);
  EXPECT_EQ(from.ToString(), "unixgram:");
}

TEST(Socket, EmptyDatagramIsNotEof) {
  auto [a, b] = BindDatagramPair(ParseOrDie("udp://127.0.0.1:0"),
                                 ParseOrDie("udp://127.0.0.1:0"));
  ASSERT_TRUE(a.SendTo("", *b.LocalAddress()).ok());
  char buffer[8];
  IoResult got = ReadAvailable(b, absl::MakeSpan(buffer));
  EXPECT_EQ(got.bytes, 0u);
  EXPECT_FALSE(got.eof);
  EXPECT_FALSE(got.would_block);
}

TEST(Socket, ConnectedUdpUsesReadAndWrite) {
  auto [a, b] = BindDatagramPair(ParseOrDie("udp://127.0.0.1:0"),
                                 ParseOrDie("udp://127.0.0.1:0"));
  ASSERT_TRUE(a.StartConnect(*b.LocalAddress()).ok());
  ASSERT_TRUE(a.FinishConnect().ok());
  absl::StatusOr<IoResult> sent = a.Write("datagram");
  ASSERT_TRUE(sent.ok()) << sent.status();
  char buffer[4];
  IoResult got = ReadAvailable(b, absl::MakeSpan(buffer));
  EXPECT_EQ(got.bytes, 4u);
  EXPECT_TRUE(got.truncated);
}

TEST(Socket, ReadvAndWritevScatterAndGather) {
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(Transport::kUnixStream);
  ASSERT_TRUE(pair.ok());
  struct iovec out[] = {{const_cast<char*>("head"), 4},
                        {const_cast<char*>("-"), 1},
                        {const_cast<char*>("body"), 4}};
  absl::StatusOr<IoResult> sent = pair->first.Writev(out);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->bytes, 9u);

  char first[3];
  char second[6];
  struct iovec in[] = {{first, sizeof(first)}, {second, sizeof(second)}};
  ASSERT_TRUE(WaitReadable(pair->second.fd(), Deadline()).ok());
  absl::StatusOr<IoResult> got = pair->second.Readv(in);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->bytes, 9u);
  EXPECT_EQ(absl::string_view(first, 3), "hea");
  EXPECT_EQ(absl::string_view(second, 6), "d-body");
}

TEST(Socket, UnixListenerRemovesItsSocketFile) {
  ScopedTempDir dir;
  std::string path = dir.File("server.sock");
  {
    absl::StatusOr<Socket> listener =
        Socket::Listen(ParseOrDie("unix:" + path));
    ASSERT_TRUE(listener.ok()) << listener.status();
    EXPECT_TRUE(PathExists(path));
    Socket moved = *std::move(listener);
    EXPECT_TRUE(PathExists(path));  // the move did not remove it
  }
  EXPECT_FALSE(PathExists(path));
}

TEST(Socket, UnixListenReplacesStaleSocketFile) {
  ScopedTempDir dir;
  Address address = ParseOrDie("unix:" + dir.File("stale.sock"));
  {
    absl::StatusOr<Socket> crashed = Socket::Listen(address);
    ASSERT_TRUE(crashed.ok());
    crashed->Release();  // closed without cleanup, as by a crash
  }
  ASSERT_TRUE(PathExists(std::string(address.unix_path())));
  absl::StatusOr<Socket> listener = Socket::Listen(address);
  ASSERT_TRUE(listener.ok()) << listener.status();
  absl::StatusOr<StreamPair> pair = ConnectToListener(*listener);
  EXPECT_TRUE(pair.ok()) << pair.status();
}

TEST(Socket, UnixListenRefusesPathOfLiveListener) {
  ScopedTempDir dir;
  Address address = ParseOrDie("unix:" + dir.File("live.sock"));
  absl::StatusOr<Socket> first = Socket::Listen(address);
  ASSERT_TRUE(first.ok());
  absl::StatusOr<Socket> second = Socket::Listen(address);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(),
              HasSubstr("bind " + address.ToString()));
  EXPECT_THAT(second.status().message(), HasSubstr("Address already in use"));
  // The failed attempt removed nothing: the first listener still serves.
  absl::StatusOr<StreamPair> pair = ConnectToListener(*first);
  EXPECT_TRUE(pair.ok()) << pair.status();
}

TEST(Socket, UnixListenNeverReplacesAFileThatIsNotASocket) {
  ScopedTempDir dir;
  std::string path = dir.File("precious.txt");
  {
    absl::StatusOr<Fd> file = Fd::Adopt(
        ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600), "open");
    ASSERT_TRUE(file.ok()) << file.status();
  }
  absl::StatusOr<Socket> listener = Socket::Listen(ParseOrDie("unix:" + path));
  ASSERT_FALSE(listener.ok());
  EXPECT_THAT(listener.status().message(), HasSubstr("Address already in use"));
  struct stat info;
  ASSERT_EQ(::lstat(path.c_str(), &info), 0);
  EXPECT_TRUE(S_ISREG(info.st_mode));
}

TEST(Socket, UnixListenerLeavesAFileItDidNotCreate) {
  ScopedTempDir dir;
  Address address = ParseOrDie("unix:" + dir.File("shared.sock"));
  absl::StatusOr<Socket> old_listener = Socket::Listen(address);
  ASSERT_TRUE(old_listener.ok());
  std::string path(address.unix_path());
  ASSERT_EQ(::unlink(path.c_str()), 0);
  absl::StatusOr<Socket> new_listener = Socket::Listen(address);
  ASSERT_TRUE(new_listener.ok()) << new_listener.status();
  old_listener->Close();
  EXPECT_TRUE(PathExists(path));
  new_listener->Close();
  EXPECT_FALSE(PathExists(path));
}

TEST(Socket, ConnectToMissingUnixPathNamesPathAndErrno) {
  ScopedTempDir dir;
  Address address = ParseOrDie("unix:" + dir.File("nobody.sock"));
  absl::StatusOr<Socket> client = Socket::Connect(address);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(),
              HasSubstr("connect " + address.ToString() +
                        ": No such file or directory"));
}

TEST(Socket, CreateRejectsFamilyThatDoesNotSuitTransport) {
  EXPECT_EQ(Socket::Create(AF_UNIX, Transport::kTcp).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Socket::Create(AF_INET, Transport::kUnixDatagram).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Socket::CreatePair(Transport::kUdp).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Socket, BindRejectsAddressOfOtherTransport) {
  absl::StatusOr<Socket> tcp = Socket::Create(AF_INET, Transport::kTcp);
  ASSERT_TRUE(tcp.ok());
  absl::Status bound = tcp->Bind(ParseOrDie("udp://127.0.0.1:0"));
  EXPECT_EQ(bound.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bound.message(), HasSubstr("does not suit a tcp socket"));
}

TEST(Socket, SocketsAreNonBlockingAndCloseOnExec) {
  absl::StatusOr<Socket> listener = Socket::Listen(ParseOrDie("127.0.0.1:0"));
  ASSERT_TRUE(listener.ok());
  absl::StatusOr<StreamPair> pair = ConnectToListener(*listener);
  ASSERT_TRUE(pair.ok());
  for (int fd : {listener->fd(), pair->client.fd(), pair->server.fd()}) {
    EXPECT_TRUE(::fcntl(fd, F_GETFL) & O_NONBLOCK) << fd;
    EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC) << fd;
  }
}

TEST(Socket, MoveTransfersTheDescriptorAndCloseClosesOnce) {
  absl::StatusOr<Socket> created = Socket::Create(AF_INET, Transport::kUdp);
  ASSERT_TRUE(created.ok());
  int raw = created->fd();
  Socket moved = *std::move(created);
  EXPECT_EQ(moved.fd(), raw);
  EXPECT_FALSE(created->valid());
  moved.Close();
  EXPECT_FALSE(IsOpen(raw));
  moved.Close();
  Fd released;
  {
    absl::StatusOr<Socket> other = Socket::Create(AF_INET, Transport::kUdp);
    ASSERT_TRUE(other.ok());
    released = other->Release();
  }
  EXPECT_TRUE(IsOpen(released.get()));
}

TEST(Socket, OptionsReachTheKernel) {
  absl::StatusOr<Socket> tcp = Socket::Create(AF_INET6, Transport::kTcp);
  ASSERT_TRUE(tcp.ok());
  auto option = [&](int level, int name) {
    int value = -1;
    socklen_t length = sizeof(value);
    EXPECT_EQ(::getsockopt(tcp->fd(), level, name, &value, &length), 0);
    return value;
  };
  ASSERT_TRUE(tcp->SetNoDelay(true).ok());
  EXPECT_NE(option(IPPROTO_TCP, TCP_NODELAY), 0);
  ASSERT_TRUE(tcp->SetNoDelay(false).ok());
  EXPECT_EQ(option(IPPROTO_TCP, TCP_NODELAY), 0);
  ASSERT_TRUE(tcp->SetReuseAddress(true).ok());
  EXPECT_NE(option(SOL_SOCKET, SO_REUSEADDR), 0);
  ASSERT_TRUE(tcp->SetReusePort(true).ok());
  EXPECT_NE(option(SOL_SOCKET, SO_REUSEPORT), 0);
  // The kernel doubles the requested size for its bookkeeping.
  ASSERT_TRUE(tcp->SetSendBuffer(64 * 1024).ok());
  EXPECT_EQ(option(SOL_SOCKET, SO_SNDBUF), 128 * 1024);
  ASSERT_TRUE(tcp->SetReceiveBuffer(64 * 1024).ok());
  EXPECT_EQ(option(SOL_SOCKET, SO_RCVBUF), 128 * 1024);

  absl::StatusOr<Socket> unix_socket =
      Socket::Create(AF_UNIX, Transport::kUnixStream);
  ASSERT_TRUE(unix_socket.ok());
  absl::Status no_delay = unix_socket->SetNoDelay(true);
  EXPECT_FALSE(no_delay.ok());
  EXPECT_THAT(no_delay.message(), HasSubstr("setsockopt(TCP_NODELAY)"));
}

TEST(Socket, ListenDefaultBacklogQueuesManyConnections) {
  // Nothing accepts, so every connect that completes sits in the accept
  // queue; a small backlog would leave later connects unfinished.
  constexpr int kQueued = 300;
  ASSERT_GE(Socket::SystemMaxBacklog(), kQueued);
  absl::StatusOr<Socket> listener = Socket::Listen(ParseOrDie("127.0.0.1:0"));
  ASSERT_TRUE(listener.ok());
  std::vector<Socket> clients;
  for (int i = 0; i < kQueued; ++i) {
    absl::StatusOr<Socket> client =
        ConnectBlocking(*listener->LocalAddress(), Deadline());
    ASSERT_TRUE(client.ok()) << "connection " << i << ": " << client.status();
    clients.push_back(*std::move(client));
  }
}

TEST(Socket, TenThousandConnectionsLeaveNoDescriptorOpen) {
  absl::StatusOr<Socket> listener = Socket::Listen(ParseOrDie("127.0.0.1:0"));
  ASSERT_TRUE(listener.ok());
  int before = CountOpenFds();
  for (int i = 0; i < 10000; ++i) {
    absl::StatusOr<StreamPair> pair = ConnectToListener(*listener);
    ASSERT_TRUE(pair.ok()) << "connection " << i << ": " << pair.status();
  }
  EXPECT_EQ(CountOpenFds(), before);
}

}  // namespace
}  // namespace asyncwork::net
