#include "net/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace asyncwork::net {
namespace {

using ::testing::HasSubstr;

struct Accepted {
  const char* text;
  Transport transport;
  int family;
  uint16_t port;
  const char* canonical;  // what ToString prints
};

constexpr Accepted kAccepted[] = {
    {"127.0.0.1:7000", Transport::kTcp, AF_INET, 7000, "127.0.0.1:7000"},
    {"0.0.0.0:0", Transport::kTcp, AF_INET, 0, "0.0.0.0:0"},
    {"10.1.2.3:65535", Transport::kTcp, AF_INET, 65535, "10.1.2.3:65535"},
    {"127.0.0.1:007", Transport::kTcp, AF_INET, 7, "127.0.0.1:7"},
    {"[::1]:7000", Transport::kTcp, AF_INET6, 7000, "[::1]:7000"},
    {"[::]:0", Transport::kTcp, AF_INET6, 0, "[::]:0"},
    {"[2001:DB8::1]:80", Transport::kTcp, AF_INET6, 80, "[2001:db8::1]:80"},
    {"[::ffff:127.0.0.1]:9", Transport::kTcp, AF_INET6, 9,
     "[::ffff:127.0.0.1]:9"},
    {"localhost:0", Transport::kTcp, AF_INET, 0, "127.0.0.1:0"},
    {"LocalHost:8080", Transport::kTcp, AF_INET, 8080, "127.0.0.1:8080"},
    {"tcp://127.0.0.1:7000", Transport::kTcp, AF_INET, 7000, "127.0.0.1:7000"},
    {"TCP://[::1]:1", Transport::kTcp, AF_INET6, 1, "[::1]:1"},
    {"udp://127.0.0.1:7000", Transport::kUdp, AF_INET, 7000,
     "udp://127.0.0.1:7000"},
    {"udp://[::1]:53", Transport::kUdp, AF_INET6, 53, "udp://[::1]:53"},
    {"udp://localhost:0", Transport::kUdp, AF_INET, 0, "udp://127.0.0.1:0"},
    {"unix:/path/to.sock", Transport::kUnixStream, AF_UNIX, 0,
     "unix:/path/to.sock"},
    {"unix:///path/to.sock", Transport::kUnixStream, AF_UNIX, 0,
     "unix:/path/to.sock"},
    {"unix:relative.sock", Transport::kUnixStream, AF_UNIX, 0,
     "unix:relative.sock"},
    {"unix:@abstract-name", Transport::kUnixStream, AF_UNIX, 0,
     "unix:@abstract-name"},
    {"unixgram:/path", Transport::kUnixDatagram, AF_UNIX, 0, "unixgram:/path"},
    {"unixgram:///path", Transport::kUnixDatagram, AF_UNIX, 0,
     "unixgram:/path"},
    {"unixgram:@dgram", Transport::kUnixDatagram, AF_UNIX, 0,
     "unixgram:@dgram"},
};

TEST(Address, ParseAcceptsEveryForm) {
  for (const Accepted& c : kAccepted) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<Address> address = Address::Parse(c.text);
    ASSERT_TRUE(address.ok()) << address.status();
    EXPECT_EQ(address->transport(), c.transport);
    EXPECT_EQ(address->family(), c.family);
    EXPECT_EQ(address->port(), c.port);
    EXPECT_EQ(address->ToString(), c.canonical);
  }
}

TEST(Address, ToStringRoundTripsThroughParse) {
  for (const Accepted& c : kAccepted) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<Address> first = Address::Parse(c.text);
    ASSERT_TRUE(first.ok()) << first.status();
    absl::StatusOr<Address> second = Address::Parse(first->ToString());
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_EQ(*first, *second);
    EXPECT_EQ(second->ToString(), first->ToString());
    EXPECT_EQ(second->length(), first->length());
  }
}

struct Rejected {
  const char* text;
  const char* problem;  // a phrase the error message must contain
};

