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
  absl::Status connected = current_ != 0 ? absl::OkStatus() : Connect(deadline);
  if (!connected.ok()) {
    pending.failure = ConnectFailure(connected);
    // Due now: the completion runs from the next timers phase, not here.
    deadline = absl::InfinitePast();
  } else {
    Connection& connection = connections_.at(current_);
    pending.connection = current_;
    ++connection.waiting;
    connection.framed->AppendToOutput(
        [&](std::string* out) { plan_->AppendRequestFrame(index, out); });
  }
  pending.timer = loop_->RunAt(deadline, [this, index] { OnTimer(index); });
}

absl::Status ReactorCaller::Connect(absl::Time deadline) {
  absl::StatusOr<net::Socket> socket = dialer_->Dial(deadline);
  if (!socket.ok()) return socket.status();
  uint64_t id = next_connection_++;
  net::FramedConnection::Callbacks callbacks;
  callbacks.on_frame = [this, id](absl::string_view body) {
    OnFrame(id, body);
  };
  callbacks.on_close = [this, id](const absl::Status& reason) {
    OnClose(id, reason);
  };
  auto framed = std::make_unique<net::FramedConnection>(
      loop_, *std::move(socket), net::FramedConnection::Options(),
      std::move(callbacks));
  absl::Status started = framed->Start();
  if (!started.ok()) return started;
  connections_[id].framed = std::move(framed);
  current_ = id;
  return absl::OkStatus();
}

void ReactorCaller::OnFrame(uint64_t connection, absl::string_view body) {
  absl::StatusOr<framing::ResponseView> response = framing::ParseResponse(body);
  if (!response.ok()) {
    CloseFor(connection,
             CallResult::Failed(
                 FailureCause::kBadResponse,
                 absl::StrCat("connection closed after a malformed answer: ",
                              response.status().message())));
    return;
  }
  uint64_t id = response->id;
  auto it = pending_.find(id);
  if (it == pending_.end() || it->second.connection != connection) {
    // answered after its deadline
    if (connections_.at(connection).expired.erase(id) > 0) return;
    CloseFor(connection,
             CallResult::Failed(
                 FailureCause::kBadResponse,
                 absl::StrCat("connection closed after an answer with unknown "
                              "id ",
                              id)));
    return;
  }
  Complete(id, CheckResponse(plan_->Request(id), *response));
  CloseIfIdleAndRetired(connection);
}

void ReactorCaller::OnClose(uint64_t connection, const absl::Status& reason) {
  auto it = connections_.find(connection);
  // The connection is inside its own callback: it is destroyed later, by
  // the loop. Every request waiting on it ends now; completions that call
  // again get a new connection.
  loop_->DeleteLater(std::move(it->second.framed));
  CallResult result =
      it->second.close_result.has_value()
          ? *std::move(it->second.close_result)
          : ConnectionClosed(reason.ok() ? absl::string_view("end of stream")
                                         : reason.message());
  connections_.erase(it);
  if (current_ == connection) current_ = 0;
  std::vector<uint64_t> waiting;
  for (const auto& [index, pending] : pending_) {
    if (pending.connection == connection) waiting.push_back(index);
  }
  for (uint64_t index : waiting) Complete(index, result);
}

void ReactorCaller::CloseFor(uint64_t connection, CallResult result) {
  Connection& closing = connections_.at(connection);
  closing.close_result = std::move(result);
  closing.framed->Close(absl::DataLossError(closing.close_result->detail()));
}

void ReactorCaller::CloseIfIdleAndRetired(uint64_t connection) {
  if (connection == current_) return;
  auto it = connections_.find(connection);
  if (it == connections_.end() || it->second.waiting > 0) return;
  // Nothing is owed on it any more; OnClose forgets it.
  it->second.framed->Close();
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
  uint64_t connection = it->second.connection;
  connections_.at(connection).expired.insert(index);
  // Retired before the completion runs, so the request it may send goes
  // on a new connection.
  if (current_ == connection) current_ = 0;
  Complete(index, DeadlineExceeded(plan_->deadline()));
  CloseIfIdleAndRetired(connection);
}

void ReactorCaller::Complete(uint64_t index, CallResult result) {
  auto it = pending_.find(index);
  Completion done = std::move(it->second.done);
  loop_->Cancel(it->second.timer);
  auto connection = connections_.find(it->second.connection);
  if (connection != connections_.end()) --connection->second.waiting;
  pending_.erase(it);
  done(std::move(result));
}

}  // namespace asyncwork::clients
