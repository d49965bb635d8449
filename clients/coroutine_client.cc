#include "clients/coroutine_client.h"

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "clients/run_context.h"
#include "clients/task.h"
#include "net/event_loop.h"

namespace asyncwork::clients {
namespace {

// Worker sends requests one after another through `client` until the plan
// is done, exactly as the blocking client does, and stops the loop when it
// is the last worker to finish.
Task Worker(net::EventLoop* loop, CoroutineClient* client, RunContext* run,
            int* workers_left) {
  WorkPlan& plan = run->plan();
  absl::Time freed_at = plan.start();
  while (!plan.Done(absl::Now())) {
    if (plan.NextSendTime() > absl::Now()) {
      co_await SleepUntil(loop, plan.NextSendTime());
      continue;
    }
    uint64_t index = plan.Take();
    absl::Time due = plan.DueAt(index, freed_at);
    run->stats().RecordStarted();
    CallResult result = co_await client->Call(index);
    freed_at = absl::Now();
    RecordCall(index, due, result, freed_at, &run->stats());
  }
  if (--*workers_left == 0) loop->Stop();
}

}  // namespace

absl::StatusOr<RunStats> RunCoroutine(const RunConfig& config) {
  absl::StatusOr<std::unique_ptr<RunContext>> started =
      RunContext::Start(config, RunContext::kReactor);
  if (!started.ok()) return started.status();
  RunContext& run = **started;
  net::EventLoop* loop = run.loop();
  {
    std::vector<std::unique_ptr<CoroutineClient>> clients;
    for (int i = 0; i < config.connections; ++i) {
      clients.push_back(
          std::make_unique<CoroutineClient>(loop, &run.dialer(), &run.plan()));
    }
    int workers_left = config.connections * config.in_flight;
    // Declared after the clients, so the workers' frames go first.
    std::vector<Task> workers;
    for (int i = 0; i < config.connections * config.in_flight; ++i) {
      workers.push_back(
          Worker(loop, clients[static_cast<size_t>(i) % clients.size()].get(),
                 &run, &workers_left));
    }
    for (Task& worker : workers) worker.Start();
    run.RunLoop();
  }
  return run.Finish();
}

}  // namespace asyncwork::clients
