#include "server/request_handler.h"

#include <sys/socket.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "framing/datagram.h"
#include "framing/operation.h"
#include "framing/work_message.h"

namespace asyncwork::server {
namespace {

absl::Status Sleep(const ShutdownSignal* signal, absl::Time until) {
  if (signal != nullptr) return signal->SleepUntil(until);
  absl::SleepFor(until - absl::Now());
  return absl::OkStatus();
}

// kReplyRetry is how long a reply waits before retrying a full send queue:
// a datagram socket gives no reliable writability event for one peer's
// queue, so the retry is timed.
constexpr absl::Duration kReplyRetry = absl::Milliseconds(1);

}  // namespace

StreamRequest::StreamRequest(net::Socket socket, net::Address peer,
                             const RequestLimits& limits,
                             const ShutdownSignal* signal)
    : socket_(std::move(socket)),
      peer_(std::move(peer)),
      limits_(limits),
      signal_(signal),
      stream_(&socket_, limits.max_frame, signal) {}

absl::Status StreamRequest::SleepUntil(absl::Time until) const {
  return Sleep(signal_, until);
}

DatagramRequest::DatagramRequest(std::string datagram, net::Address peer,
                                 absl::Time received_at, net::Socket* socket,
                                 const RequestLimits& limits,
                                 const ShutdownSignal* signal)
    : datagram_(std::move(datagram)),
      peer_(std::move(peer)),
      received_at_(received_at),
      socket_(socket),
      limits_(limits),
      signal_(signal) {}

absl::Status DatagramRequest::SleepUntil(absl::Time until) const {
  return Sleep(signal_, until);
}

absl::Status DatagramRequest::Reply(absl::string_view datagram) {
  if (peer_.family() == AF_UNIX && peer_.unix_path().empty() &&
      !peer_.is_abstract()) {
    return absl::FailedPreconditionError(
        "sendto: the sender is an unbound Unix datagram socket, which has no "
        "address to answer");
  }
  absl::Time deadline = absl::Now() + limits_.idle_timeout;
  while (true) {
    absl::StatusOr<net::IoResult> sent = socket_->SendTo(datagram, peer_);
    if (!sent.ok()) return sent.status();
    if (!sent->would_block) return absl::OkStatus();
    absl::Time now = absl::Now();
    if (now >= deadline) {
      return absl::UnavailableError(absl::StrCat(
          "sendto ", peer_.ToString(),
          ": send queue still full at the deadline; reply dropped"));
    }
    absl::Status slept = SleepUntil(std::min(now + kReplyRetry, deadline));
    if (!slept.ok()) return slept;
  }
}

absl::Status StreamRequestHandler::Setup(StreamRequest& request) {
  return absl::OkStatus();
}

absl::Status StreamRequestHandler::Finish(StreamRequest& request) {
  if (request.stream().failed()) return absl::OkStatus();
  return request.stream().Flush(request.IdleDeadline());
}

absl::Status DatagramRequestHandler::Setup(DatagramRequest& request) {
  return absl::OkStatus();
}

absl::Status DatagramRequestHandler::Finish(DatagramRequest& request) {
  return absl::OkStatus();
}

absl::Status WorkStreamHandler::Handle(StreamRequest& request) {
  FramedStream& stream = request.stream();
  while (true) {
    absl::StatusOr<std::optional<absl::string_view>> body =
        stream.ReadFrame(request.IdleDeadline());
    if (!body.ok()) {
      if (!absl::IsDeadlineExceeded(body.status())) return body.status();
      return absl::DeadlineExceededError(
          absl::StrCat("idle timeout (",
                       absl::FormatDuration(request.limits().idle_timeout),
                       "): ", body.status().message()));
    }
    if (!body->has_value()) return absl::OkStatus();
    absl::Time read_at = absl::Now();
    absl::StatusOr<framing::RequestView> work = framing::ParseRequest(**body);
    if (!work.ok()) return work.status();
    framing::Outcome outcome = framing::Perform(*work);
    if (outcome.delay() > absl::ZeroDuration()) {
      // Answers already due must not wait behind this SLEEP.
      absl::Status flushed = stream.Flush(request.IdleDeadline());
      if (!flushed.ok()) return flushed;
      absl::Status slept = request.SleepUntil(outcome.NotBefore(read_at));
      if (!slept.ok()) return slept;
    }
    framing::AppendResponseFrame(framing::ResponseFor(*work, outcome),
                                 stream.output());
  }
}

absl::Status WorkDatagramHandler::Handle(DatagramRequest& request) {
  absl::StatusOr<absl::string_view> body =
      framing::DecodeDatagram(request.datagram(), request.limits().max_frame);
  if (!body.ok()) return body.status();
  absl::StatusOr<framing::RequestView> work = framing::ParseRequest(*body);
  if (!work.ok()) return work.status();
  framing::Outcome outcome = framing::Perform(*work);
  if (outcome.delay() > absl::ZeroDuration()) {
    absl::Status slept =
        request.SleepUntil(outcome.NotBefore(request.received_at()));
    if (!slept.ok()) return slept;
  }
  std::string reply;
  // A datagram is exactly one frame, header included.
  framing::AppendResponseFrame(framing::ResponseFor(*work, outcome), &reply);
  return request.Reply(reply);
}

std::unique_ptr<StreamRequestHandler> MakeWorkStreamHandler() {
  return std::make_unique<WorkStreamHandler>();
}

std::unique_ptr<DatagramRequestHandler> MakeWorkDatagramHandler() {
  return std::make_unique<WorkDatagramHandler>();
}

}  // namespace asyncwork::server
