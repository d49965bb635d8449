// reactor_caller.h: ReactorCaller, requests over one connection on an
// EventLoop, any number waiting at once, each answer matched to its request
// by id: the core of the callback, pipelined and coroutine clients.
//
//   ReactorCaller caller(loop, &dialer, &plan);
//   caller.Call(index, absl::Now() + plan.deadline(),
//               [&](CallResult result) { /* on the loop thread, later */ });
//
// The caller connects (through the Dialer) on first use and again after its
// connection ends. Each request's completion runs exactly once, on the loop
// thread, and never from inside Call (a failure found at once, such as a
// refused connect, is reported from the loop's next timers phase), so a
// completion may issue the next Call without recursion:
//   - the verified answer arrived: CheckResponse's result;
//   - the deadline passed first: kDeadlineExceeded; the connection stays
//     open, and the late answer, if it comes, is dropped;
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

  // connected returns whether a connection is open.
  bool connected() const { return connection_ != nullptr; }

 private:
  struct Pending {
    Completion done;
    net::TimerId timer;
    // Set for a request that failed before it was sent; its timer (due at
    // once) reports this instead of a passed deadline.
    std::optional<CallResult> failure;
  };

  // Connect opens a connection through the dialer.
  absl::Status Connect(absl::Time deadline);
  void OnFrame(absl::string_view body);
  void OnClose(const absl::Status& reason);
  // OnTimer ends request `index`: its deadline passed, or it failed early.
  void OnTimer(uint64_t index);
  // Complete removes request `index` and runs its completion with `result`.
  void Complete(uint64_t index, CallResult result);
  // CloseFor closes the connection, failing every request waiting on it
  // with `result` instead of "connection closed".
  void CloseFor(CallResult result);

  net::EventLoop* const loop_;
  Dialer* const dialer_;
  const WorkPlan* const plan_;
  std::unique_ptr<net::FramedConnection> connection_;
  absl::flat_hash_map<uint64_t, Pending> pending_;
  // Ids whose deadline passed while their connection stayed open: their
  // answers may still come and are dropped. Cleared with the connection.
  absl::flat_hash_set<uint64_t> expired_;
  // The result every waiting request gets when the connection closes on
  // purpose (CloseFor); unset for a close the peer caused.
  std::optional<CallResult> close_result_;
};

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_REACTOR_CALLER_H_
