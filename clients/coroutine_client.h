// coroutine_client.h: the coroutine client. Each worker is a C++20 coroutine
// that reads like the blocking client (take a request, call, record, next)
// and runs like the callback one: `co_await client.Call(index)` suspends the
// worker until the answer's callback resumes it from the EventLoop, and the
// loop serves every other worker meanwhile.
//
//   Task Worker(CoroutineClient* client, ...) {
//     while (!plan.Done(absl::Now())) {
//       uint64_t index = plan.Take();
//       CallResult result = co_await client->Call(index);
//       RecordCall(index, due, result, absl::Now(), &stats);
//     }
//   }
//
//   absl::StatusOr<RunStats> stats = RunCoroutine(config);
//
// RunCoroutine starts `config.in_flight` workers per connection over
// `config.connections` connections, so as many requests wait at once as
// with the pipelined client.
#ifndef ASYNCWORK_CLIENTS_COROUTINE_CLIENT_H_
#define ASYNCWORK_CLIENTS_COROUTINE_CLIENT_H_

#include <coroutine>
#include <cstdint>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/call_result.h"
#include "clients/dialer.h"
#include "clients/reactor_caller.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"
#include "clients/work_plan.h"
#include "net/event_loop.h"

namespace asyncwork::clients {

// CoroutineClient is one connection's requests as awaitables. Loop thread
// only; loop, dialer and plan are not owned and must outlive it, and so
// must every coroutine suspended in one of its Calls (destroying the client
// drops their completions, so they are never resumed).
class CoroutineClient {
 public:
  CoroutineClient(net::EventLoop* loop, Dialer* dialer, const WorkPlan* plan)
      : caller_(loop, dialer, plan), deadline_(plan->deadline()) {}

  // Call returns an awaitable that sends request `index` and, once it has
  // ended (answered and verified, failed, or past its deadline), resumes
  // the awaiting coroutine from the loop with the CallResult:
  //   CallResult result = co_await client.Call(index);
  auto Call(uint64_t index) {
    struct CallAwaiter {
      ReactorCaller* caller;
      uint64_t index;
      absl::Time deadline;
      CallResult result = CallResult::Ok();

      bool await_ready() const noexcept { return false; }
      // ReactorCaller never completes from inside Call, so the coroutine
      // is always suspended by the time the completion resumes it.
      void await_suspend(std::coroutine_handle<> awaiting) {
        caller->Call(index, deadline, [this, awaiting](CallResult done) {
          result = std::move(done);
          awaiting.resume();
        });
      }
      CallResult await_resume() { return std::move(result); }
    };
    return CallAwaiter{&caller_, index, absl::Now() + deadline_};
  }

  // pending returns how many Calls wait for their answer.
  size_t pending() const { return caller_.pending(); }

 private:
  ReactorCaller caller_;
  absl::Duration deadline_;
};

// RunCoroutine runs the coroutine client on the calling thread, on an
// EventLoop of its own. The Status is only for setup failures.
absl::StatusOr<RunStats> RunCoroutine(const RunConfig& config);

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_COROUTINE_CLIENT_H_
