// request_handler.h: request handlers, socketserver's BaseRequestHandler.
//
// A server creates one handler per request (a stream connection, or one
// datagram) and calls Setup, then Handle (only if Setup succeeded), then
// Finish (always). An error from any of them reaches the server's
// HandleError, which logs it; the server keeps serving everyone else.
//
// A stream handler gets a StreamRequest: the connection, its peer, and a
// FramedStream (socketserver's rfile/wfile, in frames, with deadlines). A
// datagram handler gets a DatagramRequest: the datagram as received, its
// sender, and Reply to answer it.
//
//   class Upcase : public StreamRequestHandler {
//    public:
//     absl::Status Handle(StreamRequest& request) override {
//       absl::StatusOr<std::optional<absl::string_view>> body =
//           request.stream().ReadFrame(request.IdleDeadline());
//       if (!body.ok() || !body->has_value()) return body.status();
//       return request.stream().WriteFrame(absl::AsciiStrToUpper(**body),
//                                          request.IdleDeadline());
//     }
//   };
//   StreamHandlerFactory factory = [] { return std::make_unique<Upcase>(); };
//
// WorkStreamHandler and WorkDatagramHandler serve PROTOCOL.md's work
// requests; every socketserver-style server in asyncwork uses them.
//
// Threads: a handler runs on whatever thread (or forked child) the server's
// concurrency policy chooses, one request per handler object, so a handler
// needs no locking unless it shares state with others. A factory is called
// on the serving thread only.
#ifndef ASYNCWORK_SERVER_REQUEST_HANDLER_H_
#define ASYNCWORK_SERVER_REQUEST_HANDLER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "framing/frame.h"
#include "net/address.h"
#include "net/socket.h"
#include "server/framed_stream.h"
#include "server/shutdown_signal.h"

namespace asyncwork::server {

// RequestLimits are the per-request limits a server hands its handlers.
struct RequestLimits {
  // idle_timeout bounds each wait: for a frame to arrive, for room to write.
  absl::Duration idle_timeout = absl::Seconds(30);
  // max_frame is the largest frame body accepted.
  size_t max_frame = framing::kDefaultMaxBodySize;
};

// StreamRequest is one accepted connection, as its handler sees it. It owns
// the connection; the server closes it after Finish. Not movable: the
// FramedStream points at the socket.
class StreamRequest {
 public:
  // StreamRequest takes `socket` (connected, non-blocking) from `peer`.
  // `signal` (not owned, may be null) drains and aborts the stream's waits.
  StreamRequest(net::Socket socket, net::Address peer,
                const RequestLimits& limits, const ShutdownSignal* signal);
  StreamRequest(const StreamRequest&) = delete;
  StreamRequest& operator=(const StreamRequest&) = delete;

  net::Socket& socket() { return socket_; }
  const net::Address& peer() const { return peer_; }
  FramedStream& stream() { return stream_; }
  const RequestLimits& limits() const { return limits_; }

  // IdleDeadline is now plus the idle timeout: the deadline for one wait.
  absl::Time IdleDeadline() const { return absl::Now() + limits_.idle_timeout; }

  // SleepUntil waits until `until`, or returns Cancelled if the server
  // aborts first (see ShutdownSignal).
  absl::Status SleepUntil(absl::Time until) const;

 private:
  net::Socket socket_;
  net::Address peer_;
  RequestLimits limits_;
  const ShutdownSignal* signal_;
  FramedStream stream_;  // declared after socket_, which it points at
};

// DatagramRequest is one received datagram and the way to answer it.
class DatagramRequest {
 public:
  // DatagramRequest holds `datagram`, received from `peer` at
  // `received_at`; Reply sends through `socket` (not owned; it must outlive
  // this request).
  DatagramRequest(std::string datagram, net::Address peer,
                  absl::Time received_at, net::Socket* socket,
                  const RequestLimits& limits, const ShutdownSignal* signal);
  DatagramRequest(const DatagramRequest&) = delete;
  DatagramRequest& operator=(const DatagramRequest&) = delete;

  // datagram is the whole datagram, frame header included.
  absl::string_view datagram() const { return datagram_; }
  const net::Address& peer() const { return peer_; }
  absl::Time received_at() const { return received_at_; }
  const RequestLimits& limits() const { return limits_; }

  // Reply sends `datagram` to the peer. A peer with no name (a Unix
  // datagram client that never bound) cannot be answered: FailedPrecondition.
  // A full send queue is waited out for at most the idle timeout.
  absl::Status Reply(absl::string_view datagram);

  // SleepUntil is StreamRequest::SleepUntil.
  absl::Status SleepUntil(absl::Time until) const;

 private:
  std::string datagram_;
  net::Address peer_;
  absl::Time received_at_;
  net::Socket* socket_;
  RequestLimits limits_;
  const ShutdownSignal* signal_;
};

// StreamRequestHandler serves one connection.
class StreamRequestHandler {
 public:
  virtual ~StreamRequestHandler() = default;
  // Setup runs first. An error skips Handle; Finish still runs.
  virtual absl::Status Setup(StreamRequest& request);
  // Handle serves the connection.
  virtual absl::Status Handle(StreamRequest& request) = 0;
  // Finish runs last, always. The default flushes frames still queued,
  // unless the stream has failed.
  virtual absl::Status Finish(StreamRequest& request);
};

// DatagramRequestHandler serves one datagram.
class DatagramRequestHandler {
 public:
  virtual ~DatagramRequestHandler() = default;
  virtual absl::Status Setup(DatagramRequest& request);
  virtual absl::Status Handle(DatagramRequest& request) = 0;
  virtual absl::Status Finish(DatagramRequest& request);
};

// Factories make one handler per request (socketserver's handler class).
using StreamHandlerFactory =
    std::function<std::unique_ptr<StreamRequestHandler>()>;
using DatagramHandlerFactory =
    std::function<std::unique_ptr<DatagramRequestHandler>()>;

// RunHandler runs `handler` on `request`: Setup, Handle if Setup succeeded,
// Finish always. Returns the first error.
template <typename Handler, typename Request>
absl::Status RunHandler(Handler& handler, Request& request) {
  absl::Status status = handler.Setup(request);
  if (status.ok()) status = handler.Handle(request);
  absl::Status finished = handler.Finish(request);
  return status.ok() ? finished : status;
}

// WorkStreamHandler serves PROTOCOL.md's work requests on a stream, one at
// a time and in order: read a frame, Perform it, answer. A SLEEP holds the
// connection for its delay (answers already due are flushed first). Each
// wait gives up after the idle timeout. A malformed frame ends the
// connection with an error naming the cause ("frame too large (...)",
// "short body (...)", "truncated frame (...)", "idle timeout 30s: ...").
// A half-closed client gets every answer, then the connection closes.
class WorkStreamHandler : public StreamRequestHandler {
 public:
  absl::Status Handle(StreamRequest& request) override;
};

// WorkDatagramHandler answers the work request in one datagram with one
// datagram. A malformed datagram is dropped: Handle returns why.
class WorkDatagramHandler : public DatagramRequestHandler {
 public:
  absl::Status Handle(DatagramRequest& request) override;
};

// MakeWorkStreamHandler and MakeWorkDatagramHandler are the factories.
std::unique_ptr<StreamRequestHandler> MakeWorkStreamHandler();
std::unique_ptr<DatagramRequestHandler> MakeWorkDatagramHandler();

}  // namespace asyncwork::server

#endif  // ASYNCWORK_SERVER_REQUEST_HANDLER_H_
