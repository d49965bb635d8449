// framed_connection.h: FramedConnection, a stream socket that speaks the
// length-prefixed frames of PROTOCOL.md on an EventLoop.
//
// It reads frames and hands each body to a callback, and writes frames
// through an output buffer that is flushed once per loop iteration, so a
// burst of many small frames costs one writev, not one write each. It
// applies backpressure (a peer that does not read stops us reading its
// requests), enforces the maximum body size and an idle timeout, and reports
// the end of the connection exactly once.
//
//   FramedConnection::Callbacks callbacks;
//   callbacks.on_frame = [&](absl::string_view body) {
//     connection->SendFrame(body);  // echo; goes out before the next wait
//   };
//   callbacks.on_close = [&](const absl::Status& reason) {
//     if (!reason.ok()) LogWarning(reason.ToString());
//     loop->DeleteLater(std::move(connection));
//   };
//   connection = std::make_unique<FramedConnection>(
//       loop, std::move(accepted_socket), FramedConnection::Options(),
//       std::move(callbacks));
//   absl::Status started = connection->Start();
//
// Reading. Each readable event reads straight into the FrameDecoder's
// buffer (no copy), at most kMaxReadsPerWake times so one busy peer cannot
// starve the others, and each complete body goes to on_frame as soon as it
// is in. A length above Options::max_body_size closes the connection at once
// with framing's kFrameTooLarge error: the body is never waited for.
//
// Writing. SendFrame and AppendToOutput only append to the output buffer and
// schedule a flush in the loop's next deferred phase (deferred_call.h), at
// the end of the iteration.
// The flush writes with one writev what the kernel takes; the rest waits for
// the socket to become writable (the writable watch is on only while output
// is pending). Output is two buffers, one being written and one being
// appended to, so neither is ever compacted with a memmove.
//
// Backpressure. output_bytes() counts bytes queued and not yet taken by the
// kernel. When an append raises it above high_water_mark, reading pauses:
// no more reads from the socket and no more on_frame calls, so a peer that
// pipelines requests without reading answers cannot make the output grow
// without bound (it grows at most by the answers to frames already being
// delivered). When a flush brings it to low_water_mark or below, reading
// resumes. PauseReading/ResumeReading are a separate, owner-held switch
// (e.g. a limit on requests in flight); reading runs only when neither
// holds it paused.
//
// End of the connection. on_close runs exactly once, when the connection
// finishes for any reason, with OK for an orderly end or the reason:
//   - a read or write error: the syscall and errno text ("recv: Connection
//     reset by peer", "sendmsg: Broken pipe");
//   - end of stream inside a frame: framing's kTruncatedFrame;
//   - an oversize length: framing's kFrameTooLarge;
//   - no byte moved either way for idle_timeout: DeadlineExceeded.
// Use framing::GetProtocolError to tell the protocol errors apart. A peer
// that half-closes between frames is not an error: with on_read_eof set the
// connection stays writable until the owner calls ShutdownWrite, Close or
// CloseAfterFlush (a server still owes answers, SLEEPs included); without
// it, the connection closes with OK once its output is flushed. When both
// directions have ended (the peer's end of stream was read and ShutdownWrite
// completed) the connection closes with OK.
//
// Callbacks and lifetime. Callbacks run on the loop thread, never after
// Close has run on_close, and never after destruction. Inside any callback
// the owner may call any method, including Close; to destroy the connection
// from inside one of its callbacks, hand it to EventLoop::DeleteLater (the
// connection then stops delivering frames once it is closed; call Close
// first if no further callback is wanted). The destructor does not call
// on_close. Every method is loop thread only; the constructor may run on any
// thread. The EventLoop must outlive the connection.
#ifndef ASYNCWORK_NET_FRAMED_CONNECTION_H_
#define ASYNCWORK_NET_FRAMED_CONNECTION_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "framing/frame.h"
#include "net/deferred_call.h"
#include "net/event_loop.h"
#include "net/io_watch.h"
#include "net/socket.h"
#include "net/timer_queue.h"

namespace asyncwork::net {

class FramedConnection {
 public:
  // kMaxReadsPerWake bounds the reads one readable event makes, for
  // fairness between connections; the level-triggered watch reports the
  // socket again if data is left.
  static constexpr int kMaxReadsPerWake = 4;

