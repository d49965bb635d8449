#include "net/socket.h"

#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace asyncwork::net {
namespace {

// absl::ErrnoToStatus builds its table of errno texts on first use, behind
// a static-initialisation guard. Built here, before main starts any thread:
// a child forked (server/'s forking kind) while another thread held that
// guard would wait on it forever, and ThreadSanitizer, which cannot see the
// guard inside Debian's uninstrumented Abseil, would report two threads'
// first socket errors as a race.
[[maybe_unused]] const bool kErrnoTextsBuilt =
    !absl::ErrnoToStatus(EAGAIN, "warm-up").ok();

// Accept retries these instead of failing: each describes a connection that
// died in the queue (ECONNABORTED, EPROTO) or, on Linux, a network error
// already pending on the new connection, which accept(2) says to treat like
// EAGAIN. EOPNOTSUPP is absent on purpose: on a datagram socket it is the
// caller's mistake, and retrying it would never end.
bool IsDeadPendingConnection(int error) {
  switch (error) {
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case ENETUNREACH:
      return true;
    default:
      return false;
  }
}

// Each retry above consumes one queued connection; the cap keeps a flood of
// dying connections from holding the caller (the loop thread) indefinitely.
// Returning "would block" after it is safe: the listener stays readable.
constexpr int kMaxAcceptRetries = 64;

bool IsUnixTransport(Transport transport) {
  return transport == Transport::kUnixStream ||
         transport == Transport::kUnixDatagram;
}

int SocketType(Transport transport) {
  return transport == Transport::kTcp || transport == Transport::kUnixStream
             ? SOCK_STREAM
             : SOCK_DGRAM;
}

template <typename Call>
auto RetryOnEintr(Call call) {
  decltype(call()) result;
  do {
    result = call();
  } while (result == -1 && errno == EINTR);
  return result;
}

// IsStaleUnixSocket probes the socket file at `address`: a connect that is
// refused means nothing is bound there any more. Any other outcome (accepted,
// queue full, wrong socket type, no permission) means it may be in use, so
// the file is left alone.
bool IsStaleUnixSocket(const Address& address) {
  struct stat info;
  std::string path(address.unix_path());
  if (::lstat(path.c_str(), &info) != 0 || !S_ISSOCK(info.st_mode)) {
    return false;
  }
  absl::StatusOr<Socket> probe = Socket::Create(AF_UNIX, address.transport());
  if (!probe.ok()) return false;
  int rc = RetryOnEintr([&] {
    return ::connect(probe->fd(), address.sockaddr(), address.length());
  });
  return rc == -1 && errno == ECONNREFUSED;
}

int ReadSystemMaxBacklog() {
  std::ifstream file("/proc/sys/net/core/somaxconn");
  int value = 0;
  if (file >> value && value > 0) return value;
  return SOMAXCONN;
}

}  // namespace

namespace internal {

UnixPathGuard::UnixPathGuard(UnixPathGuard&& other) noexcept
    : path_(std::exchange(other.path_, std::string())),
      device_(other.device_),
      inode_(other.inode_) {}

UnixPathGuard& UnixPathGuard::operator=(UnixPathGuard&& other) noexcept {
  if (this != &other) {
    Remove();
    path_ = std::exchange(other.path_, std::string());
    device_ = other.device_;
    inode_ = other.inode_;
  }
  return *this;
}

void UnixPathGuard::Arm(std::string path) {
  Remove();
  struct stat info;
  // If the file is already gone there is nothing to remove later.
  if (::lstat(path.c_str(), &info) != 0) return;
  path_ = std::move(path);
  device_ = info.st_dev;
  inode_ = info.st_ino;
}

void UnixPathGuard::Remove() {
  if (path_.empty()) return;
  // Another process may have replaced a file it judged stale, or this
  // process may have changed directory since a relative path was bound;
  // only the file this guard saw is removed.
  struct stat info;
  if (::lstat(path_.c_str(), &info) == 0 && info.st_dev == device_ &&
      info.st_ino == inode_) {
    ::unlink(path_.c_str());
  }
  Disarm();
}

void UnixPathGuard::Disarm() { path_.clear(); }

}  // namespace internal

int Socket::SystemMaxBacklog() {
  static const int backlog = ReadSystemMaxBacklog();
  return backlog;
}

