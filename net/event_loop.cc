#include "net/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/str_cat.h"
#include "net/check.h"
#include "net/io_watch.h"
#include "net/log.h"

namespace asyncwork::net {

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create(Backend backend) {
  absl::StatusOr<std::unique_ptr<Poller>> poller = MakePoller(backend);
  if (!poller.ok()) return poller.status();
  absl::StatusOr<Fd> wake_fd =
      Fd::Adopt(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK), "eventfd");
  if (!wake_fd.ok()) return wake_fd.status();
  if (absl::Status added =
          (*poller)->Add(wake_fd->get(), kReadable, Trigger::kLevel, kWakeToken);
      !added.ok()) {
    return added;
  }
  return std::make_unique<EventLoop>(Key(), *std::move(poller),
                                     *std::move(wake_fd));
}

EventLoop::EventLoop(Key, std::unique_ptr<Poller> poller, Fd wake_fd)
    : backend_(poller->backend()),
      poller_(std::move(poller)),
      wake_fd_(std::move(wake_fd)),
      owner_(std::this_thread::get_id()),
      now_(absl::Now()) {
  deferred_.prev = deferred_.next = &deferred_;
}

EventLoop::~EventLoop() {
  ASYNCWORK_CHECK(!running_.load()) << "EventLoop destroyed while running";
  AssertInLoopThread();
  // Destroy what may still own IoWatches first, while the watch table and
  // poller they deregister from are intact.
  DestroyDoomed();
  {
    std::vector<absl::AnyInvocable<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(posted_mutex_);
      tasks.swap(posted_);
    }
  }
  timers_.Clear();
  DestroyDoomed();
  // DeferredCalls that outlive the loop must not point into it.
  while (deferred_.next != &deferred_) deferred_.next->Unlink();
  ASYNCWORK_CHECK(watch_count_ == 0)
      << watch_count_ << " IoWatch(es) still active when their EventLoop was "
      << "destroyed; stop or destroy them first";
}

bool EventLoop::IsInLoopThread() const {
  return owner_.load(std::memory_order_acquire) == std::this_thread::get_id();
}

void EventLoop::AssertInLoopThread() const {
  ASYNCWORK_CHECK(IsInLoopThread() || !running_.load(std::memory_order_acquire))
      << "EventLoop used off its thread while another thread runs it; use Post";
}

void EventLoop::Enter() {
  // Taking the loop over is allowed only while no thread runs it; the
  // exchange makes two threads entering at once fail loudly.
  if (running_.exchange(true, std::memory_order_acq_rel)) {
    ASYNCWORK_CHECK(IsInLoopThread())
        << "EventLoop run by two threads at once";
    ASYNCWORK_CHECK(!in_iteration_)
        << "EventLoop::RunOnce called from inside a callback";
    return;
  }
  owner_.store(std::this_thread::get_id(), std::memory_order_release);
}

void EventLoop::Leave() { running_.store(false, std::memory_order_release); }

void EventLoop::Run() {
  Enter();
  while (!stop_requested_.load(std::memory_order_acquire)) {
    if (absl::Status status = RunOnce(absl::InfiniteDuration()); !status.ok()) {
      LogError(absl::StrCat("EventLoop::Run stops: ", status.ToString()));
      break;
    }
  }
  stop_requested_.store(false, std::memory_order_release);
  Leave();
}

absl::Status EventLoop::RunOnce(absl::Duration max_wait) {
  // Inside Run the loop is already entered; a bare RunOnce enters and leaves.
  const bool entered_here = !running_.load(std::memory_order_acquire) ||
                            !IsInLoopThread();
  if (entered_here) {
    Enter();
  } else {
    ASYNCWORK_CHECK(!in_iteration_)
        << "EventLoop::RunOnce called from inside a callback";
  }
  in_iteration_ = true;

  // Phase 0: deferred calls scheduled between iterations.
  RunDeferredCalls();
  DestroyDoomed();

  // Phase 1: wait, no longer than until the next timer is due, and not at
  // all while deferred work is scheduled.
  absl::Duration timeout =
      has_deferred_calls() ? absl::ZeroDuration() : max_wait;
  absl::Time next_timer = timers_.NextDeadline();
  if (next_timer != absl::InfiniteFuture()) {
    timeout = std::min(timeout, next_timer - absl::Now());
  }
  absl::Status waited = poller_->Wait(timeout, &ready_);
  now_ = absl::Now();

  // Phase 2: io. Phase 3: timers. Phase 4: posted tasks. Phase 5: the
  // deferred calls those scheduled (batched writes go out).
  DispatchIo();
  DestroyDoomed();
  timers_.RunDue(now_);
  DestroyDoomed();
  RunPostedTasks();
  DestroyDoomed();
  RunDeferredCalls();
  DestroyDoomed();

  in_iteration_ = false;
  if (entered_here) Leave();
  return waited;
}

void EventLoop::DispatchIo() {
  for (const ReadyEvent& event : ready_) {
    if (event.token == kWakeToken) {
      DrainWake();
      continue;
    }
    // A watch stopped or destroyed by an earlier handler in this batch has a
    // retired token, so its event stops here; a watch created since (even
    // on the same fd number) has a different token.
    IoWatch* watch = FindWatch(event.token);
    if (watch == nullptr) continue;
    uint32_t ready = event.events & (watch->interest_ | kError | kHangup);
    if (ready == 0) continue;
    dispatching_ = watch;
    watch->handler_(ready);
    dispatching_ = nullptr;
  }
  ready_.clear();
}

