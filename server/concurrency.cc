#include "server/concurrency.h"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "net/check.h"
#include "net/log.h"

namespace asyncwork::server {
namespace {

// kReapInterval is how often children are polled when a pidfd could not be
// opened for one of them (an old kernel, or no descriptors left).
constexpr absl::Duration kReapInterval = absl::Milliseconds(50);

// CloseAllExcept closes every descriptor above 2 that is not in `keep`, with
// close_range(2) over the gaps: async-signal-safe, as a forked child of a
// threaded process requires (no allocation).
void CloseAllExcept(absl::Span<const int> keep) {
  constexpr size_t kMaxKept = 16;
  int sorted[kMaxKept];
  size_t count = 0;
  for (int fd : keep) {
    if (fd > 2 && count < kMaxKept) sorted[count++] = fd;
  }
  std::sort(sorted, sorted + count);
  unsigned int next = 3;
  for (size_t i = 0; i < count; ++i) {
    unsigned int fd = static_cast<unsigned int>(sorted[i]);
    if (fd > next) ::close_range(next, fd - 1, 0);
    next = std::max(next, fd + 1);
  }
  ::close_range(next, ~0u, 0);
}

}  // namespace

void ConcurrencyPolicy::Wake() const {
  if (hooks_.wake) hooks_.wake();
}

ThreadingPolicy::ThreadingPolicy(const Options& options) : options_(options) {
  ASYNCWORK_CHECK(options.max_threads >= 1) << "max_threads must be >= 1";
}

ThreadingPolicy::~ThreadingPolicy() { WaitAll(); }

void ThreadingPolicy::Process(Task task, absl::Span<const int> task_fds) {
  JoinFinished();
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t id = next_id_++;
  // The lock is held while the thread is created and recorded, so the
  // thread cannot report itself finished before it is in threads_.
  try {
    threads_.emplace(id, std::thread([this, id, task = std::move(task)]() mutable {
      task();
      task = nullptr;  // release what it owned before reporting done
      {
        std::lock_guard<std::mutex> done_lock(mutex_);
        finished_.push_back(id);
        --running_;
      }
      all_done_.notify_all();
      Wake();
    }));
  } catch (const std::system_error& error) {
    // No thread to be had (EAGAIN): the task is dropped with its connection.
    net::LogError(absl::StrCat("threading: cannot start a handler thread: ",
                               error.what()));
    return;
  }
  ++running_;
}

bool ThreadingPolicy::HasCapacity() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_ < static_cast<size_t>(options_.max_threads);
}

size_t ThreadingPolicy::active() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return running_;
}

size_t ThreadingPolicy::threads_held() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_.size();
}

void ThreadingPolicy::JoinFinished() {
  std::vector<std::thread> done;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (uint64_t id : finished_) {
      auto it = threads_.find(id);
      done.push_back(std::move(it->second));
      threads_.erase(it);
    }
    finished_.clear();
  }
  for (std::thread& thread : done) thread.join();
}

void ThreadingPolicy::WaitAll() {
  std::map<uint64_t, std::thread> all;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    all_done_.wait(lock, [this] { return running_ == 0; });
    all.swap(threads_);
    finished_.clear();
  }
  for (auto& [id, thread] : all) thread.join();
}

void ThreadingPolicy::Close(bool wait) {
  if (wait) {
    WaitAll();
  } else {
    JoinFinished();
  }
}

ThreadPoolPolicy::ThreadPoolPolicy(const Options& options)
    : options_(options),
      max_queued_(options.max_queued > 0 ? options.max_queued
                                         : options.pool_size) {
  ASYNCWORK_CHECK(options.pool_size >= 1) << "pool_size must be >= 1";
  workers_.reserve(options.pool_size);
  for (int i = 0; i < options.pool_size; ++i) {
    workers_.emplace_back([this] { Work(); });
  }
}

ThreadPoolPolicy::~ThreadPoolPolicy() { StopAndJoin(); }

void ThreadPoolPolicy::Work() {
  while (true) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      has_work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      // Stopping still serves what was queued: those connections were
      // accepted and are owed service.
      if (queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    task();
    task = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --busy_;
    }
    Wake();
  }
}