const Rejected kRejected[] = {
    {"", "empty address"},
    {"127.0.0.1", "missing port"},
    {"127.0.0.1:", "missing port"},
    {"[::1]", "missing port"},
    {"[::1]:", "missing port"},
    {":7000", "missing host"},
    {"127.0.0.1:65536", "out of range"},
    {"127.0.0.1:99999999999", "out of range"},
    {"127.0.0.1:http", "not a decimal number"},
    {"127.0.0.1:+80", "not a decimal number"},
    {"127.0.0.1:-1", "not a decimal number"},
    {"::1:7000", "needs brackets"},
    {"[::1:7000", "missing ']'"},
    {"[::1]x7000", "expected ':' after ']'"},
    {"[127.0.0.1]:80", "not a valid IPv6 address"},
    {"[zz::1]:80", "not a valid IPv6 address"},
    {"256.1.1.1:80", "not a valid IPv4 address"},
    {"bad host:80", "not a valid host name"},
    {"http://127.0.0.1:80", "unknown scheme \"http\""},
    {"unix:", "empty Unix socket path"},
    {"unix://", "empty Unix socket path"},
    {"unixgram:", "empty Unix socket path"},
    {"unix:@", "empty abstract Unix name"},
    {"udp://", "empty address"},
};

TEST(Address, ParseRejectsBadTextNamingTheProblem) {
  for (const Rejected& c : kRejected) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<Address> address = Address::Parse(c.text);
    ASSERT_FALSE(address.ok()) << "parsed as " << *address;
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(address.status().message(), HasSubstr(c.problem));
    EXPECT_THAT(address.status().message(),
                HasSubstr(absl::StrCat("\"", c.text, "\"")));
  }
}

TEST(Address, ParseRejectsUnixPathLongerThanSunPath) {
  size_t room = sizeof(sockaddr_un::sun_path) - 1;  // one byte for the NUL
  std::string longest = "unix:/" + std::string(room - 1, 'p');
  absl::StatusOr<Address> fits = Address::Parse(longest);
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_EQ(fits->unix_path().size(), room);

  absl::StatusOr<Address> too_long = Address::Parse(longest + "p");
  ASSERT_FALSE(too_long.ok());
  EXPECT_THAT(too_long.status().message(), HasSubstr("longer than"));

  std::string abstract = "unix:@" + std::string(room, 'a');
  EXPECT_TRUE(Address::Parse(abstract).ok());
  EXPECT_FALSE(Address::Parse(abstract + "a").ok());
}

TEST(Address, ParseRejectsNulByteInPath) {
  absl::StatusOr<Address> address =
      Address::Parse(absl::string_view("unix:/a\0b", 9));
  ASSERT_FALSE(address.ok());
  EXPECT_THAT(address.status().message(), HasSubstr("NUL byte"));
}

TEST(Address, SockaddrHoldsWhatParseRead) {
  Address v4 = *Address::Parse("127.0.0.1:7000");
  ASSERT_EQ(v4.length(), sizeof(sockaddr_in));
  const auto* in = reinterpret_cast<const sockaddr_in*>(v4.sockaddr());
  EXPECT_EQ(ntohs(in->sin_port), 7000);
  EXPECT_EQ(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);

  Address v6 = *Address::Parse("[::1]:7001");
  ASSERT_EQ(v6.length(), sizeof(sockaddr_in6));
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(v6.sockaddr());
  EXPECT_EQ(ntohs(in6->sin6_port), 7001);
  EXPECT_EQ(
      std::memcmp(&in6->sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback)),
      0);

  Address path = *Address::Parse("unix:/p");
  const auto* un = reinterpret_cast<const sockaddr_un*>(path.sockaddr());
  EXPECT_STREQ(un->sun_path, "/p");
  EXPECT_EQ(path.unix_path(), "/p");
  EXPECT_FALSE(path.is_abstract());

  Address abstract = *Address::Parse("unix:@name");
  un = reinterpret_cast<const sockaddr_un*>(abstract.sockaddr());
  EXPECT_EQ(un->sun_path[0], '\0');
  EXPECT_EQ(std::string(un->sun_path + 1, 4), "name");
  EXPECT_EQ(abstract.length(), offsetof(sockaddr_un, sun_path) + 5);
  EXPECT_TRUE(abstract.is_abstract());
  EXPECT_EQ(abstract.unix_path(), "");
}

