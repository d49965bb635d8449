// test_client.h: tiny blocking clients for the server tests and benchmarks
// (testonly). Every wait is bounded by a deadline.
//
//   absl::StatusOr<TestClient> client = TestClient::Connect(address);
//   absl::StatusOr<std::string> result =
//       client->Call({.id = 1, .op = framing::Op::kReverse, .data = "abc"});
//   // *result == "cba", checked against framing::VerifyResponse
//
//   absl::StatusOr<DatagramTestClient> udp =
//       DatagramTestClient::Create(*net::Address::Parse("udp://127.0.0.1:9"));
#ifndef ASYNCWORK_SERVER_TEST_CLIENT_H_
#define ASYNCWORK_SERVER_TEST_CLIENT_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "framing/frame.h"
#include "framing/work_message.h"
#include "net/address.h"
#include "net/socket.h"

namespace asyncwork::server::testing {

// kGenerous bounds every wait in a test: far longer than a healthy step on
// a loaded two-core machine, short enough to fail a hung test.
inline constexpr absl::Duration kGenerous = absl::Seconds(10);

inline absl::Time GenerousDeadline() { return absl::Now() + kGenerous; }

// TestClient is one stream connection to a server.
class TestClient {
 public:
  // Connect connects to `address` (tcp or unix).
  static absl::StatusOr<TestClient> Connect(const net::Address& address);

  TestClient(TestClient&&) = default;
  TestClient& operator=(TestClient&&) = default;

  // Send sends the frame carrying `request`; SendBytes sends raw bytes.
  absl::Status Send(const framing::RequestView& request);
  absl::Status SendBytes(absl::string_view bytes);

  // ReceiveBody returns the next frame body, nullopt at end of stream.
  absl::StatusOr<std::optional<std::string>> ReceiveBody(
      absl::Time deadline = GenerousDeadline());

  // Call sends `request`, receives one response, and checks it with
  // framing::VerifyResponse; returns the result bytes.
  absl::StatusOr<std::string> Call(const framing::RequestView& request);

  // ExpectClosed returns OK once the server has closed the connection (end
  // of stream or a reset), discarding any frames before that; an error if
  // the deadline passes first.
  absl::Status ExpectClosed(absl::Time deadline = GenerousDeadline());

  // ShutdownWrite half-closes: the server sees end of stream.
  absl::Status ShutdownWrite() { return socket_.ShutdownWrite(); }

  net::Socket& socket() { return socket_; }

 private:
  explicit TestClient(net::Socket socket) : socket_(std::move(socket)) {}

  net::Socket socket_;
  framing::FrameDecoder decoder_;
};

// DatagramTestClient sends datagrams to one server and receives its
// answers. A Unix datagram client binds an abstract name, since a server
// cannot answer an unbound sender.
class DatagramTestClient {
 public:
  static absl::StatusOr<DatagramTestClient> Create(const net::Address& server);

  DatagramTestClient(DatagramTestClient&&) = default;
  DatagramTestClient& operator=(DatagramTestClient&&) = default;

  absl::Status Send(const framing::RequestView& request);
  absl::Status SendBytes(absl::string_view datagram);

  // ReceiveBody returns the body of the next datagram received.
  absl::StatusOr<std::string> ReceiveBody(
      absl::Time deadline = GenerousDeadline());

  // Call sends, receives and verifies, as TestClient::Call.
  absl::StatusOr<std::string> Call(const framing::RequestView& request);

  const net::Address& local_address() const { return local_; }

 private:
  DatagramTestClient(net::Socket socket, net::Address server,
                     net::Address local)
      : socket_(std::move(socket)),
        server_(std::move(server)),
        local_(std::move(local)) {}

  net::Socket socket_;
  net::Address server_;
  net::Address local_;
};

// UniqueAbstractAddress returns a fresh Linux abstract Unix address
// ("unix:@asyncwork-...", or "unixgram:@..." for kUnixDatagram): no file to
// clean up, and unique within the machine for this process.
net::Address UniqueAbstractAddress(net::Transport transport);

// VerifiedResult checks that `body` answers `request` and returns the
// result bytes.
absl::StatusOr<std::string> VerifiedResult(const framing::RequestView& request,
                                           absl::string_view body);

}  // namespace asyncwork::server::testing

#endif  // ASYNCWORK_SERVER_TEST_CLIENT_H_
