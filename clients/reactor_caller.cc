#include "clients/reactor_caller.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "framing/work_message.h"
#include "net/check.h"

namespace asyncwork::clients {

ReactorCaller::ReactorCaller(net::EventLoop* loop, Dialer* dialer,
                             const WorkPlan* plan)
    : loop_(loop), dialer_(dialer), plan_(plan) {}

ReactorCaller::~ReactorCaller() {
  for (auto& [index, pending] : pending_) loop_->Cancel(pending.timer);
}

void ReactorCaller::Call(uint64_t index, absl::Time deadline,
                         Completion done) {
  ASYNCWORK_CHECK(!pending_.contains(index)) << "request " << index
                                             << " is already waiting";
  Pending& pending = pending_[index];
  pending.done = std::move(done);
  absl::Status connected =
      connection_ != nullptr ? absl::OkStatus() : Connect(deadline);
  if (!connected.ok()) {
    pending.failure = ConnectFailure(connected);
    // Due now: the completion runs from the next timers phase, not here.
    deadline = absl::InfinitePast();
  } else {
    connection_->AppendToOutput(
        [&](std::string* out) { plan_->AppendRequestFrame(index, out); });
  }
  pending.timer = loop_->RunAt(deadline, [this, index] { OnTimer(index); });
}

absl::Status ReactorCaller::Connect(absl::Time deadline) {
  absl::StatusOr<net::Socket> socket = dialer_->Dial(deadline);
  if (!socket.ok()) return socket.status();
  net::FramedConnection::Callbacks callbacks;
  callbacks.on_frame = [this](absl::string_view body) { OnFrame(body); };
  callbacks.on_close = [this](const absl::Status& reason) { OnClose(reason); };
  auto connection = std::make_unique<net::FramedConnection>(
      loop_, *std::move(socket), net::FramedConnection::Options(),
      std::move(callbacks));
  absl::Status started = connection->Start();
  if (!started.ok()) return started;
  connection_ = std::move(connection);
  return absl::OkStatus();
}

void ReactorCaller::OnFrame(absl::string_view body) {
  absl::StatusOr<framing::ResponseView> response = framing::ParseResponse(body);
  if (!response.ok()) {
    CloseFor(CallResult::Failed(
        FailureCause::kBadResponse,
        absl::StrCat("connection closed after a malformed answer: ",
                     response.status().message())));
    return;
  }
  uint64_t id = response->id;
  if (!pending_.contains(id)) {
    if (expired_.erase(id) > 0) return;  // answered after its deadline
    CloseFor(CallResult::Failed(
        FailureCause::kBadResponse,
        absl::StrCat("connection closed after an answer with unknown id ",
                     id)));
    return;
  }
  Complete(id, CheckResponse(plan_->Request(id), *response));
}

void ReactorCaller::OnClose(const absl::Status& reason) {
  // The connection is inside its own callback: it is destroyed later, by
  // the loop. Every request waiting on it ends now; completions that call
  // again get a new connection.
  loop_->DeleteLater(std::move(connection_));
  expired_.clear();
  CallResult result =
      close_result_.has_value()
          ? *std::move(close_result_)
          : ConnectionClosed(reason.ok() ? absl::string_view("end of stream")
                                         : reason.message());
  close_result_.reset();
  std::vector<uint64_t> waiting;
  for (const auto& [index, pending] : pending_) {
    if (!pending.failure.has_value()) waiting.push_back(index);
  }
  for (uint64_t index : waiting) Complete(index, result);
}

void ReactorCaller::CloseFor(CallResult result) {
  close_result_ = std::move(result);
  connection_->Close(absl::DataLossError(close_result_->detail()));
}

void ReactorCaller::OnTimer(uint64_t index) {
  auto it = pending_.find(index);
  ASYNCWORK_CHECK(it != pending_.end()) << "timer for request " << index;
  // The timer has fired, so Complete must not cancel it.
  it->second.timer = net::TimerId();
  if (it->second.failure.has_value()) {
    CallResult failure = *std::move(it->second.failure);
    Complete(index, std::move(failure));
    return;
  }
  if (connection_ != nullptr) expired_.insert(index);
  Complete(index, DeadlineExceeded(plan_->deadline()));
}

void ReactorCaller::Complete(uint64_t index, CallResult result) {
  auto it = pending_.find(index);
  Completion done = std::move(it->second.done);
  loop_->Cancel(it->second.timer);
  pending_.erase(it);
  done(std::move(result));
}

}  // namespace asyncwork::clients
