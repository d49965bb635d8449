// socket.h: Socket, a non-blocking socket that owns its descriptor.
//
// Every Socket is O_NONBLOCK and O_CLOEXEC from the syscall that creates it,
// so nothing in asyncwork ever blocks inside the kernel by accident; blocking
// code waits explicitly, with a deadline (see blocking_io.h). Calls that find
// nothing to do report "would block" in their result, never as an error;
// EINTR is retried; every other failure is an absl::Status whose message
// names the call and the errno text ("connect 127.0.0.1:7000: Connection
// refused").
//
//   absl::StatusOr<Socket> listener =
//       Socket::Listen(*Address::Parse("127.0.0.1:0"));
//   absl::StatusOr<Socket> client = Socket::Connect(*listener->LocalAddress());
//   // ... once the client is writable (reactor or WaitWritable):
//   absl::Status connected = client->FinishConnect();
//   absl::StatusOr<std::optional<Socket>> served = listener->Accept();
//   absl::StatusOr<IoResult> sent = client->Write("hello");
//
// Threads: a Socket is not synchronised. Use it from one thread at a time
// (in a reactor, the loop thread); moving or closing it needs the only
// reference.
//
// Unix socket files: Bind (and so Listen) on a filesystem Unix path removes
// the socket file again when the Socket is closed or destroyed, but only if
// the path still names the very file this Socket created. If the path
// already holds a socket file, Bind replaces it only when it is stale
// (nothing accepts connections on it, so a probe connect is refused); a path
// with a live listener, or a file that is not a socket, is an error. The
// check and the replacement are not atomic: two processes binding the same
// stale path at the same moment can race.
#ifndef ASYNCWORK_NET_SOCKET_H_
#define ASYNCWORK_NET_SOCKET_H_

#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "net/address.h"
#include "net/fd.h"

namespace asyncwork::net {

// IoResult is the outcome of one successful read or write call. Exactly one
// of these holds: `would_block` (EAGAIN: nothing moved, wait for readiness),
// `eof` (a stream read found the peer's end of stream), or neither, and
// `bytes` were transferred (possibly fewer than asked: a short write, or a
// read of what was there). A datagram of zero bytes is not `eof`.
struct IoResult {
  size_t bytes = 0;
  bool would_block = false;
  bool eof = false;
  // truncated: a datagram was longer than the buffer; `bytes` of it were
  // kept and the rest was discarded by the kernel (MSG_TRUNC).
  bool truncated = false;

  static IoResult Transferred(size_t bytes) { return IoResult{bytes}; }
  static IoResult WouldBlock() { return IoResult{0, true}; }
  static IoResult Eof() { return IoResult{0, false, true}; }
};

namespace internal {

// UnixPathGuard removes a Unix socket file when destroyed, if the path still
// names the file (same device and inode) that was there when it was armed.
// Move-only, like the Fd beside it.
class UnixPathGuard {
 public:
  UnixPathGuard() = default;
  UnixPathGuard(UnixPathGuard&& other) noexcept;
  UnixPathGuard& operator=(UnixPathGuard&& other) noexcept;
  UnixPathGuard(const UnixPathGuard&) = delete;
  UnixPathGuard& operator=(const UnixPathGuard&) = delete;
  ~UnixPathGuard() { Remove(); }

  // Arm records `path` and the identity of the file now at it.
  void Arm(std::string path);
  // Remove unlinks the file if it is still the recorded one, then disarms.
  void Remove();
  // Disarm forgets the path without touching the file.
  void Disarm();

 private:
  std::string path_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

}  // namespace internal

class Socket {
 public:
  // kDefaultBacklog asks Listen for SystemMaxBacklog().
  static constexpr int kDefaultBacklog = -1;

  // SystemMaxBacklog reads /proc/sys/net/core/somaxconn once (the kernel
  // caps any larger backlog to it), falling back to SOMAXCONN.
  static int SystemMaxBacklog();

  // Socket() holds no descriptor; only assignment and destruction are
  // meaningful on it.
  Socket() = default;
  Socket(Socket&&) noexcept = default;
  Socket& operator=(Socket&&) noexcept = default;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() = default;

  // Create makes an unbound socket: `family` is AF_INET, AF_INET6 or
  // AF_UNIX and must suit `transport`.
  static absl::StatusOr<Socket> Create(int family, Transport transport);

  // CreatePair makes two connected Unix sockets (socketpair(2));
  // `transport` is kUnixStream or kUnixDatagram.
  static absl::StatusOr<std::pair<Socket, Socket>> CreatePair(
      Transport transport);

  // Listen makes a socket for `address` that is ready to serve: for a stream
  // transport, socket + SO_REUSEADDR (TCP) + bind + listen(backlog); for a
  // datagram transport, socket + bind. Port 0 binds a free port; read it
  // back with LocalAddress(). See the top of this file for Unix paths.
  static absl::StatusOr<Socket> Listen(const Address& address,
                                       int backlog = kDefaultBacklog);

  // Connect starts a non-blocking connect to `address` and returns the
  // socket at once. For TCP the connect is usually still in progress: wait
  // until the socket is writable, then call FinishConnect. Unix stream and
  // all datagram connects complete (or fail) at once, and FinishConnect
  // then just confirms. A full Unix listen queue fails with EAGAIN as an
  // Unavailable status, since there is no readiness event to wait for.
  static absl::StatusOr<Socket> Connect(const Address& address);

