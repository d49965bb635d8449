#include "clients/callback_client.h"

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "clients/call_result.h"
#include "clients/reactor_caller.h"
#include "clients/run_context.h"
#include "net/event_loop.h"
#include "net/timer_queue.h"

namespace asyncwork::clients {
namespace {

// WindowedRun keeps `window` requests waiting on each of `lanes`
// connections. Every completion frees a slot in its lane and refills it at
// once (closed loop) or when the schedule says (paced).
class WindowedRun {
 public:
  WindowedRun(RunContext* run, int lanes, int window)
      : run_(*run), plan_(run->plan()), loop_(run->loop()) {
    for (int lane = 0; lane < lanes; ++lane) {
      callers_.push_back(
          std::make_unique<ReactorCaller>(loop_, &run->dialer(), &plan_));
      for (int slot = 0; slot < window; ++slot) {
        free_slots_.push_back({static_cast<size_t>(lane), plan_.start()});
      }
    }
  }

  ~WindowedRun() { loop_->Cancel(pacer_); }

  void Run() {
    Pump();
    run_.RunLoop();
  }

 private:
  struct FreeSlot {
    size_t lane;
    absl::Time freed_at;  // the next request's due time in a closed loop
  };

  // Pump sends a request into every free slot while requests are due, and
  // stops the loop once nothing is left to send or to wait for.
  void Pump() {
    absl::Time now = absl::Now();
    while (!free_slots_.empty() && !plan_.Done(now)) {
      if (plan_.NextSendTime() > now) {
        if (!pacer_.valid()) {
          pacer_ = loop_->RunAt(plan_.NextSendTime(), [this] {
            pacer_ = net::TimerId();
            Pump();
          });
        }
        return;
      }
      FreeSlot slot = free_slots_.front();
      free_slots_.pop_front();
      Send(slot, now);
    }
    if (plan_.Done(now) && waiting_ == 0) loop_->Stop();
  }

  void Send(const FreeSlot& slot, absl::Time now) {
    uint64_t index = plan_.Take();
    absl::Time due = plan_.DueAt(index, slot.freed_at);
    run_.stats().RecordStarted();
    ++waiting_;
    size_t lane = slot.lane;
    callers_[lane]->Call(index, now + plan_.deadline(),
                         [this, lane, index, due](CallResult result) {
                           absl::Time done = absl::Now();
                           --waiting_;
                           RecordCall(index, due, result, done, &run_.stats());
                           free_slots_.push_back({lane, done});
                           Pump();
                         });
  }

  RunContext& run_;
  WorkPlan& plan_;
  net::EventLoop* const loop_;
  std::vector<std::unique_ptr<ReactorCaller>> callers_;
  std::deque<FreeSlot> free_slots_;
  size_t waiting_ = 0;
  net::TimerId pacer_;
};

absl::StatusOr<RunStats> RunWindowed(const RunConfig& config, int lanes,
                                     int window) {
  absl::StatusOr<std::unique_ptr<RunContext>> started =
      RunContext::Start(config, RunContext::kReactor);
  if (!started.ok()) return started.status();
  WindowedRun(started->get(), lanes, window).Run();
  return (*started)->Finish();
}

}  // namespace

absl::StatusOr<RunStats> RunCallback(const RunConfig& config) {
  return RunWindowed(config, config.in_flight, 1);
}

absl::StatusOr<RunStats> RunPipelined(const RunConfig& config) {
  return RunWindowed(config, config.connections, config.in_flight);
}

}  // namespace asyncwork::clients
