#include "clients/threaded_client.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/blocking_caller.h"
#include "clients/call_result.h"
#include "clients/cpu_time.h"
#include "clients/run_context.h"

namespace asyncwork::clients {
namespace {

// kProgressInterval bounds how long the coordinating thread sleeps between
// progress redraws while every thread is busy.
constexpr absl::Duration kProgressInterval = absl::Milliseconds(100);

// ThreadedRun is the state the coordinating thread shares with the request
// threads. std::mutex rather than absl::Mutex so that ThreadSanitizer sees
// it (Debian's Abseil is not built for tsan).
class ThreadedRun {
 public:
  ThreadedRun(RunContext* run, int max_threads)
      : run_(*run), slots_(static_cast<size_t>(max_threads)) {
    for (size_t i = slots_.size(); i > 0; --i) {
      slots_[i - 1].freed_at = run_.plan().start();
      free_slots_.push_back(i - 1);
    }
  }

  ~ThreadedRun() {
    for (Slot& slot : slots_) {
      if (slot.thread.joinable()) slot.thread.join();
    }
  }

  // Run starts a thread for each request as slots free, then waits for the
  // last ones. Coordinating thread only.
  void Run();

 private:
  struct Slot {
    std::thread thread;
    // When the slot's previous request ended: the next one's due time in a
    // closed loop.
    absl::Time freed_at;
  };

  // Serve runs request `index` on its own thread.
  void Serve(size_t slot, uint64_t index, absl::Time due);
  // Launch starts the thread for request `index` in `slot`; it is called
  // without the lock and takes it to store the thread.
  void Launch(size_t slot, std::thread finished, uint64_t index,
              absl::Time due);
  // EndRequest records a finished request and frees its slot. Lock held.
  void EndRequest(size_t slot, uint64_t index, absl::Time due,
                  const CallResult& result);

  RunContext& run_;
  std::mutex mutex_;
  std::condition_variable slot_freed_;
  // Guarded by mutex_: the slots' freed_at, free_slots_, idle_callers_,
  // worker_cpu_ and the run's stats. A slot's thread is touched only by the
  // coordinating thread.
  std::vector<Slot> slots_;
  std::vector<size_t> free_slots_;
  std::vector<std::unique_ptr<BlockingCaller>> idle_callers_;
  absl::Duration worker_cpu_ = absl::ZeroDuration();
};

void ThreadedRun::Run() {
  WorkPlan& plan = run_.plan();
  std::unique_lock<std::mutex> lock(mutex_);
  absl::Time now = absl::Now();
  while (!plan.Done(now)) {
    if (free_slots_.empty()) {
      slot_freed_.wait_for(lock, absl::ToChronoNanoseconds(kProgressInterval));
    } else if (plan.NextSendTime() > now) {
      lock.unlock();
      absl::SleepFor(plan.NextSendTime() - now);
      lock.lock();
    } else {
      size_t slot = free_slots_.back();
      free_slots_.pop_back();
      uint64_t index = plan.Take();
      absl::Time due = plan.DueAt(index, slots_[slot].freed_at);
      run_.stats().RecordStarted();
      std::thread finished = std::move(slots_[slot].thread);
      lock.unlock();
      Launch(slot, std::move(finished), index, due);
      lock.lock();
    }
    now = absl::Now();
    run_.ShowProgress(now);
  }
  while (free_slots_.size() < slots_.size()) {
    slot_freed_.wait_for(lock, absl::ToChronoNanoseconds(kProgressInterval));
    run_.ShowProgress(absl::Now());
  }
  run_.AddCpu(worker_cpu_);
}

void ThreadedRun::Launch(size_t slot, std::thread finished, uint64_t index,
                         absl::Time due) {
  // The slot's previous thread has freed the slot as its last act, so this
  // join waits at most for it to return.
  if (finished.joinable()) finished.join();
  std::thread thread;
  CallResult refused = CallResult::Ok();
  try {
    thread = std::thread([this, slot, index, due] { Serve(slot, index, due); });
  } catch (const std::system_error& error) {
    // Out of threads (or memory for a stack): this request cannot run.
    refused = CallResult::Failed(FailureCause::kIoError,
                                 absl::StrCat("thread: ", error.what()));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (refused.ok()) {
    slots_[slot].thread = std::move(thread);
  } else {
    EndRequest(slot, index, due, refused);
  }
}

void ThreadedRun::Serve(size_t slot, uint64_t index, absl::Time due) {
  absl::Time start = absl::Now();
  std::unique_ptr<BlockingCaller> caller;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_callers_.empty()) {
      caller = std::move(idle_callers_.back());
      idle_callers_.pop_back();
    }
  }
  if (caller == nullptr) {
    caller = std::make_unique<BlockingCaller>(&run_.dialer(), &run_.plan());
  }
  CallResult result = caller->Call(index, start + run_.plan().deadline());
  absl::Duration cpu = ThreadCpuTime();
  std::lock_guard<std::mutex> lock(mutex_);
  idle_callers_.push_back(std::move(caller));
  worker_cpu_ += cpu;
  EndRequest(slot, index, due, result);
}

void ThreadedRun::EndRequest(size_t slot, uint64_t index, absl::Time due,
                             const CallResult& result) {
  absl::Time now = absl::Now();
  RecordCall(index, due, result, now, &run_.stats());
  slots_[slot].freed_at = now;
  free_slots_.push_back(slot);
  slot_freed_.notify_one();
}

}  // namespace

absl::StatusOr<RunStats> RunThreaded(const RunConfig& config) {
  absl::StatusOr<std::unique_ptr<RunContext>> started =
      RunContext::Start(config, RunContext::kBlocking);
  if (!started.ok()) return started.status();
  {
    ThreadedRun threaded(started->get(), config.max_threads);
    threaded.Run();
  }
  return (*started)->Finish();
}

}  // namespace asyncwork::clients
