// address.h: Address, one syntax for every endpoint asyncwork talks to.
//
// The text forms (each round-trips through Parse and ToString):
//
//   127.0.0.1:7000            TCP over IPv4 (the default transport)
//   [::1]:7000                TCP over IPv6 (brackets are required)
//   localhost:0               TCP, 127.0.0.1, any free port once bound
//   tcp://127.0.0.1:7000      TCP, spelled out
//   udp://[::1]:7000          UDP
//   unix:/run/x.sock          Unix stream socket (also unix:///run/x.sock)
//   unixgram:/run/x.sock      Unix datagram socket (also unixgram://...)
//   unix:@name                Linux abstract Unix name (no file; also for
//                             unixgram:)
//
//   absl::StatusOr<Address> address = Address::Parse("udp://127.0.0.1:7000");
//   if (!address.ok()) return address.status();
//   ::sendto(fd, data, size, 0, address->sockaddr(), address->length());
//
// Host names: IP literals are parsed without any lookup, and `localhost`
// always means 127.0.0.1 (never ::1, so that `localhost:0` behaves the same
// on every machine). Any other name is resolved with getaddrinfo(3), which
// may consult /etc/hosts and DNS and so may block for the resolver's own
// timeout; the first IPv4 result is preferred, then the first IPv6 one.
//
// An Address is a small value type (a sockaddr_storage, its length and a
// Transport); copy it freely. Every method may be called from any thread.
#ifndef ASYNCWORK_NET_ADDRESS_H_
#define ASYNCWORK_NET_ADDRESS_H_

#include <sys/socket.h>

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace asyncwork::net {

// Transport is what kind of socket an Address is meant for.
enum class Transport { kTcp, kUdp, kUnixStream, kUnixDatagram };

// TransportName returns "tcp", "udp", "unix" or "unixgram".
absl::string_view TransportName(Transport transport);

class Address {
 public:
  // Address() is an unspecified address (family AF_UNSPEC, length 0); it is
  // what a moved-from or default-constructed holder contains, and cannot be
  // bound or connected to.
  Address();

  // Parse reads one of the forms listed at the top of this file. Errors are
  // InvalidArgument (or NotFound for an unknown host name) and quote the
  // text and say what is wrong: missing port, port out of range, empty
  // path, path too long, unknown scheme, and so on.
  static absl::StatusOr<Address> Parse(absl::string_view text);

  // FromSockaddr copies a socket address returned by the kernel (accept,
  // recvfrom, getsockname). `length` is the length the kernel reported.
  // Fails when the family does not suit `transport` (AF_INET/AF_INET6 for
  // TCP and UDP, AF_UNIX for the Unix transports) or `length` is too short
  // or too long for the family.
  static absl::StatusOr<Address> FromSockaddr(const struct sockaddr* address,
                                              socklen_t length,
                                              Transport transport);

  // ToString prints the canonical text form, which Parse reads back to an
  // equal Address. An unnamed Unix address (the peer of a client that never
  // bound) prints as "unix:" or "unixgram:", which Parse rejects because
  // nothing can connect to it.
  std::string ToString() const;

  // family returns AF_INET, AF_INET6, AF_UNIX, or AF_UNSPEC when empty.
  int family() const { return storage_.ss_family; }
  Transport transport() const { return transport_; }
  // is_stream is true for kTcp and kUnixStream.
  bool is_stream() const;
  // port returns the IP port in host byte order; 0 for Unix addresses.
  uint16_t port() const;
  // unix_path returns the filesystem path of a Unix address; empty for
  // abstract and unnamed Unix addresses and for IP addresses.
  absl::string_view unix_path() const;
  // is_abstract is true for a Linux abstract Unix name (`unix:@name`).
  bool is_abstract() const;

  // sockaddr and length are what bind(2), connect(2) and sendto(2) take.
  // The pointer is valid while this Address lives.
  const struct sockaddr* sockaddr() const;
  socklen_t length() const { return length_; }

  // operator== compares transport, family, and the meaningful fields
  // (address, port and IPv6 scope; or the Unix name), never padding.
  friend bool operator==(const Address& a, const Address& b);
  friend bool operator!=(const Address& a, const Address& b) {
    return !(a == b);
  }
  // operator<< prints ToString(), so tests show addresses readably.
  friend std::ostream& operator<<(std::ostream& os, const Address& address) {
    return os << address.ToString();
  }

 private:
  struct sockaddr_storage storage_;
  socklen_t length_ = 0;
  Transport transport_ = Transport::kTcp;
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_ADDRESS_H_
