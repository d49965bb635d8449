#include "net/blocking_io.h"

#include <poll.h>

#include <cerrno>
#include <climits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace asyncwork::net {
namespace {

// PollTimeout converts what is left until `deadline` to poll(2)'s
// milliseconds, rounding up so that a wait never ends just before its
// deadline and spins through a zero timeout.
int PollTimeout(absl::Time deadline) {
  if (deadline == absl::InfiniteFuture()) return -1;
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  int64_t ms =
      absl::ToInt64Milliseconds(absl::Ceil(left, absl::Milliseconds(1)));
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

// WaitFor is the one poll loop. It retries EINTR with the time that is left,
// and checks the clock itself rather than trusting a zero return, so the
// answer is DeadlineExceeded only when the deadline has really passed.
absl::Status WaitFor(int fd, short events, absl::Time deadline,
                     absl::string_view operation) {
  while (true) {
    struct pollfd entry = {fd, events, 0};
    int ready = ::poll(&entry, 1, PollTimeout(deadline));
    if (ready > 0) {
      if (entry.revents & POLLNVAL) {
        return absl::InvalidArgumentError(
            absl::StrCat(operation, ": fd ", fd, " is not open"));
      }
      return absl::OkStatus();
    }
    if (ready < 0 && errno != EINTR) return absl::ErrnoToStatus(errno, "poll");
    if (ready == 0 && absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          operation, ": deadline exceeded waiting for fd ", fd, " to become ",
          events == POLLIN ? "readable" : "writable"));
    }
  }
}

}  // namespace

absl::Status WaitReadable(int fd, absl::Time deadline) {
  return WaitFor(fd, POLLIN, deadline, "wait");
}

absl::Status WaitWritable(int fd, absl::Time deadline) {
  return WaitFor(fd, POLLOUT, deadline, "wait");
}

absl::StatusOr<Socket> ConnectBlocking(const Address& address,
                                       absl::Time deadline) {
  absl::StatusOr<Socket> socket = Socket::Connect(address);
  if (!socket.ok()) return socket.status();
  absl::Status writable = WaitFor(socket->fd(), POLLOUT, deadline,
                                  absl::StrCat("connect ", address.ToString()));
  if (!writable.ok()) return writable;
  absl::Status connected = socket->FinishConnect();
  if (!connected.ok()) return connected;
  return socket;
}

absl::StatusOr<Socket> AcceptBlocking(Socket& listener, absl::Time deadline,
                                      Address* peer) {
  while (true) {
    absl::StatusOr<std::optional<Socket>> accepted = listener.Accept(peer);
    if (!accepted.ok()) return accepted.status();
    if (accepted->has_value()) return std::move(**accepted);
    absl::Status readable = WaitFor(listener.fd(), POLLIN, deadline, "accept");
    if (!readable.ok()) return readable;
  }
}

absl::Status WriteAll(Socket& socket, absl::string_view data,
                      absl::Time deadline) {
  while (!data.empty()) {
    absl::StatusOr<IoResult> written = socket.Write(data);
    if (!written.ok()) return written.status();
    if (written->would_block) {
      absl::Status writable = WaitFor(socket.fd(), POLLOUT, deadline, "send");
      if (!writable.ok()) return writable;
      continue;
    }
    data.remove_prefix(written->bytes);
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> ReadSome(Socket& socket, absl::Span<char> buffer,
                                absl::Time deadline) {
  // Read of nothing returns 0, which here would be mistaken for end of
  // stream.
  if (buffer.empty()) return absl::InvalidArgumentError("recv: empty buffer");
  while (true) {
    absl::StatusOr<IoResult> read = socket.Read(buffer);
    if (!read.ok()) return read.status();
    if (!read->would_block) return read->bytes;  // 0 only at end of stream
    absl::Status readable = WaitFor(socket.fd(), POLLIN, deadline, "recv");
    if (!readable.ok()) return readable;
  }
}

absl::Status ReadExactly(Socket& socket, absl::Span<char> buffer,
                         absl::Time deadline) {
  size_t filled = 0;
  while (filled < buffer.size()) {
    absl::StatusOr<size_t> read =
        ReadSome(socket, buffer.subspan(filled), deadline);
    if (!read.ok()) return read.status();
    if (*read == 0) {
      return absl::OutOfRangeError(absl::StrCat("recv: end of stream after ",
                                                filled, " of ", buffer.size(),
                                                " bytes"));
    }
    filled += *read;
  }
  return absl::OkStatus();
}

}  // namespace asyncwork::net