Socket::Socket(Fd fd, int family, Transport transport)
    : fd_(std::move(fd)), family_(family), transport_(transport) {}

absl::StatusOr<Socket> Socket::Create(int family, Transport transport) {
  bool family_suits = IsUnixTransport(transport)
                          ? family == AF_UNIX
                          : family == AF_INET || family == AF_INET6;
  if (!family_suits) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket: address family ", family,
                     " does not suit transport ", TransportName(transport)));
  }
  absl::StatusOr<Fd> fd = Fd::Adopt(
      ::socket(family, SocketType(transport) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
      "socket");
  if (!fd.ok()) return fd.status();
  return Socket(*std::move(fd), family, transport);
}

absl::StatusOr<std::pair<Socket, Socket>> Socket::CreatePair(
    Transport transport) {
  if (!IsUnixTransport(transport)) {
    return absl::InvalidArgumentError(absl::StrCat("socketpair: transport ",
                                                   TransportName(transport),
                                                   " is not a Unix transport"));
  }
  int fds[2];
  if (::socketpair(AF_UNIX,
                   SocketType(transport) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   fds) != 0) {
    return absl::ErrnoToStatus(errno, "socketpair");
  }
  return std::make_pair(Socket(Fd(fds[0]), AF_UNIX, transport),
                        Socket(Fd(fds[1]), AF_UNIX, transport));
}

absl::StatusOr<Socket> Socket::Listen(const Address& address, int backlog) {
  absl::StatusOr<Socket> socket = Create(address.family(), address.transport());
  if (!socket.ok()) return socket.status();
  if (address.transport() == Transport::kTcp) {
    // A restarted server must be able to bind its port while connections
    // from its previous run linger in TIME_WAIT.
    absl::Status reuse = socket->SetReuseAddress(true);
    if (!reuse.ok()) return reuse;
  }
  absl::Status bound = socket->Bind(address);
  if (!bound.ok()) return bound;
  if (address.is_stream()) {
    absl::Status listening = socket->StartListening(backlog);
    if (!listening.ok()) return listening;
  }
  return socket;
}

absl::StatusOr<Socket> Socket::Connect(const Address& address) {
  absl::StatusOr<Socket> socket = Create(address.family(), address.transport());
  if (!socket.ok()) return socket.status();
  absl::Status started = socket->StartConnect(address);
  if (!started.ok()) return started;
  return socket;
}

absl::Status Socket::CheckSuits(const Address& address,
                                const char* call) const {
  if (!valid()) {
    return absl::FailedPreconditionError(
        absl::StrCat(call, " ", address.ToString(), ": socket is closed"));
  }
  if (address.family() != family_ || address.transport() != transport_) {
    return absl::InvalidArgumentError(absl::StrCat(
        call, " ", address.ToString(), ": address does not suit a ",
        TransportName(transport_), " socket of family ", family_));
  }
  return absl::OkStatus();
}

absl::Status Socket::Bind(const Address& address) {
  absl::Status suits = CheckSuits(address, "bind");
  if (!suits.ok()) return suits;
  if (!address.unix_path().empty()) return BindUnixPath(address);
  if (::bind(fd(), address.sockaddr(), address.length()) != 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("bind ", address.ToString()));
  }
  return absl::OkStatus();
}

absl::Status Socket::BindUnixPath(const Address& address) {
  int rc = ::bind(fd(), address.sockaddr(), address.length());
  if (rc != 0 && errno == EADDRINUSE && IsStaleUnixSocket(address)) {
    ::unlink(std::string(address.unix_path()).c_str());
    rc = ::bind(fd(), address.sockaddr(), address.length());
  }
  if (rc != 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("bind ", address.ToString(),
                            errno == EADDRINUSE
                                ? " (in use by a live socket, or not a socket)"
                                : ""));
  }
  path_guard_.Arm(std::string(address.unix_path()));
  return absl::OkStatus();
}

absl::Status Socket::StartListening(int backlog) {
  if (backlog == kDefaultBacklog) backlog = SystemMaxBacklog();
  if (::listen(fd(), backlog) != 0) return absl::ErrnoToStatus(errno, "listen");
  return absl::OkStatus();
}

