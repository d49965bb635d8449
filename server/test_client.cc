#include "server/test_client.h"

#include <unistd.h>

#include <atomic>
#include <utility>

#include "absl/strings/str_cat.h"
#include "framing/datagram.h"
#include "framing/operation.h"
#include "net/blocking_io.h"

namespace asyncwork::server::testing {
namespace {

constexpr size_t kReadSize = 4096;
constexpr size_t kLargestDatagram = 1 << 17;

std::atomic<int> abstract_counter{0};

}  // namespace

net::Address UniqueAbstractAddress(net::Transport transport) {
  absl::StatusOr<net::Address> address = net::Address::Parse(absl::StrCat(
      transport == net::Transport::kUnixDatagram ? "unixgram" : "unix",
      ":@asyncwork-test-", ::getpid(), "-", abstract_counter++));
  return *address;
}

absl::StatusOr<std::string> VerifiedResult(const framing::RequestView& request,
                                           absl::string_view body) {
  absl::StatusOr<framing::ResponseView> response =
      framing::ParseResponse(body);
  if (!response.ok()) return response.status();
  absl::Status verified = framing::VerifyResponse(request, *response);
  if (!verified.ok()) return verified;
  return std::string(response->result);
}

absl::StatusOr<TestClient> TestClient::Connect(const net::Address& address) {
  absl::StatusOr<net::Socket> socket =
      net::ConnectBlocking(address, GenerousDeadline());
  if (!socket.ok()) return socket.status();
  if (address.transport() == net::Transport::kTcp) {
    absl::Status nodelay = socket->SetNoDelay(true);
    if (!nodelay.ok()) return nodelay;
  }
  return TestClient(std::move(*socket));
}

absl::Status TestClient::Send(const framing::RequestView& request) {
  std::string wire;
  framing::AppendRequestFrame(request, &wire);
  return SendBytes(wire);
}

absl::Status TestClient::SendBytes(absl::string_view bytes) {
  return net::WriteAll(socket_, bytes, GenerousDeadline());
}

absl::StatusOr<std::optional<std::string>> TestClient::ReceiveBody(
    absl::Time deadline) {
  while (true) {
    absl::StatusOr<std::optional<absl::string_view>> body = decoder_.Next();
    if (!body.ok()) return body.status();
    if (body->has_value()) return std::string(**body);
    absl::StatusOr<size_t> read =
        net::ReadSome(socket_, decoder_.PrepareAppend(kReadSize), deadline);
    if (!read.ok()) return read.status();
    if (*read == 0) {
      absl::Status ended = decoder_.CheckEndOfStream();
      if (!ended.ok()) return ended;
      return std::nullopt;
    }
    decoder_.CommitAppend(*read);
  }
}

absl::StatusOr<std::string> TestClient::Call(
    const framing::RequestView& request) {
  absl::Status sent = Send(request);
  if (!sent.ok()) return sent;
  absl::StatusOr<std::optional<std::string>> body = ReceiveBody();
  if (!body.ok()) return body.status();
  if (!body->has_value()) {
    return absl::UnavailableError("the server closed the connection");
  }
  return VerifiedResult(request, **body);
}

absl::Status TestClient::ExpectClosed(absl::Time deadline) {
  while (true) {
    absl::StatusOr<std::optional<std::string>> body = ReceiveBody(deadline);
    if (absl::IsDeadlineExceeded(body.status())) return body.status();
    // End of stream, a reset, or a frame cut short: the server closed.
    if (!body.ok() || !body->has_value()) return absl::OkStatus();
  }
}

absl::StatusOr<DatagramTestClient> DatagramTestClient::Create(
    const net::Address& server) {
  absl::StatusOr<net::Socket> socket =
      net::Socket::Create(server.family(), server.transport());
  if (!socket.ok()) return socket.status();
  absl::StatusOr<net::Address> wanted =
      server.transport() == net::Transport::kUnixDatagram
          ? UniqueAbstractAddress(net::Transport::kUnixDatagram)
          : net::Address::Parse(server.family() == AF_INET6
                                    ? "udp://[::1]:0"
                                    : "udp://127.0.0.1:0");
  if (!wanted.ok()) return wanted.status();
  absl::Status bound = socket->Bind(*wanted);
  if (!bound.ok()) return bound;
  absl::StatusOr<net::Address> local = socket->LocalAddress();
  if (!local.ok()) return local.status();
  return DatagramTestClient(std::move(*socket), server, *local);
}

absl::Status DatagramTestClient::Send(const framing::RequestView& request) {
  std::string datagram;
  framing::AppendRequestFrame(request, &datagram);
  return SendBytes(datagram);
}

absl::Status DatagramTestClient::SendBytes(absl::string_view datagram) {
  absl::StatusOr<net::IoResult> sent = socket_.SendTo(datagram, server_);
  if (!sent.ok()) return sent.status();
  if (sent->would_block) return absl::UnavailableError("sendto would block");
  return absl::OkStatus();
}

absl::StatusOr<std::string> DatagramTestClient::ReceiveBody(
    absl::Time deadline) {
  std::string buffer(kLargestDatagram, '\0');
  while (true) {
    absl::Status readable = net::WaitReadable(socket_.fd(), deadline);
    if (!readable.ok()) return readable;
    absl::StatusOr<net::IoResult> received =
        socket_.RecvFrom(absl::MakeSpan(buffer));
    if (!received.ok()) return received.status();
    if (received->would_block) continue;
    absl::StatusOr<absl::string_view> body = framing::DecodeDatagram(
        absl::string_view(buffer.data(), received->bytes));
    if (!body.ok()) return body.status();
    return std::string(*body);
  }
}

absl::StatusOr<std::string> DatagramTestClient::Call(
    const framing::RequestView& request) {
  absl::Status sent = Send(request);
  if (!sent.ok()) return sent;
  absl::StatusOr<std::string> body = ReceiveBody();
  if (!body.ok()) return body.status();
  return VerifiedResult(request, *body);
}

}  // namespace asyncwork::server::testing