void EventLoop::ScheduleDeferred(DeferredCall* call) {
  call->LinkBefore(&deferred_);
}

void EventLoop::RunDeferredCalls() {
  if (deferred_.next == &deferred_) return;
  // Move the due calls to a local list first: calls scheduled while these
  // run join the loop's list and wait for the next iteration, so a call
  // that always reschedules itself cannot keep this phase going for ever.
  // A call cancelled or destroyed meanwhile unlinks itself from `batch`.
  internal::DeferredLink batch;
  batch.next = deferred_.next;
  batch.prev = deferred_.prev;
  batch.next->prev = &batch;
  batch.prev->next = &batch;
  deferred_.prev = deferred_.next = &deferred_;
  while (batch.next != &batch) {
    DeferredCall* call = static_cast<DeferredCall*>(batch.next);
    call->Unlink();
    running_deferred_ = call;
    call->callback_();
    running_deferred_ = nullptr;
  }
}

bool EventLoop::has_deferred_calls() const {
  AssertInLoopThread();
  return deferred_.next != &deferred_;
}

void EventLoop::RunPostedTasks() {
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    running_tasks_.swap(posted_);
  }
  // Tasks posted by these tasks land in posted_ and wait for the next
  // iteration, whose wait the Post's wake-up makes return at once.
  for (absl::AnyInvocable<void()>& task : running_tasks_) task();
  running_tasks_.clear();
}

void EventLoop::DestroyDoomed() {
  // A destructor may hand over more objects; keep going until none is left.
  while (!doomed_.empty()) {
    std::vector<absl::AnyInvocable<void()>> batch;
    batch.swap(doomed_);
    for (absl::AnyInvocable<void()>& destroy : batch) destroy();
  }
}

void EventLoop::Stop() {
  stop_requested_.store(true, std::memory_order_release);
  Wake();
}

void EventLoop::Post(absl::AnyInvocable<void()> task) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(posted_mutex_);
    was_empty = posted_.empty();
    posted_.push_back(std::move(task));
  }
  // One wake-up per batch: a non-empty queue already has one on its way.
  if (was_empty) Wake();
}

void EventLoop::Wake() {
  uint64_t one = 1;
  // EAGAIN means the counter is saturated, so the loop is already woken.
  ssize_t written;
  do {
    written = ::write(wake_fd_.get(), &one, sizeof(one));
  } while (written < 0 && errno == EINTR);
}

void EventLoop::DrainWake() {
  uint64_t count;
  ssize_t n;
  do {
    n = ::read(wake_fd_.get(), &count, sizeof(count));
  } while (n < 0 && errno == EINTR);
}

TimerId EventLoop::RunAfter(absl::Duration delay,
                            absl::AnyInvocable<void()> callback) {
  return RunAt(absl::Now() + delay, std::move(callback));
}

TimerId EventLoop::RunEvery(absl::Duration interval,
                            absl::AnyInvocable<void()> callback) {
  AssertInLoopThread();
  ASYNCWORK_CHECK(interval > absl::ZeroDuration())
      << "RunEvery needs a positive interval, got " << interval;
  return timers_.Add(absl::Now() + interval, interval, std::move(callback));
}

TimerId EventLoop::RunAt(absl::Time deadline,
                         absl::AnyInvocable<void()> callback) {
  AssertInLoopThread();
  return timers_.Add(deadline, absl::ZeroDuration(), std::move(callback));
}

bool EventLoop::Cancel(TimerId id) {
  AssertInLoopThread();
  return timers_.Cancel(id);
}

absl::Time EventLoop::Now() const {
  AssertInLoopThread();
  return now_;
}

size_t EventLoop::watch_count() const {
  AssertInLoopThread();
  return watch_count_;
}

size_t EventLoop::timer_count() const {
  AssertInLoopThread();
  return timers_.size();
}

uint64_t EventLoop::Register(IoWatch* watch) {
  uint32_t slot;
  if (free_watch_slots_.empty()) {
    slot = static_cast<uint32_t>(watch_slots_.size());
    watch_slots_.emplace_back();
  } else {
    slot = free_watch_slots_.back();
    free_watch_slots_.pop_back();
  }
  watch_slots_[slot].watch = watch;
  ++watch_count_;
  return (static_cast<uint64_t>(watch_slots_[slot].generation) << 32) | slot;
}

void EventLoop::Unregister(uint64_t token) {
  WatchSlot& entry = watch_slots_[static_cast<uint32_t>(token)];
  ASYNCWORK_CHECK(entry.generation == token >> 32 && entry.watch != nullptr)
      << "IoWatch token " << token << " unregistered twice";
  entry.watch = nullptr;
  // Retire the token: events already returned under it find no watch.
  if (++entry.generation == 0) entry.generation = 1;
  free_watch_slots_.push_back(static_cast<uint32_t>(token));
  --watch_count_;
}

IoWatch* EventLoop::FindWatch(uint64_t token) const {
  uint32_t slot = static_cast<uint32_t>(token);
  if (slot >= watch_slots_.size()) return nullptr;
  const WatchSlot& entry = watch_slots_[slot];
  return entry.generation == token >> 32 ? entry.watch : nullptr;
}

}  // namespace asyncwork::net
