#include "clients/run_context.h"

#include <memory>
#include <utility>

#include "absl/time/clock.h"
#include "clients/report.h"
#include "net/check.h"

namespace asyncwork::clients {

absl::StatusOr<std::unique_ptr<RunContext>> RunContext::Start(
    const RunConfig& config, net::EventLoop* loop) {
  absl::Status valid = ValidateRunConfig(config);
  if (!valid.ok()) return valid;
  absl::StatusOr<std::unique_ptr<Dialer>> dialer = Dialer::Create(config, loop);
  if (!dialer.ok()) return dialer.status();
  return std::make_unique<RunContext>(Key(), config, *std::move(dialer));
}

// The plan starts last, so setting up (a shaping link's threads, say) is not
// counted in the run's time.
RunContext::RunContext(Key, const RunConfig& config,
                       std::unique_ptr<Dialer> dialer)
    : config_(config), dialer_(std::move(dialer)), plan_(config, absl::Now()) {}

void RunContext::ShowProgress(absl::Time now) {
  if (config_.progress != nullptr) config_.progress->Update(stats_, now);
}

void RunContext::RunLoop(net::EventLoop* loop) {
  net::TimerId progress = loop->RunEvery(ProgressLine::kDefaultInterval,
                                         [this] { ShowProgress(absl::Now()); });
  loop->Run();
  loop->Cancel(progress);
}

RunStats RunContext::Finish() {
  ASYNCWORK_CHECK(stats_.Balanced())
      << "started " << stats_.started() << ", completed "
      << stats_.completed() << ", failed " << stats_.failed();
  stats_.SetElapsed(absl::Now() - plan_.start(), cpu_.Stop() + other_cpu_);
  return std::move(stats_);
}

}  // namespace asyncwork::clients
