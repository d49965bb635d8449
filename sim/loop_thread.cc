#include "sim/loop_thread.h"

#include <future>
#include <utility>

namespace asyncwork::sim {

absl::StatusOr<std::unique_ptr<LoopThread>> LoopThread::Start() {
  absl::StatusOr<std::unique_ptr<net::EventLoop>> loop =
      net::EventLoop::Create();
  if (!loop.ok()) return loop.status();
  return std::make_unique<LoopThread>(Key(), *std::move(loop));
}

LoopThread::LoopThread(Key, std::unique_ptr<net::EventLoop> loop)
    : loop_(std::move(loop)), thread_([this] { loop_->Run(); }) {}

LoopThread::~LoopThread() { Stop(); }

void LoopThread::RunAndWait(absl::AnyInvocable<void()> task) {
  // The thread's id, not loop_->IsInLoopThread(): until the thread enters
  // Run, the loop still counts its creator as its thread.
  if (!thread_.joinable() || std::this_thread::get_id() == thread_.get_id()) {
    task();
    return;
  }
  // std::promise rather than absl::Notification: ThreadSanitizer cannot see
  // Debian's Abseil synchronise (see the brief's facts).
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  loop_->Post([&task, &done] {
    task();
    done.set_value();
  });
  finished.wait();
}

void LoopThread::Stop() {
  if (!thread_.joinable()) return;
  loop_->Stop();
  thread_.join();
}

}  // namespace asyncwork::sim