absl::Status Socket::StartConnect(const Address& address) {
  absl::Status suits = CheckSuits(address, "connect");
  if (!suits.ok()) return suits;
  connect_target_ = address;
  if (::connect(fd(), address.sockaddr(), address.length()) == 0 ||
      errno == EINPROGRESS || errno == EINTR) {
    return absl::OkStatus();
  }
  return absl::ErrnoToStatus(errno,
                             absl::StrCat("connect ", address.ToString()));
}

absl::Status Socket::FinishConnect() {
  auto call = [this] {
    return absl::StrCat("connect ", connect_target_.ToString());
  };
  int error = 0;
  socklen_t length = sizeof(error);
  if (::getsockopt(fd(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
    return absl::ErrnoToStatus(errno, "getsockopt(SO_ERROR)");
  }
  if (error != 0) return absl::ErrnoToStatus(error, call());
  // SO_ERROR is also 0 while the handshake is still running; only a peer
  // address proves the connection exists.
  struct sockaddr_storage peer;
  socklen_t peer_length = sizeof(peer);
  if (::getpeername(fd(), reinterpret_cast<struct sockaddr*>(&peer),
                    &peer_length) != 0) {
    if (errno == ENOTCONN) {
      return absl::FailedPreconditionError(absl::StrCat(
          call(),
          ": not connected yet (call FinishConnect once the socket is "
          "writable)"));
    }
    return absl::ErrnoToStatus(errno, "getpeername");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Socket>> Socket::Accept(Address* peer) {
  for (int attempt = 0; attempt < kMaxAcceptRetries; ++attempt) {
    struct sockaddr_storage storage;
    socklen_t length = sizeof(storage);
    int accepted = ::accept4(fd(), reinterpret_cast<struct sockaddr*>(&storage),
                             &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (accepted < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
      if (errno == EINTR || IsDeadPendingConnection(errno)) continue;
      return absl::ErrnoToStatus(errno, "accept4");
    }
    Socket socket(Fd(accepted), family_, transport_);
    if (peer != nullptr) {
      absl::StatusOr<Address> address = Address::FromSockaddr(
          reinterpret_cast<struct sockaddr*>(&storage), length, transport_);
      if (!address.ok()) return address.status();
      *peer = *address;
    }
    return std::optional<Socket>(std::move(socket));
  }
  return std::nullopt;
}

absl::StatusOr<IoResult> Socket::Receive(const struct iovec* buffers,
                                         size_t count, Address* from,
                                         const char* call) {
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) total += buffers[i].iov_len;
  // A zero-byte stream read would return 0, which means end of stream; a
  // zero-byte datagram read still consumes (and reports) one datagram.
  if (total == 0 && is_stream()) return IoResult::Transferred(0);

  struct sockaddr_storage storage;
  struct msghdr message = {};
  if (from != nullptr) {
    message.msg_name = &storage;
    message.msg_namelen = sizeof(storage);
  }
  // recvmsg does not write through msg_iov; the cast only meets its type.
  message.msg_iov = const_cast<struct iovec*>(buffers);
  message.msg_iovlen = count;
  ssize_t received = RetryOnEintr([&] { return ::recvmsg(fd(), &message, 0); });
  if (received < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::WouldBlock();
    return absl::ErrnoToStatus(errno, call);
  }
  if (received == 0 && is_stream()) return IoResult::Eof();
  if (from != nullptr) {
    // The kernel leaves msg_namelen at 0 when the sender has no address (an
    // unbound Unix datagram socket); that is an unnamed Unix address, not a
    // malformed one.
    if (message.msg_namelen == 0 && family_ == AF_UNIX) {
      storage.ss_family = AF_UNIX;
      message.msg_namelen = sizeof(sa_family_t);
    }
    absl::StatusOr<Address> address =
        Address::FromSockaddr(reinterpret_cast<struct sockaddr*>(&storage),
                              message.msg_namelen, transport_);
    if (!address.ok()) return address.status();
    *from = *address;
  }
  IoResult result = IoResult::Transferred(static_cast<size_t>(received));
  result.truncated = (message.msg_flags & MSG_TRUNC) != 0;
  return result;
}

absl::StatusOr<IoResult> Socket::Send(const struct iovec* buffers, size_t count,
                                      const Address* to, const char* call) {
  struct msghdr message = {};
  if (to != nullptr) {
    message.msg_name = const_cast<struct sockaddr*>(to->sockaddr());
    message.msg_namelen = to->length();
  }
  message.msg_iov = const_cast<struct iovec*>(buffers);
  message.msg_iovlen = count;
  ssize_t sent =
      RetryOnEintr([&] { return ::sendmsg(fd(), &message, MSG_NOSIGNAL); });
  if (sent < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::WouldBlock();
    return absl::ErrnoToStatus(errno, call);
  }
  return IoResult::Transferred(static_cast<size_t>(sent));
}

absl::StatusOr<IoResult> Socket::Read(absl::Span<char> buffer) {
  struct iovec one = {buffer.data(), buffer.size()};
  return Receive(&one, 1, nullptr, "recv");
}

absl::StatusOr<IoResult> Socket::Readv(absl::Span<const struct iovec> buffers) {
  return Receive(buffers.data(), std::min<size_t>(buffers.size(), IOV_MAX),
                 nullptr, "recvmsg");
}

absl::StatusOr<IoResult> Socket::Write(absl::string_view data) {
  struct iovec one = {const_cast<char*>(data.data()), data.size()};
  return Send(&one, 1, nullptr, "send");
}

absl::StatusOr<IoResult> Socket::Writev(
    absl::Span<const struct iovec> buffers) {
  return Send(buffers.data(), std::min<size_t>(buffers.size(), IOV_MAX),
              nullptr, "sendmsg");
}

absl::StatusOr<IoResult> Socket::SendTo(absl::string_view data,
                                        const Address& to) {
  struct iovec one = {const_cast<char*>(data.data()), data.size()};
  return Send(&one, 1, &to, "sendto");
}

absl::StatusOr<IoResult> Socket::RecvFrom(absl::Span<char> buffer,
                                          Address* from) {
  struct iovec one = {buffer.data(), buffer.size()};
  return Receive(&one, 1, from, "recvfrom");
}

absl::Status Socket::ShutdownWrite() {
  if (::shutdown(fd(), SHUT_WR) != 0) {
    return absl::ErrnoToStatus(errno, "shutdown");
  }
  return absl::OkStatus();
}

absl::StatusOr<Address> Socket::QueryAddress(int (*query)(int, struct sockaddr*,
                                                          socklen_t*),
                                             const char* call) const {
  struct sockaddr_storage storage;
  socklen_t length = sizeof(storage);
  if (query(fd(), reinterpret_cast<struct sockaddr*>(&storage), &length) != 0) {
    return absl::ErrnoToStatus(errno, call);
  }
  return Address::FromSockaddr(reinterpret_cast<struct sockaddr*>(&storage),
                               length, transport_);
}

absl::StatusOr<Address> Socket::LocalAddress() const {
  return QueryAddress(::getsockname, "getsockname");
}

absl::StatusOr<Address> Socket::PeerAddress() const {
  return QueryAddress(::getpeername, "getpeername");
}

absl::Status Socket::SetIntOption(int level, int option, int value,
                                  const char* name) {
  if (::setsockopt(fd(), level, option, &value, sizeof(value)) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("setsockopt(", name, ")"));
  }
  return absl::OkStatus();
}

absl::Status Socket::SetNoDelay(bool enabled) {
  return SetIntOption(IPPROTO_TCP, TCP_NODELAY, enabled, "TCP_NODELAY");
}

absl::Status Socket::SetReuseAddress(bool enabled) {
  return SetIntOption(SOL_SOCKET, SO_REUSEADDR, enabled, "SO_REUSEADDR");
}

absl::Status Socket::SetReusePort(bool enabled) {
  return SetIntOption(SOL_SOCKET, SO_REUSEPORT, enabled, "SO_REUSEPORT");
}

absl::Status Socket::SetSendBuffer(int bytes) {
  return SetIntOption(SOL_SOCKET, SO_SNDBUF, bytes, "SO_SNDBUF");
}

absl::Status Socket::SetReceiveBuffer(int bytes) {
  return SetIntOption(SOL_SOCKET, SO_RCVBUF, bytes, "SO_RCVBUF");
}

bool Socket::is_stream() const {
  return transport_ == Transport::kTcp || transport_ == Transport::kUnixStream;
}

Fd Socket::Release() {
  path_guard_.Disarm();
  return std::move(fd_);
}

void Socket::Close() {
  path_guard_.Remove();
  fd_.Close();
}

}  // namespace asyncwork::net