TEST(Address, ParsesIpv6ScopeAndRoundTrips) {
  // Interface index 1 is the loopback interface on Linux; ToString may
  // print it by name, which Parse reads back to the same index.
  absl::StatusOr<Address> scoped = Address::Parse("[fe80::1%1]:80");
  ASSERT_TRUE(scoped.ok()) << scoped.status();
  EXPECT_EQ(
      reinterpret_cast<const sockaddr_in6*>(scoped->sockaddr())->sin6_scope_id,
      1u);
  EXPECT_NE(*scoped, *Address::Parse("[fe80::1]:80"));
  absl::StatusOr<Address> again = Address::Parse(scoped->ToString());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *scoped);
}

TEST(Address, IsStreamFollowsTransport) {
  EXPECT_TRUE(Address::Parse("127.0.0.1:1")->is_stream());
  EXPECT_TRUE(Address::Parse("unix:/s")->is_stream());
  EXPECT_FALSE(Address::Parse("udp://127.0.0.1:1")->is_stream());
  EXPECT_FALSE(Address::Parse("unixgram:/s")->is_stream());
}

TEST(Address, EqualityComparesTransportAndEndpoint) {
  EXPECT_EQ(*Address::Parse("127.0.0.1:80"), *Address::Parse("localhost:80"));
  EXPECT_NE(*Address::Parse("127.0.0.1:80"), *Address::Parse("127.0.0.1:81"));
  EXPECT_NE(*Address::Parse("127.0.0.1:80"), *Address::Parse("127.0.0.2:80"));
  EXPECT_NE(*Address::Parse("127.0.0.1:80"),
            *Address::Parse("udp://127.0.0.1:80"));
  EXPECT_NE(*Address::Parse("[::1]:80"), *Address::Parse("127.0.0.1:80"));
  EXPECT_NE(*Address::Parse("unix:/a"), *Address::Parse("unix:/b"));
  EXPECT_NE(*Address::Parse("unix:/a"), *Address::Parse("unixgram:/a"));
  EXPECT_NE(*Address::Parse("unix:/a"), *Address::Parse("unix:@a"));
  EXPECT_EQ(Address(), Address());
}

TEST(Address, FromSockaddrCopiesKernelAddresses) {
  sockaddr_in in = {};
  in.sin_family = AF_INET;
  in.sin_port = htons(4242);
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  absl::StatusOr<Address> tcp = Address::FromSockaddr(
      reinterpret_cast<sockaddr*>(&in), sizeof(in), Transport::kTcp);
  ASSERT_TRUE(tcp.ok()) << tcp.status();
  EXPECT_EQ(*tcp, *Address::Parse("127.0.0.1:4242"));

  // An unnamed Unix peer (a client that never bound) is just the family.
  sockaddr_un un = {};
  un.sun_family = AF_UNIX;
  absl::StatusOr<Address> unnamed =
      Address::FromSockaddr(reinterpret_cast<sockaddr*>(&un),
                            sizeof(sa_family_t), Transport::kUnixDatagram);
  ASSERT_TRUE(unnamed.ok()) << unnamed.status();
  EXPECT_EQ(unnamed->ToString(), "unixgram:");
  EXPECT_EQ(unnamed->unix_path(), "");
  EXPECT_FALSE(unnamed->is_abstract());
}

TEST(Address, FromSockaddrRejectsMismatchAndBadLength) {
  sockaddr_in in = {};
  in.sin_family = AF_INET;
  auto* raw = reinterpret_cast<sockaddr*>(&in);
  EXPECT_THAT(Address::FromSockaddr(raw, sizeof(in), Transport::kUnixStream)
                  .status()
                  .message(),
              HasSubstr("does not suit transport unix"));
  EXPECT_THAT(Address::FromSockaddr(raw, sizeof(in) - 1, Transport::kTcp)
                  .status()
                  .message(),
              HasSubstr("expected 16 to 16"));
  in.sin_family = AF_APPLETALK;
  EXPECT_THAT(Address::FromSockaddr(raw, sizeof(in), Transport::kTcp)
                  .status()
                  .message(),
              HasSubstr("not supported"));
}

TEST(Address, TransportNameSpellsTheScheme) {
  EXPECT_EQ(TransportName(Transport::kTcp), "tcp");
  EXPECT_EQ(TransportName(Transport::kUdp), "udp");
  EXPECT_EQ(TransportName(Transport::kUnixStream), "unix");
  EXPECT_EQ(TransportName(Transport::kUnixDatagram), "unixgram");
}

}  // namespace
}  // namespace asyncwork::net
