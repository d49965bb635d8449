// blocking_io.h: blocking waits and transfers over non-blocking sockets.
//
// The blocking clients and the socketserver-style servers want the simple
// "call and wait" shape, but asyncwork never waits without a limit: every
// function here takes an absolute deadline and, when it passes, returns
// DeadlineExceeded naming the operation that was waiting. Underneath, the
// Socket stays non-blocking and the waiting is poll(2), retried on EINTR
// with the time that is left.
//
//   absl::Time deadline = absl::Now() + absl::Seconds(5);
//   absl::StatusOr<Socket> socket = ConnectBlocking(address, deadline);
//   if (!socket.ok()) return socket.status();
//   absl::Status sent = WriteAll(*socket, request, deadline);
//   char reply[64];
//   absl::StatusOr<size_t> got = ReadSome(*socket, absl::MakeSpan(reply),
//                                         deadline);
//
// Threads: each call blocks its calling thread only; the Socket passed in
// must not be used by another thread meanwhile.
#ifndef ASYNCWORK_NET_BLOCKING_IO_H_
#define ASYNCWORK_NET_BLOCKING_IO_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "net/address.h"
#include "net/socket.h"

namespace asyncwork::net {

// WaitReadable returns OK once `fd` is readable, has hung up or has a
// pending error (the next call on it tells which), or DeadlineExceeded.
// A `deadline` already past still checks readiness once. `fd` is borrowed.
absl::Status WaitReadable(int fd, absl::Time deadline);

// WaitWritable is WaitReadable for writability.
absl::Status WaitWritable(int fd, absl::Time deadline);

// ConnectBlocking connects to `address` and returns the connected socket
// (still non-blocking), or the connect error, or DeadlineExceeded.
absl::StatusOr<Socket> ConnectBlocking(const Address& address,
                                       absl::Time deadline);

// AcceptBlocking waits for and accepts one connection on `listener`.
// `peer`, if not null, receives the peer's address.
absl::StatusOr<Socket> AcceptBlocking(Socket& listener, absl::Time deadline,
                                      Address* peer = nullptr);

// WriteAll writes all of `data`, waiting whenever the kernel's buffer is
// full. On an error or the deadline some prefix of `data` may have been
// sent; the Status says which happened, not how much.
absl::Status WriteAll(Socket& socket, absl::string_view data,
                      absl::Time deadline);

// ReadSome waits until some bytes arrive and returns how many were read
// into `buffer` (at least 1), or 0 at end of stream. An empty `buffer` is
// InvalidArgument, since 0 would be ambiguous.
absl::StatusOr<size_t> ReadSome(Socket& socket, absl::Span<char> buffer,
                                absl::Time deadline);

// ReadExactly fills all of `buffer`. End of stream before that is
// OutOfRange, with how many bytes had arrived.
absl::Status ReadExactly(Socket& socket, absl::Span<char> buffer,
                         absl::Time deadline);

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_BLOCKING_IO_H_
