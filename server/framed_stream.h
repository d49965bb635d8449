// framed_stream.h: FramedStream, a blocking frame reader and writer with
// deadlines, over one connected stream socket.
//
// It is the stream handler's view of its connection (socketserver's
// rfile/wfile): ReadFrame returns the next frame body, waiting until a
// deadline; frames to send are queued and flushed in one write, and queued
// frames are flushed automatically before ReadFrame waits for input, so
// answers to pipelined requests go out in one batch and an answer is never
// held back while the server waits for the client.
//
//   FramedStream stream(&socket, framing::kDefaultMaxBodySize, &signal);
//   while (true) {
//     absl::StatusOr<std::optional<absl::string_view>> body =
//         stream.ReadFrame(absl::Now() + absl::Seconds(30));
//     if (!body.ok()) return body.status();  // protocol error, timeout, ...
//     if (!body->has_value()) break;         // the peer finished, or drain
//     stream.QueueFrame(Answer(**body));
//   }
//   return stream.Flush(absl::Now() + absl::Seconds(30));
//
// With a ShutdownSignal: once it drains, ReadFrame still returns every
// whole frame that has arrived, then reports the end of the stream at the
// first pause between frames; once it aborts, every wait returns Cancelled.
//
// Threads: one thread at a time (the handler's). The socket and the signal
// are borrowed and must outlive the FramedStream.
#ifndef ASYNCWORK_SERVER_FRAMED_STREAM_H_
#define ASYNCWORK_SERVER_FRAMED_STREAM_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "framing/frame.h"
#include "net/socket.h"
#include "server/shutdown_signal.h"

namespace asyncwork::server {

class FramedStream {
 public:
  // FramedStream serves `socket` (not owned, connected, non-blocking),
  // accepting bodies of up to `max_body_size` bytes. `signal` (not owned)
  // may be null: then nothing drains or aborts the waits.
  FramedStream(net::Socket* socket, size_t max_body_size,
               const ShutdownSignal* signal);

  FramedStream(const FramedStream&) = delete;
  FramedStream& operator=(const FramedStream&) = delete;

  // ReadFrame returns the next body, valid until the next call; nullopt
  // when the peer ended its stream between frames (half-close included) or
  // the signal is draining and no whole frame is left to read now. Queued
  // output is flushed before any wait. Errors, after which the stream is
  // failed(): kFrameTooLarge and kTruncatedFrame (protocol_error.h), the
  // socket's errors, DeadlineExceeded (saying whether a frame had begun),
  // Cancelled when the signal aborts.
  absl::StatusOr<std::optional<absl::string_view>> ReadFrame(
      absl::Time deadline);

  // QueueFrame appends one frame carrying `body` to the output.
  void QueueFrame(absl::string_view body);

  // output is the queued output, for encoders that append whole frames
  // (framing::AppendResponseFrame); Flush sends it.
  std::string* output() { return &output_; }

  // Flush writes all queued output, waiting for room until `deadline`.
  // Errors (the socket's, DeadlineExceeded, Cancelled) fail the stream.
  absl::Status Flush(absl::Time deadline);

  // WriteFrame is QueueFrame then Flush.
  absl::Status WriteFrame(absl::string_view body, absl::Time deadline);

  // failed is true after any error; status() is that error.
  bool failed() const { return !status_.ok(); }
  const absl::Status& status() const { return status_; }

  // buffered_input_bytes counts received bytes not yet returned as frames.
  size_t buffered_input_bytes() const { return decoder_.buffered_bytes(); }

 private:
  absl::Status Fail(absl::Status status);
  // Receive waits for input (or the signal) and reads what has arrived.
  // Returns OK with `*stop` true when ReadFrame should report the end.
  absl::Status Receive(absl::Time deadline, bool* stop);

  net::Socket* const socket_;
  const ShutdownSignal* const signal_;
  framing::FrameDecoder decoder_;
  std::string output_;
  bool eof_ = false;
  bool draining_ = false;
  absl::Status status_;
};

}  // namespace asyncwork::server

#endif  // ASYNCWORK_SERVER_FRAMED_STREAM_H_
