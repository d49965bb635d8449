// demo: the headline demonstration of asyncwork.
//
// For now it starts an in-process echo server on loopback, sends work
// packets one at a time from a blocking client, and reports what it
// measured. It grows into the strategy comparison of benchmarks/.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

ABSL_FLAG(int, requests, 20000, "number of echo round trips to measure");
ABSL_FLAG(int, size, 64, "bytes in each work packet");

namespace {

// Owns one descriptor; closes it exactly once.
class OwnedFd {
 public:
  explicit OwnedFd(int fd = -1) : fd_(fd) {}
  OwnedFd(OwnedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~OwnedFd() { Reset(); }
  int get() const { return fd_; }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_;
};

absl::Status ErrnoStatus(const char* call) {
  return absl::ErrnoToStatus(errno, call);
}

absl::Status WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write");
    data += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// ReadAll returns false at a clean end of stream before any byte.
absl::StatusOr<bool> ReadAll(int fd, char* data, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, data + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read");
    if (n == 0) {
      if (done == 0) return false;
      return absl::DataLossError("read: connection closed mid-message");
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

absl::StatusOr<OwnedFd> ListenLoopback(uint16_t* port) {
  OwnedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return ErrnoStatus("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    return ErrnoStatus("bind");
  }
  if (::listen(fd.get(), SOMAXCONN) < 0) return ErrnoStatus("listen");
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    return ErrnoStatus("getsockname");
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

absl::StatusOr<OwnedFd> ConnectLoopback(uint16_t port) {
  OwnedFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return ErrnoStatus("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) <
      0) {
    return ErrnoStatus("connect");
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Echoes fixed-size messages until the client closes.
void ServeEcho(OwnedFd listener, size_t size) {
  OwnedFd conn(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (conn.get() < 0) return;
  int one = 1;
  ::setsockopt(conn.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string buf(size, '\0');
  while (true) {
    absl::StatusOr<bool> got = ReadAll(conn.get(), buf.data(), size);
    if (!got.ok() || !*got) return;
    if (!WriteAll(conn.get(), buf.data(), size).ok()) return;
  }
}

absl::Status Run(int requests, size_t size) {
  uint16_t port = 0;
  absl::StatusOr<OwnedFd> listener = ListenLoopback(&port);
  if (!listener.ok()) return listener.status();
  std::thread server(ServeEcho, std::move(*listener), size);
  absl::Status status;
  absl::Duration elapsed;
  {
    absl::StatusOr<OwnedFd> conn = ConnectLoopback(port);
    if (!conn.ok()) {
      // Wake the server's accept so the thread can be joined.
      (void)ConnectLoopback(port);
      server.join();
      return conn.status();
    }
    std::string out(size, 'w');
    std::string in(size, '\0');
    absl::Time start = absl::Now();
    for (int i = 0; i < requests && status.ok(); ++i) {
      out[0] = static_cast<char>(i);
      status = WriteAll(conn->get(), out.data(), size);
      if (!status.ok()) break;
      absl::StatusOr<bool> got = ReadAll(conn->get(), in.data(), size);
      if (!got.ok()) status = got.status();
      else if (!*got) status = absl::UnavailableError("server closed early");
      else if (in != out) status = absl::DataLossError("echo mismatch");
    }
    elapsed = absl::Now() - start;
  }
  server.join();
  if (!status.ok()) return status;
  double seconds = absl::ToDoubleSeconds(elapsed);
  std::printf("blocking echo over 127.0.0.1: %d round trips of %zu bytes in %s\n",
              requests, size, absl::FormatDuration(elapsed).c_str());
  std::printf("work per second: %.0f  (mean round trip %.1f us)\n",
              requests / seconds, seconds * 1e6 / requests);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Measures how much work a client completes over loopback.\n"
      "Usage: demo [--requests=N] [--size=BYTES]");
  absl::ParseCommandLine(argc, argv);
  int requests = absl::GetFlag(FLAGS_requests);
  int size = absl::GetFlag(FLAGS_size);
  if (requests <= 0 || size <= 0) {
    std::fprintf(stderr, "demo: --requests and --size must be positive\n");
    return 2;
  }
  absl::Status status = Run(requests, static_cast<size_t>(size));
  if (!status.ok()) {
    std::fprintf(stderr, "demo: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
