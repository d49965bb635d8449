// test_util.h: socket, address and descriptor helpers for tests and
// benchmarks in any package (testonly). The reactor's helpers (loops, pipes,
// eventfds, RunUntil) are in net/reactor_test_util.h, which includes this.
//
// The ...OrDie helpers abort through ASYNCWORK_CHECK if the kernel refuses,
// since a test cannot go on without its sockets.
//
//   ScopedTempDir dir;                       // removed with its contents
//   std::string path = dir.File("server.sock");
//   int before = CountOpenFds();
//   Socket listener = ListenOrDie("127.0.0.1:0");
//   StreamPair pair = TcpPairOrDie();        // {client, server}
//   EXPECT_EQ(CountOpenFds(), before + 3);
#ifndef ASYNCWORK_NET_TEST_UTIL_H_
#define ASYNCWORK_NET_TEST_UTIL_H_

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/address.h"
#include "net/socket.h"

namespace asyncwork::net::testing {

// kGenerousTimeout bounds every wait in a test: far longer than any healthy
// step takes on a loaded two-core machine, short enough to fail a hung test.
inline constexpr absl::Duration kGenerousTimeout = absl::Seconds(10);

// ScopedTempDir creates a fresh directory for Unix socket files and removes
// it, with the files in it, when destroyed. It lives under $TEST_TMPDIR when
// that path is short enough for sun_path (Bazel's usually is not), else
// under /tmp.
class ScopedTempDir {
 public:
  ScopedTempDir();
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }
  // File returns path()/name; nothing is created.
  std::string File(absl::string_view name) const;

 private:
  std::string path_;
};

// CountOpenFds counts this process's open descriptors (/proc/self/fd),
// not counting the one used to read the directory.
int CountOpenFds();

// ParseOrDie parses a literal address a test spells out; aborts if bad.
Address ParseOrDie(absl::string_view text);

// ListenOrDie listens on `address` (a literal such as "127.0.0.1:0").
Socket ListenOrDie(absl::string_view address);

// AddressOf is `socket`'s local address (the real port after port 0).
Address AddressOf(const Socket& socket);

// RefusingTcpAddress returns a 127.0.0.1 address nothing listens on: a
// port bound and closed again, so connects to it are refused.
Address RefusingTcpAddress();

// SocketPairOrDie returns two connected sockets of `transport` (a Unix
// stream or datagram transport), as Socket::CreatePair does.
std::pair<Socket, Socket> SocketPairOrDie(
    Transport transport = Transport::kUnixStream);

// StreamPair is one connected stream connection: both ends.
struct StreamPair {
  Socket client;
  Socket server;
};

// ConnectToListener connects a new client to `listener` and accepts it,
// waiting at most kGenerousTimeout.
absl::StatusOr<StreamPair> ConnectToListener(Socket& listener);

// TcpPairOrDie returns both ends of a fresh loopback TCP connection; its
// listener is closed again.
StreamPair TcpPairOrDie();

}  // namespace asyncwork::net::testing

#endif  // ASYNCWORK_NET_TEST_UTIL_H_
