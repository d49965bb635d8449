#include "net/address.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace asyncwork::net {
namespace {

constexpr size_t kSunPathOffset = offsetof(struct sockaddr_un, sun_path);
constexpr size_t kSunPathSize = sizeof(sockaddr_un::sun_path);
constexpr int kMaxPort = 65535;

// Problem builds the one shape every Parse error takes: the text, quoted
// and escaped (it may come from a command line or a config file), then what
// is wrong with it.
absl::Status Problem(absl::string_view text, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat("address \"", absl::CHexEscape(text), "\": ", what));
}

struct Scheme {
  absl::string_view prefix;
  Transport transport;
};

// The longer spelling of each scheme comes first so that "unix://p" is read
// as the path "p", not "//p".
constexpr Scheme kSchemes[] = {
    {"tcp://", Transport::kTcp},
    {"udp://", Transport::kUdp},
    {"unixgram://", Transport::kUnixDatagram},
    {"unixgram:", Transport::kUnixDatagram},
    {"unix://", Transport::kUnixStream},
    {"unix:", Transport::kUnixStream},
};

bool IsUnix(Transport transport) {
  return transport == Transport::kUnixStream ||
         transport == Transport::kUnixDatagram;
}

// ParsePort accepts only decimal digits, so "+80", " 80" and "0x50" are
// rejected rather than read as something the user did not write.
absl::StatusOr<uint16_t> ParsePort(absl::string_view text,
                                   absl::string_view port) {
  if (port.empty()) return Problem(text, "missing port (expected HOST:PORT)");
  int value = 0;
  for (char c : port) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return Problem(text, absl::StrCat("port \"", absl::CHexEscape(port),
                                        "\" is not a decimal number"));
    }
    value = value * 10 + (c - '0');
    if (value > kMaxPort) {
      return Problem(
          text, absl::StrCat("port ", port, " is out of range 0-", kMaxPort));
    }
  }
  return static_cast<uint16_t>(value);
}

// A host name is letters, digits, '-' and '.', at most 253 characters (RFC
// 1035). Checking before getaddrinfo keeps obvious typos from reaching DNS.
bool IsHostName(absl::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '.') {
      return false;
    }
  }
  return true;
}

bool LooksNumeric(absl::string_view host) {
  for (char c : host) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.') {
      return false;
    }
  }
  return true;
}

struct AddrinfoDeleter {
  void operator()(struct addrinfo* info) const { ::freeaddrinfo(info); }
};
using AddrinfoPtr = std::unique_ptr<struct addrinfo, AddrinfoDeleter>;

// Lookup runs getaddrinfo and copies the preferred result (IPv4 first) into
// `storage`. `flags` is AI_NUMERICHOST for literals, so no lookup happens.
absl::Status Lookup(absl::string_view text, const std::string& host, int family,
                    int flags, Transport transport,
                    struct sockaddr_storage* storage, socklen_t* length) {
  struct addrinfo hints = {};
  hints.ai_family = family;
  hints.ai_flags = flags;
  hints.ai_socktype = transport == Transport::kUdp ? SOCK_DGRAM : SOCK_STREAM;
  struct addrinfo* raw = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &raw);
  AddrinfoPtr results(raw);
  if (rc != 0) {
    std::string reason =
        rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc);
    if (flags & AI_NUMERICHOST) {
      return Problem(
          text, absl::StrCat("\"", host, "\" is not a valid IPv6 address (",
                             reason, ")"));
    }
    return absl::NotFoundError(
        absl::StrCat("address \"", absl::CHexEscape(text),
                     "\": cannot resolve host \"", host, "\": ", reason));
  }
  const struct addrinfo* chosen = nullptr;
  for (const struct addrinfo* r = results.get(); r != nullptr; r = r->ai_next) {
    if (r->ai_family == AF_INET) {
      chosen = r;
      break;
    }
    if (r->ai_family == AF_INET6 && chosen == nullptr) chosen = r;
  }
  if (chosen == nullptr || chosen->ai_addrlen > sizeof(*storage)) {
    return absl::NotFoundError(
        absl::StrCat("address \"", absl::CHexEscape(text), "\": host \"", host,
                     "\" has no IPv4 or IPv6 address"));
  }
  std::memcpy(storage, chosen->ai_addr, chosen->ai_addrlen);
  *length = chosen->ai_addrlen;
  return absl::OkStatus();
}

// UnixName returns the bytes that name a Unix address: the path for a
// filesystem name (without its terminator, which the kernel may or may not
// count), the leading NUL and the name for an abstract one, nothing for an
// unnamed one.
absl::string_view UnixName(const struct sockaddr_storage& storage,
                           socklen_t length) {
  if (length <= kSunPathOffset) return {};
  const char* path =
      reinterpret_cast<const struct sockaddr_un*>(&storage)->sun_path;
  size_t size = length - kSunPathOffset;
  if (path[0] == '\0') return absl::string_view(path, size);
  return absl::string_view(path, ::strnlen(path, size));
}

}  // namespace