void ThreadPoolPolicy::Process(Task task,
                               absl::Span<const int> task_fds) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(task));
  }
  has_work_.notify_one();
}

bool ThreadPoolPolicy::HasCapacity() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return busy_ + queue_.size() <
         static_cast<size_t>(options_.pool_size) + max_queued_;
}

size_t ThreadPoolPolicy::active() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return busy_ + queue_.size();
}

void ThreadPoolPolicy::StopAndJoin() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  has_work_.notify_all();
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

void ThreadPoolPolicy::Close(bool wait) {
  if (wait) StopAndJoin();
}

ForkingPolicy::ForkingPolicy(const Options& options) : options_(options) {
  ASYNCWORK_CHECK(options.max_children >= 1) << "max_children must be >= 1";
}

ForkingPolicy::~ForkingPolicy() { Reap(/*block=*/true); }

void ForkingPolicy::Process(Task task, absl::Span<const int> task_fds) {
  pid_t pid = ::fork();
  if (pid < 0) {
    net::LogError(absl::StrCat("forking: fork: ", std::strerror(errno),
                               "; the request is dropped"));
    return;
  }
  if (pid == 0) {
    CloseAllExcept(task_fds);
    task();
    // No exit handlers, no destructors: they belong to the parent.
    ::_exit(0);
  }
  // The parent's copy of the task (and of its connection) goes when this
  // returns; the child has its own.
  // Through syscall(2): glibc 2.36's <sys/pidfd.h> lacks C linkage for C++.
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    net::LogWarning(absl::StrCat("forking: pidfd_open: ", std::strerror(errno),
                                 "; child ", pid, " is polled instead"));
  }
  children_.push_back(Child{pid, net::Fd(pidfd)});
}

bool ForkingPolicy::HasCapacity() const {
  return children_.size() < static_cast<size_t>(options_.max_children);
}

void ForkingPolicy::AppendPollFds(std::vector<struct pollfd>* fds) const {
  for (const Child& child : children_) {
    if (child.pidfd.valid()) fds->push_back({child.pidfd.get(), POLLIN, 0});
  }
}

absl::Duration ForkingPolicy::MaxWait() const {
  for (const Child& child : children_) {
    if (!child.pidfd.valid()) return kReapInterval;
  }
  return absl::InfiniteDuration();
}

std::vector<pid_t> ForkingPolicy::child_pids() const {
  std::vector<pid_t> pids;
  for (const Child& child : children_) pids.push_back(child.pid);
  return pids;
}

void ForkingPolicy::Reap(bool block) {
  if (!block || options_.kill_after == absl::InfiniteDuration()) {
    ReapExited(block);
    return;
  }
  absl::Time kill_at = absl::Now() + options_.kill_after;
  while (true) {
    ReapExited(/*block=*/false);
    if (children_.empty()) return;
    absl::Time now = absl::Now();
    if (now >= kill_at) break;
    absl::SleepFor(std::min(kReapInterval, kill_at - now));
  }
  for (const Child& child : children_) {
    net::LogWarning(absl::StrCat("forking: child ", child.pid,
                                 " still running ",
                                 absl::FormatDuration(options_.kill_after),
                                 " after close; killing it"));
    ::kill(child.pid, SIGKILL);
  }
  // A killed child ends at once, so this wait is short.
  ReapExited(/*block=*/true);
}

void ForkingPolicy::ReapExited(bool block) {
  for (auto it = children_.begin(); it != children_.end();) {
    int status = 0;
    pid_t reaped;
    do {
      reaped = ::waitpid(it->pid, &status, block ? 0 : WNOHANG);
    } while (reaped < 0 && errno == EINTR);
    if (reaped == 0) {
      ++it;
      continue;
    }
    if (reaped < 0) {
      // ECHILD: someone else reaped our child (a waitpid(-1) elsewhere).
      net::LogWarning(absl::StrCat("forking: waitpid ", it->pid, ": ",
                                   std::strerror(errno)));
    } else if (WIFSIGNALED(status)) {
      net::LogWarning(absl::StrCat("forking: child ", it->pid,
                                   " killed by signal ", WTERMSIG(status)));
    }
    it = children_.erase(it);
  }
}

}  // namespace asyncwork::server