  struct Options {
    // The largest frame body accepted; a longer length closes the
    // connection with kFrameTooLarge. At most framing::kMaxEncodableBodySize.
    uint32_t max_body_size = framing::kDefaultMaxBodySize;
    // Reading pauses while more than high_water_mark output bytes are
    // queued, and resumes once at most low_water_mark are. low <= high.
    size_t high_water_mark = size_t{4} << 20;
    size_t low_water_mark = size_t{1} << 20;
    // The least room each read asks for (it may get more); positive.
    size_t read_size = size_t{64} << 10;
    // When no byte is read or written for this long, the connection closes
    // with DeadlineExceeded. Infinite (the default) disables it; otherwise
    // positive. Checked lazily: activity only records a time, and the one
    // timer re-arms itself at the next possible deadline when it fires.
    absl::Duration idle_timeout = absl::InfiniteDuration();
    // On a TCP socket, Start sets TCP_NODELAY: writes are already batched
    // per iteration, so Nagle's algorithm would only add latency.
    bool tcp_no_delay = true;
  };

  struct Callbacks {
    // on_frame: one complete frame body; the view is valid only during the
    // call. Optional (frames are then dropped).
    absl::AnyInvocable<void(absl::string_view body)> on_frame;
    // on_read_eof: the peer half-closed between frames. Optional: when unset
    // the connection closes once its output is flushed. When set, the owner
    // decides (e.g. after answering everything it owes) by calling Close,
    // CloseAfterFlush or ShutdownWrite.
    absl::AnyInvocable<void()> on_read_eof;
    // on_close: exactly once, when the connection is finished for any
    // reason: OK for an orderly close, otherwise the reason (see the top of
    // this file). Optional.
    absl::AnyInvocable<void(const absl::Status& reason)> on_close;
    // on_drained: optional; a flush emptied the output buffer (clients use
    // it to refill their windows).
    absl::AnyInvocable<void()> on_drained;
  };

  // FramedConnection takes ownership of `socket` (a connected, non-blocking
  // stream socket) and uses `loop` (not owned; must outlive this). Nothing
  // is read until Start. Invalid options (low above high water, zero
  // read_size, a non-positive idle timeout) abort. Any thread.
  FramedConnection(EventLoop* loop, Socket socket, Options options,
                   Callbacks callbacks);

  // ~FramedConnection stops watching, cancels its timer and flush, and
  // closes the socket (unsent output is dropped). It does NOT call on_close.
  // From inside one of this connection's callbacks use DeleteLater instead.
  ~FramedConnection();

  FramedConnection(const FramedConnection&) = delete;
  FramedConnection& operator=(const FramedConnection&) = delete;

  // Start sets TCP_NODELAY (see Options), begins reading and arms the idle
  // timer. A failure (setsockopt, registering with the poller) is returned
  // and on_close is not called; the owner may Close or destroy. Call once.
  // Loop thread.
  absl::Status Start();

  // SendFrame appends a frame (header and `body`) to the output. It is
  // written, with everything else appended in this iteration, at the end of
  // the iteration; or, while the kernel's buffer is full, when the socket
  // becomes writable. Ignored once Close, CloseAfterFlush or ShutdownWrite
  // has been called. A body over 4 GiB - 1 aborts. Loop thread.
  void SendFrame(absl::string_view body);

  // AppendToOutput lets `append` append whole frames straight to the output
  // buffer (e.g. framing::AppendResponseFrame), with no extra copy. `frames`
  // is how many frames it appends, for frames_sent(). Appending anything
  // but whole frames corrupts the stream. Ignored (append is not called)
  // when SendFrame would be. Loop thread.
  void AppendToOutput(absl::FunctionRef<void(std::string*)> append,
                      size_t frames = 1);

  // ShutdownWrite half-closes (shutdown(SHUT_WR)) once everything queued is
  // written; reading goes on. If the peer's end of stream was already read,
  // the connection then closes with OK. Loop thread.
  void ShutdownWrite();

  // Close closes now: stops reading, drops unsent output, closes the socket
  // and calls on_close(reason), unless the connection is already closed.
  // Safe inside any callback. `this` is not touched after on_close returns,
  // so on_close may hand the connection to DeleteLater. Loop thread.
  void Close(const absl::Status& reason = absl::OkStatus());

