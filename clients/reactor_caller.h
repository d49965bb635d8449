// reactor_caller.h: ReactorCaller, requests over one connection on an
// EventLoop, any number waiting at once, each answer matched to its request
// by id: the core of the callback, pipelined and coroutine clients.
//
//   ReactorCaller caller(loop, &dialer, &plan);
//   caller.Call(index, absl::Now() + plan.deadline(),
//               [&](CallResult result) { /* on the loop thread, later */ });
//
// The caller connects (through the Dialer) on first use and again after its
// connection ends or is retired. Each request's completion runs exactly
// once, on the loop thread, and never from inside Call (a failure found at
// once, such as a refused connect, is reported from the loop's next timers
// phase), so a completion may issue the next Call without recursion:
//   - the verified answer arrived: CheckResponse's result;
//   - the deadline passed first: kDeadlineExceeded. The connection is
//     retired: no new request is sent on it (the next Call connects
//     afresh), the requests already waiting on it go on waiting for their
//     answers (a late answer to the expired one is dropped), and it closes
//     once none is left. So a connection that went silent (a stalled
//     network, a hung server) costs the requests sent on it, not every
//     later one, while one slow answer does not fail its neighbours;
//   - the connection ended first: kConnectionClosed with the reason, for
//     every request waiting on it;
//   - an answer that names no request waiting here, or is not a response:
//     the stream cannot be trusted, so the connection is closed and every
//     request waiting on it fails with kBadResponse;
//   - the connection could not be made: ConnectFailure's result.
//
// Ownership: loop, dialer and plan are not owned and must outlive the
// caller. Destroying the caller drops the completions still pending
// without running them. Loop thread only.
#ifndef ASYNCWORK_CLIENTS_REACTOR_CALLER_H_
#define ASYNCWORK_CLIENTS_REACTOR_CALLER_H_

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "clients/call_result.h"
#include "clients/dialer.h"
#include "clients/work_plan.h"
#include "net/event_loop.h"
#include "net/framed_connection.h"
#include "net/timer_queue.h"

namespace asyncwork::clients {

class ReactorCaller {
 public:
  using Completion = absl::AnyInvocable<void(CallResult result)>;

  ReactorCaller(net::EventLoop* loop, Dialer* dialer, const WorkPlan* plan);
  ~ReactorCaller();

  ReactorCaller(const ReactorCaller&) = delete;
  ReactorCaller& operator=(const ReactorCaller&) = delete;

  // Call sends request `index` (its id must not be waiting already) and
  // arranges for `done` to run once with its result, by `deadline` at the
  // latest.
  void Call(uint64_t index, absl::Time deadline, Completion done);

  // pending returns how many requests wait for their completion.
  size_t pending() const { return pending_.size(); }

  // connected returns whether a connection takes new requests.
  bool connected() const { return current_ != 0; }

  // connections returns how many connections are open: the one taking new
  // requests and the retired ones still owed answers.
  size_t connections() const { return connections_.size(); }

 private:
  struct Pending {
    Completion done;
    net::TimerId timer;
    // Set for a request that failed before it was sent; its timer (due at
    // once) reports this instead of a passed deadline.
    std::optional<CallResult> failure;
    // The connection the request was sent on (0 when it failed first).
    uint64_t connection = 0;
  };

  // Connection is one connection and what waits on it.
  struct Connection {
    std::unique_ptr<net::FramedConnection> framed;
    // Requests sent on it that have not completed.
    size_t waiting = 0;
    // Ids whose deadline passed while it stayed open: their answers may
    // still come and are dropped.
    absl::flat_hash_set<uint64_t> expired;
    // The result every waiting request gets when it closes on purpose
    // (CloseFor); unset for a close the peer caused.
    std::optional<CallResult> close_result;
  };

  // Connect opens a connection through the dialer and makes it current.
  absl::Status Connect(absl::Time deadline);
  void OnFrame(uint64_t connection, absl::string_view body);
  void OnClose(uint64_t connection, const absl::Status& reason);
  // OnTimer ends request `index`: its deadline passed, or it failed early.
  void OnTimer(uint64_t index);
  // Complete removes request `index` and runs its completion with `result`.
  void Complete(uint64_t index, CallResult result);
  // CloseFor closes `connection`, failing every request waiting on it with
  // `result` instead of "connection closed".
  void CloseFor(uint64_t connection, CallResult result);
  // CloseIfIdleAndRetired closes `connection` if it is not current_ (it
  // was retired) and no request waits on it any more.
  void CloseIfIdleAndRetired(uint64_t connection);

  net::EventLoop* const loop_;
  Dialer* const dialer_;
  const WorkPlan* const plan_;
  // Every open connection, by a number never reused; current_ names the
  // one new requests go to (0: none, connect on the next Call).
  absl::flat_hash_map<uint64_t, Connection> connections_;
  uint64_t current_ = 0;
  uint64_t next_connection_ = 1;
  absl::flat_hash_map<uint64_t, Pending> pending_;
};

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_REACTOR_CALLER_H_
