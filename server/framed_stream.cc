#include "server/framed_stream.h"

#include <poll.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "server/poll_util.h"

namespace asyncwork::server {
namespace {

// kReadSize is the least room offered to each read: a page of small frames
// per syscall, without growing an idle connection's buffer.
constexpr size_t kReadSize = 4096;

}  // namespace

FramedStream::FramedStream(net::Socket* socket, size_t max_body_size,
                           const ShutdownSignal* signal)
    : socket_(socket), signal_(signal), decoder_(max_body_size) {}

absl::Status FramedStream::Fail(absl::Status status) {
  status_ = status;
  return status;
}

absl::StatusOr<std::optional<absl::string_view>> FramedStream::ReadFrame(
    absl::Time deadline) {
  if (failed()) return status_;
  while (true) {
    absl::StatusOr<std::optional<absl::string_view>> next = decoder_.Next();
    if (!next.ok()) return Fail(next.status());
    if (next->has_value()) return next;
    if (eof_) return std::nullopt;
    // The client may be waiting for these answers before it sends more.
    if (!output_.empty()) {
      absl::Status flushed = Flush(deadline);
      if (!flushed.ok()) return flushed;
    }
    bool stop = false;
    absl::Status received = Receive(deadline, &stop);
    if (!received.ok()) return received;
    if (stop) return std::nullopt;
  }
}

absl::Status FramedStream::Receive(absl::Time deadline, bool* stop) {
  // Draining and between frames: take what has already arrived, but do not
  // wait for more.
  bool no_wait = draining_ && !decoder_.MidFrame();
  // Once draining, the drain fd stays readable; leave it out of the poll so
  // that a frame still arriving is waited for without spinning.
  struct pollfd fds[3] = {{socket_->fd(), POLLIN, 0}};
  size_t count = 1;
  if (signal_ != nullptr) {
    fds[count++] = {signal_->abort_fd(), POLLIN, 0};
    if (!draining_) fds[count++] = {signal_->drain_fd(), POLLIN, 0};
  }
  absl::StatusOr<int> ready = internal::PollUntil(
      absl::MakeSpan(fds, count), no_wait ? absl::InfinitePast() : deadline);
  if (!ready.ok()) return Fail(ready.status());
  if (*ready == 0 && no_wait) {
    *stop = true;
    return absl::OkStatus();
  }
  if (*ready == 0) {
    return Fail(absl::DeadlineExceededError(
        decoder_.MidFrame()
            ? absl::StrCat("recv: deadline passed with ",
                           decoder_.buffered_bytes(),
                           " bytes of an unfinished frame")
            : "recv: deadline passed waiting for a frame"));
  }
  if (count > 1 && fds[1].revents != 0) return Fail(AbortedError());
  if (count > 2 && fds[2].revents != 0) draining_ = true;
  if (fds[0].revents == 0) {
    // Only the drain fired. Between frames that ends the stream; inside a
    // frame, the rest is awaited (the deadline and an abort still bound it).
    *stop = !decoder_.MidFrame();
    return absl::OkStatus();
  }
  absl::StatusOr<net::IoResult> read =
      socket_->Read(decoder_.PrepareAppend(kReadSize));
  if (!read.ok()) return Fail(read.status());
  if (read->eof) {
    eof_ = true;
    absl::Status ended = decoder_.CheckEndOfStream();
    if (!ended.ok()) return Fail(ended);
  } else {
    decoder_.CommitAppend(read->bytes);
  }
  return absl::OkStatus();
}

void FramedStream::QueueFrame(absl::string_view body) {
  framing::AppendFrame(body, &output_);
}

absl::Status FramedStream::Flush(absl::Time deadline) {
  if (failed()) return status_;
  absl::string_view rest = output_;
  while (!rest.empty()) {
    absl::StatusOr<net::IoResult> written = socket_->Write(rest);
    if (!written.ok()) return Fail(written.status());
    if (!written->would_block) {
      rest.remove_prefix(written->bytes);
      continue;
    }
    struct pollfd fds[2] = {{socket_->fd(), POLLOUT, 0}};
    size_t count = 1;
    if (signal_ != nullptr) fds[count++] = {signal_->abort_fd(), POLLIN, 0};
    absl::StatusOr<int> ready =
        internal::PollUntil(absl::MakeSpan(fds, count), deadline);
    if (!ready.ok()) return Fail(ready.status());
    if (*ready == 0) {
      return Fail(absl::DeadlineExceededError(absl::StrCat(
          "send: deadline passed with ", rest.size(),
          " bytes unsent (the peer is not reading)")));
    }
    if (count > 1 && fds[1].revents != 0) return Fail(AbortedError());
  }
  output_.clear();
  return absl::OkStatus();
}

absl::Status FramedStream::WriteFrame(absl::string_view body,
                                      absl::Time deadline) {
  QueueFrame(body);
  return Flush(deadline);
}

}  // namespace asyncwork::server