  // CloseAfterFlush stops reading, writes everything queued, then closes
  // with OK (a write error closes with that error instead). Loop thread.
  void CloseAfterFlush();

  // PauseReading and ResumeReading are the owner's switch for reading (no
  // reads, no on_frame), independent of the water marks. Frames already
  // buffered when reading resumes are delivered before the next wait, not
  // from inside ResumeReading. Loop thread.
  void PauseReading();
  void ResumeReading();

  // output_bytes is how many queued bytes the kernel has not yet taken.
  size_t output_bytes() const {
    return sending_.size() - sending_offset_ + appending_.size();
  }
  // reading_paused is true while the owner or the high-water mark holds
  // reading paused.
  bool reading_paused() const { return paused_by_owner_ || paused_by_output_; }
  // closed is true once Close has run (on_close has been called or is
  // running).
  bool closed() const { return closed_; }

  // socket is the connection's socket (invalid once closed).
  const Socket& socket() const { return socket_; }
  EventLoop* loop() const { return loop_; }
  const Options& options() const { return options_; }

  // Statistics for tests and benchmarks: frames delivered to on_frame,
  // frames queued for sending (including any a Close dropped), bytes moved,
  // and read and write syscalls made (would-block ones included).
  uint64_t frames_received() const { return frames_received_; }
  uint64_t frames_sent() const { return frames_sent_; }
  uint64_t bytes_received() const { return bytes_received_; }
  uint64_t bytes_sent() const { return bytes_sent_; }
  uint64_t read_syscalls() const { return read_syscalls_; }
  uint64_t write_syscalls() const { return write_syscalls_; }

 private:
  void OnIoReady(uint32_t ready);
  void OnDeferred();
  void OnIdleTimer();

  // HandleReadable reads up to kMaxReadsPerWake times, delivering frames.
  void HandleReadable();
  // HandleEndOfStream handles a read of 0 bytes.
  void HandleEndOfStream();
  // DeliverFrames hands buffered whole frames to on_frame while reading is
  // allowed.
  void DeliverFrames();
  // Flush writes queued output until the kernel stops taking it, then
  // finishes a pending shutdown or close once the output is empty.
  void Flush();
  void Consume(size_t bytes);
  // AfterAppend counts, applies the high-water mark and schedules a flush.
  void AfterAppend(size_t frames);

  // ReadingAllowed: started, open, not at end of stream, not closing after
  // a flush, and paused neither by the owner nor by the high-water mark.
  bool ReadingAllowed() const;
  // Interest is what the watch should want: reading when allowed, writing
  // while output waits for room.
  uint32_t Interest() const;
  // ApplyInterest updates the watch to Interest(); a poller failure closes.
  void ApplyInterest();
  // AfterReadingResumed re-enables reading and schedules delivery of frames
  // already buffered.
  void AfterReadingResumed();
  bool AcceptingOutput() const {
    return !closed_ && !close_after_flush_ && !shutdown_requested_;
  }

  EventLoop* const loop_;
  const Options options_;
  Callbacks callbacks_;
  Socket socket_;  // declared before watch_: the watch stops first
  IoWatch watch_;
  DeferredCall deferred_;
  framing::FrameDecoder decoder_;

  // Output: bytes are written from sending_ (from sending_offset_ on) and
  // then appending_, in one writev; appends go to appending_. When sending_
  // is used up the two swap, so no byte is moved within a buffer.
  std::string sending_;
  size_t sending_offset_ = 0;
  std::string appending_;

  bool started_ = false;
  bool closed_ = false;
  bool read_eof_ = false;            // the peer's end of stream was read
  bool shutdown_requested_ = false;  // ShutdownWrite called
  bool write_shut_ = false;          // shutdown(SHUT_WR) done
  bool close_after_flush_ = false;
  bool paused_by_owner_ = false;
  bool paused_by_output_ = false;  // above the high-water mark
  bool waiting_writable_ = false;  // output left that the kernel refused

  TimerId idle_timer_;
  absl::Time last_activity_;

  uint64_t frames_received_ = 0;
  uint64_t frames_sent_ = 0;
  uint64_t bytes_received_ = 0;
  uint64_t bytes_sent_ = 0;
  uint64_t read_syscalls_ = 0;
  uint64_t write_syscalls_ = 0;
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_FRAMED_CONNECTION_H_
