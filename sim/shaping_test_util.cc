#include "sim/shaping_test_util.h"

#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "net/blocking_io.h"
#include "absl/types/span.h"
#include "net/check.h"

namespace asyncwork::sim::testing {

std::string Pattern(size_t size, uint64_t seed) {
  std::string bytes(size, '\0');
  // An xorshift stream: cheap, and no two nearby positions alike.
  uint64_t state = seed * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < size; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    bytes[i] = static_cast<char>(state);
  }
  return bytes;
}

Drained Drain(net::Socket& socket) {
  Drained drained;
  char buffer[64 * 1024];
  while (true) {
    absl::StatusOr<net::IoResult> read = socket.Read(absl::MakeSpan(buffer));
    if (!read.ok()) {
      drained.error = read.status();
      return drained;
    }
    if (read->would_block) return drained;
    if (read->eof) {
      drained.eof = true;
      return drained;
    }
    drained.bytes.append(buffer, read->bytes);
  }
}

std::vector<std::string> DrainDatagrams(net::Socket& socket) {
  std::vector<std::string> datagrams;
  std::vector<char> buffer(256 * 1024);
  while (true) {
    absl::StatusOr<net::IoResult> read = socket.Read(absl::MakeSpan(buffer));
    if (!read.ok() || read->would_block) return datagrams;
    datagrams.emplace_back(buffer.data(), read->bytes);
  }
}

void WriteSome(net::Socket& socket, absl::string_view data, size_t* offset) {
  while (*offset < data.size()) {
    absl::StatusOr<net::IoResult> written = socket.Write(data.substr(*offset));
    ASYNCWORK_CHECK(written.ok()) << written.status().ToString();
    if (written->would_block) return;
    *offset += written->bytes;
  }
}

net::Socket ListenOrDie(absl::string_view address) {
  absl::StatusOr<net::Address> parsed = net::Address::Parse(address);
  ASYNCWORK_CHECK(parsed.ok()) << parsed.status().ToString();
  absl::StatusOr<net::Socket> listener = net::Socket::Listen(*parsed);
  ASYNCWORK_CHECK(listener.ok()) << listener.status().ToString();
  return *std::move(listener);
}

net::Address AddressOf(const net::Socket& socket) {
  absl::StatusOr<net::Address> address = socket.LocalAddress();
  ASYNCWORK_CHECK(address.ok()) << address.status().ToString();
  return *address;
}

std::pair<net::Socket, net::Socket> TcpPairOrDie() {
  net::Socket listener = ListenOrDie("127.0.0.1:0");
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::StatusOr<net::Socket> client =
      net::ConnectBlocking(AddressOf(listener), deadline);
  ASYNCWORK_CHECK(client.ok()) << client.status().ToString();
  absl::StatusOr<net::Socket> server = net::AcceptBlocking(listener, deadline);
  ASYNCWORK_CHECK(server.ok()) << server.status().ToString();
  return {*std::move(client), *std::move(server)};
}

net::Address RefusedAddress() {
  // The listener closes on return, leaving the port unbound.
  return AddressOf(ListenOrDie("127.0.0.1:0"));
}

std::string Timestamp(absl::Time time) {
  uint64_t nanos = static_cast<uint64_t>(absl::ToUnixNanos(time));
  std::string bytes(kTimestampBytes, '\0');
  for (size_t i = 0; i < kTimestampBytes; ++i) {
    bytes[i] = static_cast<char>(nanos >> (8 * (kTimestampBytes - 1 - i)));
  }
  return bytes;
}

absl::Time ReadTimestamp(absl::string_view bytes) {
  ASYNCWORK_CHECK(bytes.size() >= kTimestampBytes);
  uint64_t nanos = 0;
  for (size_t i = 0; i < kTimestampBytes; ++i) {
    nanos = (nanos << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return absl::FromUnixNanos(static_cast<int64_t>(nanos));
}

}  // namespace asyncwork::sim::testing
