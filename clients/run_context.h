// run_context.h: RunContext, what every strategy sets up before its first
// request and settles after its last: the checked config, the work plan, the
// dialer, the stats, and the clocks.
//
//   absl::StatusOr<std::unique_ptr<RunContext>> run =
//       RunContext::Start(config, RunContext::kBlocking);
//   if (!run.ok()) return run.status();
//   while (!(*run)->plan().Done(absl::Now())) { ... (*run)->stats() ... }
//   return (*run)->Finish();
//
// CPU time is measured on the clock of the thread that calls Start (the
// thread that drives the run), so an in-process server or shaping thread in
// the same process is not charged to the client; a strategy with worker
// threads adds their CPU time with AddCpu.
//
// Threads: one thread (the one that called Start) uses a RunContext, except
// where a strategy says otherwise and synchronises itself.
#ifndef ASYNCWORK_CLIENTS_RUN_CONTEXT_H_
#define ASYNCWORK_CLIENTS_RUN_CONTEXT_H_

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/cpu_time.h"
#include "clients/dialer.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"
#include "clients/work_plan.h"
#include "net/event_loop.h"

namespace asyncwork::clients {

class RunContext {
  struct Key {
    explicit Key() = default;
  };

 public:
  // How the strategy waits: in blocking calls, or on an EventLoop that the
  // RunContext creates (and owns, outliving the dialer and connections).
  enum Driver { kBlocking, kReactor };

  // Start validates `config`, creates the loop (kReactor) and the dialer,
  // and starts the clocks. Errors are ValidateRunConfig's, the loop's and
  // Dialer::Create's.
  static absl::StatusOr<std::unique_ptr<RunContext>> Start(
      const RunConfig& config, Driver driver);

  // Use Start; the Key keeps this constructor private to it.
  RunContext(Key, const RunConfig& config, std::unique_ptr<net::EventLoop> loop,
             std::unique_ptr<Dialer> dialer);

  RunContext(const RunContext&) = delete;
  RunContext& operator=(const RunContext&) = delete;

  const RunConfig& config() const { return config_; }
  // loop returns the reactor strategies' loop (null for kBlocking).
  net::EventLoop* loop() const { return loop_.get(); }
  WorkPlan& plan() { return plan_; }
  Dialer& dialer() { return *dialer_; }
  RunStats& stats() { return stats_; }

  // ShowProgress redraws the config's progress line, if any (it limits
  // itself to a few redraws a second).
  void ShowProgress(absl::Time now);

  // RunLoop runs loop() on this thread until its Stop is called, redrawing
  // the progress line as it goes. kReactor only.
  void RunLoop();

  // AddCpu adds CPU time spent on other threads (worker threads' own
  // clocks) to the run's total.
  void AddCpu(absl::Duration cpu) { other_cpu_ += cpu; }

  // Finish stops the clocks, sets the stats' elapsed times and returns them.
  // Every started request must have ended (RunStats::Balanced) by then.
  RunStats Finish();

 private:
  RunConfig config_;
  std::unique_ptr<net::EventLoop> loop_;  // declared first: destroyed last
  std::unique_ptr<Dialer> dialer_;
  CpuStopwatch cpu_{CpuClock::kThread};
  absl::Duration other_cpu_ = absl::ZeroDuration();
  WorkPlan plan_;
  RunStats stats_;
};

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_RUN_CONTEXT_H_