  // Bind binds to `address` (which must suit this socket's family and
  // transport). A filesystem Unix path is removed again when this Socket
  // closes.
  absl::Status Bind(const Address& address);

  // StartListening marks a bound stream socket as accepting connections.
  absl::Status StartListening(int backlog = kDefaultBacklog);

  // StartConnect is Connect for a socket made with Create (and maybe
  // bound). OK means connected or in progress; EINTR counts as in progress,
  // since the kernel keeps connecting.
  absl::Status StartConnect(const Address& address);

  // FinishConnect reports how a connect ended, from SO_ERROR: OK when
  // connected, otherwise a Status naming "connect", the target and the
  // errno text (ECONNREFUSED, ETIMEDOUT, ...). Called before the socket is
  // writable it returns FailedPrecondition: a connect is never assumed
  // complete at its first event.
  absl::Status FinishConnect();

  // Accept takes one pending connection. nullopt means none is pending
  // (would block). EINTR is retried, and so are the errors that describe a
  // connection that died while queued (ECONNABORTED, EPROTO and the network
  // errors accept(2) says to treat like EAGAIN), because the next pending
  // connection may be fine. If `peer` is not null it receives the peer's
  // address. The accepted Socket is non-blocking and close-on-exec.
  absl::StatusOr<std::optional<Socket>> Accept(Address* peer = nullptr);

  // Read reads up to `buffer.size()` bytes. On a datagram socket it reads
  // one datagram and sets `truncated` if the buffer was too small.
  absl::StatusOr<IoResult> Read(absl::Span<char> buffer);
  // Readv scatters one read over `buffers` (at most IOV_MAX are used).
  absl::StatusOr<IoResult> Readv(absl::Span<const struct iovec> buffers);
  // Write writes what the kernel takes of `data` with MSG_NOSIGNAL, so a
  // closed peer is an EPIPE Status, never SIGPIPE.
  absl::StatusOr<IoResult> Write(absl::string_view data);
  // Writev gathers one write from `buffers` (at most IOV_MAX are used), also
  // without SIGPIPE.
  absl::StatusOr<IoResult> Writev(absl::Span<const struct iovec> buffers);

  // SendTo sends one datagram to `to` (also without SIGPIPE).
  absl::StatusOr<IoResult> SendTo(absl::string_view data, const Address& to);
  // RecvFrom receives one datagram; `truncated` marks one longer than
  // `buffer`, so callers can drop it. If `from` is not null it receives the
  // sender's address (an unnamed Unix sender gives "unixgram:").
  absl::StatusOr<IoResult> RecvFrom(absl::Span<char> buffer,
                                    Address* from = nullptr);

  // ShutdownWrite sends end-of-stream to the peer; reading continues.
  absl::Status ShutdownWrite();

  // LocalAddress is the bound address (the real port after binding port 0).
  absl::StatusOr<Address> LocalAddress() const;
  // PeerAddress is the connected peer's address.
  absl::StatusOr<Address> PeerAddress() const;

  // Socket options; each error names the option.
  absl::Status SetNoDelay(bool enabled);       // TCP_NODELAY
  absl::Status SetReuseAddress(bool enabled);  // SO_REUSEADDR
  absl::Status SetReusePort(bool enabled);     // SO_REUSEPORT
  absl::Status SetSendBuffer(int bytes);       // SO_SNDBUF
  absl::Status SetReceiveBuffer(int bytes);    // SO_RCVBUF

  // fd is the descriptor, still owned by this Socket (-1 when empty), for
  // registering with a poller; never close it.
  int fd() const { return fd_.get(); }
  bool valid() const { return fd_.valid(); }
  int family() const { return family_; }
  Transport transport() const { return transport_; }
  bool is_stream() const;

  // Release hands the descriptor to the caller and empties this Socket. A
  // Unix socket file it bound is left in place for the new owner.
  Fd Release();

  // Close removes a Unix socket file this Socket bound, then closes the
  // descriptor. The destructor does the same; calling Close twice is safe.
  void Close();

 private:
  Socket(Fd fd, int family, Transport transport);

  absl::Status CheckSuits(const Address& address, const char* call) const;
  absl::Status BindUnixPath(const Address& address);
  absl::StatusOr<Address> QueryAddress(int (*query)(int, struct sockaddr*,
                                                    socklen_t*),
                                       const char* call) const;
  absl::Status SetIntOption(int level, int option, int value, const char* name);
  absl::StatusOr<IoResult> Receive(const struct iovec* buffers, size_t count,
                                   Address* from, const char* call);
  absl::StatusOr<IoResult> Send(const struct iovec* buffers, size_t count,
                                const Address* to, const char* call);

  Fd fd_;
  int family_ = 0;  // AF_UNSPEC
  Transport transport_ = Transport::kTcp;
  // connect_target_ is kept only to name the target in FinishConnect's
  // errors; it is AF_UNSPEC unless StartConnect was called.
  Address connect_target_;
  // Declared last so it is destroyed first: the file is unlinked before the
  // descriptor closes, so no new client finds a socket about to vanish.
  internal::UnixPathGuard path_guard_;
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_SOCKET_H_
