#include "clients/blocking_caller.h"

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "net/blocking_io.h"

namespace asyncwork::clients {
namespace {

// kReadChunk is how much room each read offers: a whole small answer in one
// read, a large one in few.
constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

CallResult BlockingCaller::Call(uint64_t index, absl::Time deadline) {
  if (!socket_.has_value()) {
    absl::StatusOr<net::Socket> socket = dialer_->Dial(deadline);
    if (!socket.ok()) return ConnectFailure(socket.status());
    socket_ = std::move(*socket);
    decoder_ = framing::FrameDecoder();
  }
  CallResult result = Exchange(index, deadline);
  if (!result.ok()) socket_.reset();
  return result;
}

CallResult BlockingCaller::Exchange(uint64_t index, absl::Time deadline) {
  out_.clear();
  plan_->AppendRequestFrame(index, &out_);
  absl::Status sent = net::WriteAll(*socket_, out_, deadline);
  if (!sent.ok()) return IoFailure(sent);
  while (true) {
    absl::StatusOr<std::optional<absl::string_view>> body = decoder_.Next();
    if (!body.ok()) return ConnectionClosed(body.status().message());
    if (body->has_value()) {
      return CheckResponseBody(plan_->Request(index), **body);
    }
    absl::StatusOr<size_t> got =
        net::ReadSome(*socket_, decoder_.PrepareAppend(kReadChunk), deadline);
    if (!got.ok()) return IoFailure(got.status());
    if (*got == 0) {
      absl::Status truncated = decoder_.CheckEndOfStream();
      return ConnectionClosed(truncated.ok()
                                  ? absl::string_view("end of stream")
                                  : truncated.message());
    }
    decoder_.CommitAppend(*got);
  }
}

}  // namespace asyncwork::clients
