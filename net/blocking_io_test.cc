#include "net/blocking_io.h"

#include <string>
#include <utility>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/fd.h"
#include "net/test_util.h"

namespace asyncwork::net {
namespace {

using ::testing::HasSubstr;
using testing::kGenerousTimeout;
using testing::ParseOrDie;
using testing::RefusingTcpAddress;
using testing::StreamPair;
using testing::TcpPairOrDie;

constexpr absl::Duration kShortDeadline = absl::Milliseconds(50);
// A wait for kShortDeadline must end within this on a loaded machine.
constexpr absl::Duration kLateBound = absl::Seconds(5);

absl::Time Deadline() { return absl::Now() + kGenerousTimeout; }

// ExpectDeadlineExceeded checks `status` is a timely DeadlineExceeded that
// names `operation`, for a wait that started at `start`.
void ExpectDeadlineExceeded(const absl::Status& status, absl::Time start,
                            absl::string_view operation) {
  absl::Duration waited = absl::Now() - start;
  EXPECT_EQ(status.code(), absl::StatusCode::kDeadlineExceeded) << status;
  EXPECT_THAT(status.message(), HasSubstr(operation));
  EXPECT_GE(waited, kShortDeadline);
  EXPECT_LT(waited, kLateBound);
}

TEST(BlockingIo, ReadSomeOnSilentPeerHonoursDeadline) {
  StreamPair pair = TcpPairOrDie();
  char buffer[16];
  absl::Time start = absl::Now();
  absl::StatusOr<size_t> read =
      ReadSome(pair.client, absl::MakeSpan(buffer), start + kShortDeadline);
  ExpectDeadlineExceeded(read.status(), start, "recv: deadline exceeded");
}

TEST(BlockingIo, WriteAllToNonReadingPeerHonoursDeadline) {
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(Transport::kUnixStream);
  ASSERT_TRUE(pair.ok());
  // Far more than a Unix socket buffers, so the writer must wait.
  std::string data(16 * 1024 * 1024, 'w');
  absl::Time start = absl::Now();
  absl::Status sent = WriteAll(pair->first, data, start + kShortDeadline);
  ExpectDeadlineExceeded(sent, start, "send: deadline exceeded");
}

TEST(BlockingIo, AcceptBlockingHonoursDeadline) {
  absl::StatusOr<Socket> listener = Socket::Listen(ParseOrDie("[::1]:0"));
  ASSERT_TRUE(listener.ok());
  absl::Time start = absl::Now();
  absl::StatusOr<Socket> accepted =
      AcceptBlocking(*listener, start + kShortDeadline);
  ExpectDeadlineExceeded(accepted.status(), start, "accept: deadline exceeded");
}

TEST(BlockingIo, WaitReadableHonoursDeadlineAndSeesData) {
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(Transport::kUnixDatagram);
  ASSERT_TRUE(pair.ok());
  absl::Time start = absl::Now();
  ExpectDeadlineExceeded(
      WaitReadable(pair->second.fd(), start + kShortDeadline), start,
      "to become readable");
  ASSERT_TRUE(pair->first.Write("x").ok());
  EXPECT_TRUE(WaitReadable(pair->second.fd(), Deadline()).ok());
}

TEST(BlockingIo, PastDeadlineStillReportsReadyDescriptor) {
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(Transport::kUnixStream);
  ASSERT_TRUE(pair.ok());
  absl::Time past = absl::Now() - absl::Seconds(1);
  EXPECT_TRUE(WaitWritable(pair->first.fd(), past).ok());
  EXPECT_EQ(WaitReadable(pair->first.fd(), past).code(),
            absl::StatusCode::kDeadlineExceeded);
}

TEST(BlockingIo, WaitOnClosedDescriptorIsInvalidArgument) {
  int closed;
  {
    absl::StatusOr<Socket> socket = Socket::Create(AF_INET, Transport::kUdp);
    ASSERT_TRUE(socket.ok());
    closed = socket->fd();
  }
  absl::Status status = WaitReadable(closed, Deadline());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("is not open"));
}

TEST(BlockingIo, ConnectBlockingReportsRefusedConnection) {
  Address closed = RefusingTcpAddress();
  absl::StatusOr<Socket> client = ConnectBlocking(closed, Deadline());
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(
      client.status().message(),
      HasSubstr("connect " + closed.ToString() + ": Connection refused"));
}

TEST(BlockingIo, WriteAllAndReadExactlyMoveLargeMessage) {
  StreamPair pair = TcpPairOrDie();
  // Larger than the socket buffers, so WriteAll must wait for the reader;
  // with one thread, interleave: write a slice, read it back.
  std::string message(256 * 1024, '\0');
  for (size_t i = 0; i < message.size(); ++i) {
    message[i] = static_cast<char>(i % 251);
  }
  std::string received(message.size(), '\0');
  constexpr size_t kSlice = 32 * 1024;
  for (size_t offset = 0; offset < message.size(); offset += kSlice) {
    ASSERT_TRUE(
        WriteAll(pair.client, message.substr(offset, kSlice), Deadline()).ok());
    ASSERT_TRUE(ReadExactly(pair.server,
                            absl::MakeSpan(&received[offset], kSlice),
                            Deadline())
                    .ok());
  }
  EXPECT_EQ(received, message);
}

TEST(BlockingIo, ReadExactlyReportsEarlyEndOfStream) {
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(Transport::kUnixStream);
  ASSERT_TRUE(pair.ok());
  ASSERT_TRUE(WriteAll(pair->first, "abc", Deadline()).ok());
  pair->first.Close();
  char buffer[8];
  absl::Status status =
      ReadExactly(pair->second, absl::MakeSpan(buffer), Deadline());
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(status.message(), HasSubstr("after 3 of 8 bytes"));
}

TEST(BlockingIo, ReadSomeReturnsZeroAtEndOfStreamAndRejectsEmptyBuffer) {
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(Transport::kUnixStream);
  ASSERT_TRUE(pair.ok());
  pair->first.Close();
  char buffer[8];
  absl::StatusOr<size_t> read =
      ReadSome(pair->second, absl::MakeSpan(buffer), Deadline());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, 0u);
  EXPECT_EQ(
      ReadSome(pair->second, absl::Span<char>(), Deadline()).status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace asyncwork::net