absl::string_view TransportName(Transport transport) {
  switch (transport) {
    case Transport::kTcp:
      return "tcp";
    case Transport::kUdp:
      return "udp";
    case Transport::kUnixStream:
      return "unix";
    case Transport::kUnixDatagram:
      return "unixgram";
  }
  return "?";
}

Address::Address() { std::memset(&storage_, 0, sizeof(storage_)); }

absl::StatusOr<Address> Address::Parse(absl::string_view text) {
  Address address;
  absl::string_view rest = text;
  bool has_scheme = false;
  for (const Scheme& scheme : kSchemes) {
    if (absl::StartsWithIgnoreCase(rest, scheme.prefix)) {
      rest.remove_prefix(scheme.prefix.size());
      address.transport_ = scheme.transport;
      has_scheme = true;
      break;
    }
  }
  if (!has_scheme) {
    size_t separator = rest.find("://");
    if (separator != absl::string_view::npos) {
      return Problem(text,
                     absl::StrCat("unknown scheme \"",
                                  absl::CHexEscape(rest.substr(0, separator)),
                                  "\" (expected tcp://, udp://, unix: "
                                  "or unixgram:)"));
    }
  }

  if (IsUnix(address.transport_)) {
    auto* un = reinterpret_cast<struct sockaddr_un*>(&address.storage_);
    un->sun_family = AF_UNIX;
    if (rest.empty()) return Problem(text, "empty Unix socket path");
    if (rest.find('\0') != absl::string_view::npos) {
      return Problem(text, "Unix socket path contains a NUL byte");
    }
    if (rest[0] == '@') {
      // An abstract name is a leading NUL and the name, with no terminator;
      // the length says where it ends.
      absl::string_view name = rest.substr(1);
      if (name.empty()) return Problem(text, "empty abstract Unix name");
      if (1 + name.size() > kSunPathSize) {
        return Problem(text,
                       absl::StrCat("abstract Unix name is ", name.size(),
                                    " bytes, longer than ", kSunPathSize - 1));
      }
      std::memcpy(un->sun_path + 1, name.data(), name.size());
      address.length_ = kSunPathOffset + 1 + name.size();
    } else {
      if (rest.size() + 1 > kSunPathSize) {
        return Problem(text, absl::StrCat("Unix socket path is ", rest.size(),
                                          " bytes, longer than sun_path "
                                          "allows (",
                                          kSunPathSize - 1, ")"));
      }
      std::memcpy(un->sun_path, rest.data(), rest.size());
      address.length_ = kSunPathOffset + rest.size() + 1;
    }
    return address;
  }

  if (rest.empty()) return Problem(text, "empty address (expected HOST:PORT)");
  absl::string_view host;
  absl::string_view port;
  bool bracketed = rest[0] == '[';
  if (bracketed) {
    size_t close = rest.find(']');
    if (close == absl::string_view::npos) {
      return Problem(text, "missing ']' after IPv6 address");
    }
    host = rest.substr(1, close - 1);
    absl::string_view after = rest.substr(close + 1);
    if (after.empty())
      return Problem(text, "missing port (expected [HOST]:PORT)");
    if (after[0] != ':') return Problem(text, "expected ':' after ']'");
    port = after.substr(1);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == absl::string_view::npos) {
      return Problem(text, "missing port (expected HOST:PORT)");
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != absl::string_view::npos) {
      return Problem(text, "an IPv6 address needs brackets, as in [::1]:7000");
    }
  }
  if (host.empty()) return Problem(text, "missing host (expected HOST:PORT)");
  absl::StatusOr<uint16_t> port_number = ParsePort(text, port);
  if (!port_number.ok()) return port_number.status();

  std::string host_string(host);
  if (bracketed) {
    absl::Status status =
        Lookup(text, host_string, AF_INET6, AI_NUMERICHOST, address.transport_,
               &address.storage_, &address.length_);
    if (!status.ok()) return status;
  } else {
    auto* in = reinterpret_cast<struct sockaddr_in*>(&address.storage_);
    if (absl::EqualsIgnoreCase(host, "localhost")) {
      host_string = "127.0.0.1";
    }
    if (::inet_pton(AF_INET, host_string.c_str(), &in->sin_addr) == 1) {
      in->sin_family = AF_INET;
      address.length_ = sizeof(*in);
    } else if (LooksNumeric(host)) {
      return Problem(
          text, absl::StrCat("\"", host, "\" is not a valid IPv4 address"));
    } else if (!IsHostName(host)) {
      return Problem(text, absl::StrCat("\"", absl::CHexEscape(host),
                                        "\" is not a valid host name"));
    } else {
      absl::Status status =
          Lookup(text, host_string, AF_UNSPEC, 0, address.transport_,
                 &address.storage_, &address.length_);
      if (!status.ok()) return status;
    }
  }
  // sin_port and sin6_port sit at the same offset, but each family is
  // written through its own type to keep that coincidence out of the code.
  if (address.family() == AF_INET) {
    reinterpret_cast<struct sockaddr_in*>(&address.storage_)->sin_port =
        htons(*port_number);
  } else {
    reinterpret_cast<struct sockaddr_in6*>(&address.storage_)->sin6_port =
        htons(*port_number);
  }
  return address;
}

