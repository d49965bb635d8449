#include "net/reactor_test_util.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "absl/time/clock.h"
#include "net/check.h"

namespace asyncwork::net::testing {

std::unique_ptr<EventLoop> MakeLoop(Backend backend) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(backend);
  ASYNCWORK_CHECK(loop.ok()) << loop.status();
  return *std::move(loop);
}

std::pair<Fd, Fd> MakePipe() {
  int fds[2];
  ASYNCWORK_CHECK(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0) << "pipe2: errno " << errno;
  return {Fd(fds[0]), Fd(fds[1])};
}

std::pair<Fd, Fd> MakeSocketPair() {
  int fds[2];
  ASYNCWORK_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                               fds) == 0)
      << "socketpair: errno " << errno;
  return {Fd(fds[0]), Fd(fds[1])};
}

Fd MakeEventFd(uint64_t initial) {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASYNCWORK_CHECK(fd >= 0) << "eventfd: errno " << errno;
  if (initial > 0) {
    ASYNCWORK_CHECK(::write(fd, &initial, sizeof(initial)) == sizeof(initial));
  }
  return Fd(fd);
}

void WriteByte(int fd) {
  char byte = 'x';
  ASYNCWORK_CHECK(::write(fd, &byte, 1) == 1) << "write: errno " << errno;
}

size_t ReadAll(int fd) {
  size_t total = 0;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      total += n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return total;  // 0 is end of file; EAGAIN means drained
    }
  }
}

bool RunUntil(EventLoop& loop, absl::FunctionRef<bool()> done,
              absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::Status status = loop.RunOnce(absl::Milliseconds(10));
    ASYNCWORK_CHECK(status.ok()) << status;
  }
  return true;
}

}  // namespace asyncwork::net::testing
