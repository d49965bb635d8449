#include "clients/blocking_client.h"

#include <memory>

#include "absl/time/clock.h"
#include "clients/blocking_caller.h"
#include "clients/call_result.h"
#include "clients/run_context.h"

namespace asyncwork::clients {

absl::StatusOr<RunStats> RunBlocking(const RunConfig& config) {
  absl::StatusOr<std::unique_ptr<RunContext>> started =
      RunContext::Start(config, RunContext::kBlocking);
  if (!started.ok()) return started.status();
  RunContext& run = **started;
  WorkPlan& plan = run.plan();
  BlockingCaller caller(&run.dialer(), &plan);
  absl::Time now = absl::Now();
  while (!plan.Done(now)) {
    // A paced run waits for the request's send time; its latency still
    // counts from then even if the previous answer came late.
    if (plan.NextSendTime() > now) {
      absl::SleepFor(plan.NextSendTime() - now);
      now = absl::Now();
      continue;
    }
    uint64_t index = plan.Take();
    absl::Time due = plan.DueAt(index, now);
    run.stats().RecordStarted();
    CallResult result = caller.Call(index, now + plan.deadline());
    now = absl::Now();
    RecordCall(index, due, result, now, &run.stats());
    run.ShowProgress(now);
  }
  return run.Finish();
}

}  // namespace asyncwork::clients
