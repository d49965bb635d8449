#include "clients/run_context.h"

#include <memory>
#include <utility>

#include "absl/time/clock.h"
#include "clients/report.h"
#include "net/check.h"

namespace asyncwork::clients {

absl::StatusOr<std::unique_ptr<RunContext>> RunContext::Start(
    const RunConfig& config, Driver driver) {
  absl::Status valid = ValidateRunConfig(config);
  if (!valid.ok()) return valid;
  std::unique_ptr<net::EventLoop> loop;
  if (driver == kReactor) {
    absl::StatusOr<std::unique_ptr<net::EventLoop>> created =
        net::EventLoop::Create();
    if (!created.ok()) return created.status();
    loop = *std::move(created);
  }
  absl::StatusOr<std::unique_ptr<Dialer>> dialer =
      Dialer::Create(config, loop.get());
  if (!dialer.ok()) return dialer.status();
  return std::make_unique<RunContext>(Key(), config, std::move(loop),
                                      *std::move(dialer));
}

// The plan starts last, so setting up (a shaping link's threads, say) is not
// counted in the run's time.
RunContext::RunContext(Key, const RunConfig& config,
                       std::unique_ptr<net::EventLoop> loop,
                       std::unique_ptr<Dialer> dialer)
    : config_(config),
      loop_(std::move(loop)),
      dialer_(std::move(dialer)),
      plan_(config, absl::Now()) {}

void RunContext::ShowProgress(absl::Time now) {
  if (config_.progress != nullptr) config_.progress->Update(stats_, now);
}

void RunContext::RunLoop() {
  ASYNCWORK_CHECK(loop_ != nullptr) << "RunLoop needs a kReactor RunContext";
  net::TimerId progress = loop_->RunEvery(
      ProgressLine::kDefaultInterval, [this] { ShowProgress(absl::Now()); });
  loop_->Run();
  loop_->Cancel(progress);
}

RunStats RunContext::Finish() {
  ASYNCWORK_CHECK(stats_.Balanced())
      << "started " << stats_.started() << ", completed " << stats_.completed()
      << ", failed " << stats_.failed();
  stats_.SetElapsed(absl::Now() - plan_.start(), cpu_.Stop() + other_cpu_);
  return std::move(stats_);
}

}  // namespace asyncwork::clients
