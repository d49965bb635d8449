#include "net/framed_connection.h"

#include <sys/uio.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "net/check.h"

namespace asyncwork::net {
namespace {

// An output buffer larger than this is freed once empty, so a burst does not
// leave megabytes behind on each of thousands of idle connections.
constexpr size_t kRetainedOutputCapacity = size_t{64} << 10;

void ReleaseIfLarge(std::string* buffer) {
  if (buffer->empty() && buffer->capacity() > kRetainedOutputCapacity) {
    std::string().swap(*buffer);
  }
}

}  // namespace

FramedConnection::FramedConnection(EventLoop* loop, Socket socket,
                                   Options options, Callbacks callbacks)
    : loop_(loop),
      options_(options),
      callbacks_(std::move(callbacks)),
      socket_(std::move(socket)),
      watch_(loop, socket_.fd(), [this](uint32_t ready) { OnIoReady(ready); }),
      deferred_(loop, [this] { OnDeferred(); }),
      decoder_(framing::FrameDecoder::Options{.max_body_size =
                                                  options.max_body_size}) {
  ASYNCWORK_CHECK(socket_.valid() && socket_.is_stream())
      << "FramedConnection needs an open stream socket";
  ASYNCWORK_CHECK(options_.low_water_mark <= options_.high_water_mark)
      << "low_water_mark " << options_.low_water_mark
      << " above high_water_mark " << options_.high_water_mark;
  ASYNCWORK_CHECK(options_.read_size > 0) << "read_size must be positive";
  ASYNCWORK_CHECK(options_.idle_timeout > absl::ZeroDuration())
      << "idle_timeout must be positive (or infinite), got "
      << options_.idle_timeout;
}

FramedConnection::~FramedConnection() {
  if (idle_timer_.valid()) loop_->Cancel(idle_timer_);
  // watch_ and deferred_ deregister themselves, then socket_ closes.
}

absl::Status FramedConnection::Start() {
  loop_->AssertInLoopThread();
  ASYNCWORK_CHECK(!started_) << "FramedConnection::Start called twice";
  if (closed_) {
    return absl::FailedPreconditionError(
        "FramedConnection closed before Start");
  }
  if (options_.tcp_no_delay && socket_.transport() == Transport::kTcp) {
    if (absl::Status no_delay = socket_.SetNoDelay(true); !no_delay.ok()) {
      return no_delay;
    }
  }
  started_ = true;
  if (absl::Status watched = watch_.Watch(Interest()); !watched.ok()) {
    started_ = false;
    return watched;
  }
  if (options_.idle_timeout != absl::InfiniteDuration()) {
    last_activity_ = absl::Now();
    idle_timer_ = loop_->RunAt(last_activity_ + options_.idle_timeout,
                               [this] { OnIdleTimer(); });
  }
  return absl::OkStatus();
}

void FramedConnection::SendFrame(absl::string_view body) {
  loop_->AssertInLoopThread();
  if (!AcceptingOutput()) return;
  framing::AppendFrame(body, &appending_);
  AfterAppend(1);
}

void FramedConnection::AppendToOutput(
    absl::FunctionRef<void(std::string*)> append, size_t frames) {
  loop_->AssertInLoopThread();
  if (!AcceptingOutput()) return;
  append(&appending_);
  AfterAppend(frames);
}

void FramedConnection::AfterAppend(size_t frames) {
  frames_sent_ += frames;
  if (!paused_by_output_ && output_bytes() > options_.high_water_mark) {
    paused_by_output_ = true;
    ApplyInterest();
  }
  // No write now: everything appended in this iteration goes out in one
  // writev at its end. While the kernel's buffer is full, the writable
  // event flushes instead; trying earlier would only meet EAGAIN.
  if (!waiting_writable_) deferred_.Schedule();
}

void FramedConnection::ShutdownWrite() {
  loop_->AssertInLoopThread();
  if (closed_ || shutdown_requested_) return;
  shutdown_requested_ = true;
  deferred_.Schedule();
}

void FramedConnection::CloseAfterFlush() {
  loop_->AssertInLoopThread();
  if (closed_ || close_after_flush_) return;
  close_after_flush_ = true;
  ApplyInterest();
  // Closed from the flush rather than here, so on_close never runs inside
  // the caller's CloseAfterFlush.
  deferred_.Schedule();
}

void FramedConnection::Close(const absl::Status& reason) {
  loop_->AssertInLoopThread();
  if (closed_) return;
  closed_ = true;
  watch_.Stop();
  deferred_.Cancel();
  if (idle_timer_.valid()) {
    loop_->Cancel(idle_timer_);
    idle_timer_ = TimerId();
  }
  socket_.Close();
  std::string().swap(sending_);
  std::string().swap(appending_);
  sending_offset_ = 0;
  // Moved out first: on_close may hand this connection to DeleteLater, or
  // (outside this connection's callbacks) destroy it, so `this` is not
  // touched after the call.
  absl::AnyInvocable<void(const absl::Status&)> on_close =
      std::move(callbacks_.on_close);
  if (on_close) on_close(reason);
}

void FramedConnection::PauseReading() {
  loop_->AssertInLoopThread();
  if (paused_by_owner_) return;
  paused_by_owner_ = true;
  ApplyInterest();
}

void FramedConnection::ResumeReading() {
  loop_->AssertInLoopThread();
  if (!paused_by_owner_) return;
  paused_by_owner_ = false;
  AfterReadingResumed();
}

void FramedConnection::AfterReadingResumed() {
  ApplyInterest();
  // Whole frames may be buffered with nothing left in the socket, so no
  // readable event would deliver them: the deferred call does.
  if (ReadingAllowed() && decoder_.buffered_bytes() > 0) deferred_.Schedule();
}

bool FramedConnection::ReadingAllowed() const {
  return started_ && !closed_ && !read_eof_ && !close_after_flush_ &&
         !paused_by_owner_ && !paused_by_output_;
}

uint32_t FramedConnection::Interest() const {
  return (ReadingAllowed() ? kReadable : 0u) |
         (waiting_writable_ ? kWritable : 0u);
}

void FramedConnection::ApplyInterest() {
  if (closed_) return;
  // An unchanged interest costs no syscall (IoWatch compares).
  if (absl::Status watched = watch_.Watch(Interest()); !watched.ok()) {
    Close(watched);
  }
}

void FramedConnection::OnIoReady(uint32_t ready) {
  // A hang-up or error is reported whatever the interest: let the read or
  // the write that is wanted meet it and report it.
  const uint32_t trouble = kHangup | kError;
  if ((ready & (kReadable | trouble)) != 0 && watch_.reading()) {
    HandleReadable();
    if (closed_) return;
  }
  if ((ready & (kWritable | trouble)) != 0 && watch_.writing()) Flush();
}

void FramedConnection::OnDeferred() {
  // Frames left buffered while reading was paused go first; anything they
  // append is written by the Flush below, so the schedule they made is
  // already served.
  DeliverFrames();
  if (closed_) return;
  deferred_.Cancel();
  Flush();
}

void FramedConnection::HandleReadable() {
  DeliverFrames();
  for (int i = 0; i < kMaxReadsPerWake && ReadingAllowed(); ++i) {
    absl::Span<char> room = decoder_.PrepareAppend(options_.read_size);
    ++read_syscalls_;
    absl::StatusOr<IoResult> result = socket_.Read(room);
    if (!result.ok()) {
      Close(result.status());
      return;
    }
    if (result->would_block) return;
    if (result->eof) {
      HandleEndOfStream();
      return;
    }
    decoder_.CommitAppend(result->bytes);
    bytes_received_ += result->bytes;
    last_activity_ = loop_->Now();
    DeliverFrames();
    // A short read emptied the socket; reading again would only return
    // EAGAIN. The level-triggered watch reports anything that arrives later.
    if (result->bytes < room.size()) return;
  }
}

void FramedConnection::DeliverFrames() {
  // ReadingAllowed is checked before every frame: on_frame may close the
  // connection or pause reading (or fill the output past the high-water
  // mark), and then no further frame may be delivered.
  while (ReadingAllowed()) {
    absl::StatusOr<std::optional<absl::string_view>> body = decoder_.Next();
    if (!body.ok()) {
      // kFrameTooLarge: closed as soon as the header is in, without waiting
      // for the body, since the stream cannot be resynchronised.
      Close(body.status());
      return;
    }
    if (!body->has_value()) return;
    ++frames_received_;
    if (callbacks_.on_frame) callbacks_.on_frame(**body);
  }
}

void FramedConnection::HandleEndOfStream() {
  if (absl::Status end = decoder_.CheckEndOfStream(); !end.ok()) {
    Close(end);  // kTruncatedFrame: the peer stopped inside a frame
    return;
  }
  read_eof_ = true;
  ApplyInterest();
  if (closed_) return;
  if (!callbacks_.on_read_eof) {
    CloseAfterFlush();
    return;
  }
  callbacks_.on_read_eof();
  if (!closed_ && write_shut_) Close();
}

void FramedConnection::Flush() {
  if (closed_) return;
  const bool had_output = output_bytes() > 0;
  while (output_bytes() > 0) {
    struct iovec pieces[2];
    int count = 0;
    if (sending_offset_ < sending_.size()) {
      pieces[count++] = {sending_.data() + sending_offset_,
                         sending_.size() - sending_offset_};
    }
    if (!appending_.empty()) {
      pieces[count++] = {appending_.data(), appending_.size()};
    }
    const size_t asked = output_bytes();
    ++write_syscalls_;
    absl::StatusOr<IoResult> result =
        socket_.Writev(absl::MakeConstSpan(pieces, count));
    if (!result.ok()) {
      Close(result.status());
      return;
    }
    if (result->would_block) break;
    Consume(result->bytes);
    bytes_sent_ += result->bytes;
    last_activity_ = loop_->Now();
    // A short write means the socket buffer is full: wait for writable
    // rather than spend a syscall on EAGAIN.
    if (result->bytes < asked) break;
  }

  const bool drained = output_bytes() == 0;
  waiting_writable_ = !drained;
  if (paused_by_output_ && output_bytes() <= options_.low_water_mark) {
    paused_by_output_ = false;
    AfterReadingResumed();
  } else {
    ApplyInterest();
  }
  if (closed_ || !drained) return;

  ReleaseIfLarge(&sending_);
  ReleaseIfLarge(&appending_);
  if (close_after_flush_) {
    Close();
    return;
  }
  if (shutdown_requested_ && !write_shut_) {
    write_shut_ = true;
    if (absl::Status shut = socket_.ShutdownWrite(); !shut.ok()) {
      Close(shut);
      return;
    }
    if (read_eof_) {
      Close();  // both directions have ended
      return;
    }
  }
  if (had_output && callbacks_.on_drained) callbacks_.on_drained();
}

void FramedConnection::Consume(size_t bytes) {
  const size_t from_sending =
      std::min(bytes, sending_.size() - sending_offset_);
  sending_offset_ += from_sending;
  bytes -= from_sending;
  if (sending_offset_ < sending_.size()) return;
  // sending_ is used up: the appending buffer becomes the one being
  // written, and the old one (capacity kept) takes new appends.
  sending_.clear();
  sending_.swap(appending_);
  sending_offset_ = bytes;
  if (sending_offset_ == sending_.size()) {
    sending_.clear();
    sending_offset_ = 0;
  }
}

void FramedConnection::OnIdleTimer() {
  idle_timer_ = TimerId();
  if (closed_) return;
  const absl::Time deadline = last_activity_ + options_.idle_timeout;
  if (loop_->Now() >= deadline) {
    Close(absl::DeadlineExceededError(absl::StrCat(
        "connection idle for ", absl::FormatDuration(options_.idle_timeout))));
    return;
  }
  // Activity since the timer was armed moved the deadline: one timer,
  // re-armed only when it fires, instead of one per byte.
  idle_timer_ = loop_->RunAt(deadline, [this] { OnIdleTimer(); });
}

}  // namespace asyncwork::net