absl::StatusOr<Address> Address::FromSockaddr(const struct sockaddr* address,
                                              socklen_t length,
                                              Transport transport) {
  if (address == nullptr || length < sizeof(sa_family_t)) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket address of ", length, " bytes is too short"));
  }
  size_t minimum = 0;
  size_t maximum = 0;
  switch (address->sa_family) {
    case AF_INET:
      minimum = maximum = sizeof(struct sockaddr_in);
      break;
    case AF_INET6:
      minimum = maximum = sizeof(struct sockaddr_in6);
      break;
    case AF_UNIX:
      minimum = kSunPathOffset;
      maximum = sizeof(struct sockaddr_un);
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "socket address family ", address->sa_family, " is not supported"));
  }
  if (IsUnix(transport) != (address->sa_family == AF_UNIX)) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket address family ", address->sa_family,
                     " does not suit transport ", TransportName(transport)));
  }
  if (length < minimum || length > maximum) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket address of family ", address->sa_family, " has ",
                     length, " bytes, expected ", minimum, " to ", maximum));
  }
  Address result;
  std::memcpy(&result.storage_, address, length);
  result.length_ = length;
  result.transport_ = transport;
  return result;
}

std::string Address::ToString() const {
  switch (family()) {
    case AF_INET:
    case AF_INET6: {
      char host[NI_MAXHOST];
      if (::getnameinfo(sockaddr(), length_, host, sizeof(host), nullptr, 0,
                        NI_NUMERICHOST) != 0) {
        return "(unprintable IP address)";
      }
      return absl::StrCat(transport_ == Transport::kUdp ? "udp://" : "",
                          family() == AF_INET6 ? "[" : "", host,
                          family() == AF_INET6 ? "]" : "", ":", port());
    }
    case AF_UNIX: {
      absl::string_view name = UnixName(storage_, length_);
      if (is_abstract()) name.remove_prefix(1);
      return absl::StrCat(TransportName(transport_), ":",
                          is_abstract() ? "@" : "", name);
    }
    default:
      return "(unspecified address)";
  }
}

bool Address::is_stream() const {
  return transport_ == Transport::kTcp || transport_ == Transport::kUnixStream;
}

uint16_t Address::port() const {
  if (family() == AF_INET) {
    return ntohs(
        reinterpret_cast<const struct sockaddr_in*>(&storage_)->sin_port);
  }
  if (family() == AF_INET6) {
    return ntohs(
        reinterpret_cast<const struct sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

absl::string_view Address::unix_path() const {
  if (family() != AF_UNIX || is_abstract()) return {};
  return UnixName(storage_, length_);
}

bool Address::is_abstract() const {
  absl::string_view name =
      family() == AF_UNIX ? UnixName(storage_, length_) : absl::string_view();
  return !name.empty() && name[0] == '\0';
}

const struct sockaddr* Address::sockaddr() const {
  return reinterpret_cast<const struct sockaddr*>(&storage_);
}

bool operator==(const Address& a, const Address& b) {
  if (a.transport_ != b.transport_ || a.family() != b.family()) return false;
  switch (a.family()) {
    case AF_INET: {
      const auto* x = reinterpret_cast<const struct sockaddr_in*>(&a.storage_);
      const auto* y = reinterpret_cast<const struct sockaddr_in*>(&b.storage_);
      return x->sin_port == y->sin_port &&
             x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    case AF_INET6: {
      const auto* x = reinterpret_cast<const struct sockaddr_in6*>(&a.storage_);
      const auto* y = reinterpret_cast<const struct sockaddr_in6*>(&b.storage_);
      return x->sin6_port == y->sin6_port &&
             x->sin6_scope_id == y->sin6_scope_id &&
             std::memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) ==
                 0;
    }
    case AF_UNIX:
      return UnixName(a.storage_, a.length_) == UnixName(b.storage_, b.length_);
    default:
      return true;
  }
}

}  // namespace asyncwork::net
