// concurrency.h: how a socketserver-style server runs its requests —
// socketserver's mix-ins, as policy objects.
//
// The server's serving thread accepts a connection (or receives a datagram)
// and hands the policy a Task that serves it completely. The policy decides
// where the task runs:
//
//   SynchronousPolicy  on the serving thread, one request at a time
//                      (socketserver's plain TCPServer).
//   ThreadingPolicy    a new thread per request (ThreadingMixIn), at most
//                      max_threads at once.
//   ForkingPolicy      a new child process per request (ForkingMixIn), at
//                      most max_children at once.
//   ThreadPoolPolicy   a fixed pool of threads and a bounded queue: the
//                      sensible production choice of the four.
//
//   auto server = StreamServer::Create(
//       address, MakeWorkStreamHandler,
//       std::make_unique<ThreadingPolicy>(ThreadingPolicy::Options{
//           .max_threads = 64}),
//       ServerConfig{});
//
// Bounds work by back-pressure: while a policy has no capacity
// (HasCapacity() is false), the server stops accepting, so new connections
// wait in the kernel's listen queue; the policy wakes the server when
// capacity frees up.
//
// Closing: ServerClose (and a server's destructor) calls Close. With
// block_on_close (the default, as in socketserver) Close waits until every
// running request has finished; without it Close returns at once. The
// policy's destructor always waits, because a policy owns its threads and
// children and none may outlive it (a C++ thread cannot safely outlive the
// objects it uses). So daemon_threads, which in Python lets the interpreter
// exit while handlers run, here means exactly what it does to server_close:
// it is not waited for there. ServerClose then returns; destroying the
// server still waits, bounded by the handlers' own deadlines.
//
// Threads: every method is for the serving thread, except the hooks the
// policy calls (PolicyHooks), which may run on any thread.
#ifndef ASYNCWORK_SERVER_CONCURRENCY_H_
#define ASYNCWORK_SERVER_CONCURRENCY_H_

#include <poll.h>
#include <sys/types.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "absl/time/time.h"
#include "net/fd.h"

namespace asyncwork::server {

// Task serves one request completely and reports its own errors.
using Task = absl::AnyInvocable<void()>;

// PolicyHooks are what a server gives its policy.
struct PolicyHooks {
  // wake wakes the serving thread's wait. Called on any thread.
  std::function<void()> wake;
};

class ConcurrencyPolicy {
 public:
  virtual ~ConcurrencyPolicy() = default;

  // name is "synchronous", "threading", "forking" or "pool".
  virtual absl::string_view name() const = 0;

  // Attach receives the server's hooks, once, before the first Process.
  void Attach(PolicyHooks hooks) { hooks_ = std::move(hooks); }

  // Process runs `task` now or elsewhere. Called only while HasCapacity().
  // `task_fds` lists the descriptors the task uses: a forked child keeps
  // those (and 0, 1, 2) and closes every other one it inherited.
  virtual void Process(Task task, absl::Span<const int> task_fds) = 0;

  // HasCapacity is false while one more task would exceed the bound.
  virtual bool HasCapacity() const { return true; }

  // active counts requests running or queued.
  virtual size_t active() const = 0;

  // block_on_close says whether Close(…) from ServerClose waits.
  virtual bool block_on_close() const { return true; }

  // AppendPollFds adds descriptors the serving thread's wait should watch
  // for this policy (children's pidfds); ServiceActions runs after each
  // wait. MaxWait caps the wait when the policy must look periodically.
  virtual void AppendPollFds(std::vector<struct pollfd>* fds) const {}
  virtual void ServiceActions() {}
  virtual absl::Duration MaxWait() const { return absl::InfiniteDuration(); }

  // Close takes no more tasks; with `wait`, it returns once every task has
  // finished. Idempotent.
  virtual void Close(bool wait) = 0;

 protected:
  // Wake calls hooks_.wake if set. Any thread.
  void Wake() const;

  PolicyHooks hooks_;
};

// SynchronousPolicy runs each task on the serving thread.
class SynchronousPolicy : public ConcurrencyPolicy {
 public:
  absl::string_view name() const override { return "synchronous"; }
  void Process(Task task, absl::Span<const int> task_fds) override {
    task();
  }
  size_t active() const override { return 0; }
  void Close(bool wait) override {}
};

// ThreadingPolicy runs each task on a thread of its own, at most
// max_threads at once. Finished threads are joined by the serving thread
// after each wait, so the record of them never grows past max_threads.
class ThreadingPolicy : public ConcurrencyPolicy {
 public:
  struct Options {
    // daemon_threads: ServerClose does not wait for handler threads.
    bool daemon_threads = false;
    // block_on_close: ServerClose waits for handler threads (unless
    // daemon_threads), as socketserver's ThreadingMixIn does.
    bool block_on_close = true;
    // max_threads bounds the threads running at once (at least 1).
    int max_threads = 256;
  };

  ThreadingPolicy() : ThreadingPolicy(Options{}) {}
  explicit ThreadingPolicy(const Options& options);
  ~ThreadingPolicy() override;

  absl::string_view name() const override { return "threading"; }
  void Process(Task task, absl::Span<const int> task_fds) override;
  bool HasCapacity() const override;
  size_t active() const override;
  bool block_on_close() const override {
    return options_.block_on_close && !options_.daemon_threads;
  }
  void ServiceActions() override { JoinFinished(); }
  void Close(bool wait) override;

  // threads_held counts thread objects not yet joined (running or
  // finished): never more than max_threads. For tests.
  size_t threads_held() const;

 private:
  void JoinFinished();
  void WaitAll();

  const Options options_;
  // std::mutex rather than absl::Mutex: Debian's Abseil is not built with
  // ThreadSanitizer, which then cannot see absl::Mutex synchronise.
  mutable std::mutex mutex_;
  std::condition_variable all_done_;
  uint64_t next_id_ = 0;
  std::map<uint64_t, std::thread> threads_;
  std::vector<uint64_t> finished_;
  size_t running_ = 0;
};

// ThreadPoolPolicy runs tasks on pool_size threads started up front. Tasks
// wait in a queue of at most max_queued; while the pool is busy and the
// queue full, the server stops accepting. A connection holds its thread
// until it closes, so pool_size bounds the connections served at once.
class ThreadPoolPolicy : public ConcurrencyPolicy {
 public:
  struct Options {
    int pool_size = 16;
    // max_queued: tasks waiting for a thread; 0 means pool_size.
    int max_queued = 0;
    bool block_on_close = true;
  };

  ThreadPoolPolicy() : ThreadPoolPolicy(Options{}) {}
  explicit ThreadPoolPolicy(const Options& options);
  ~ThreadPoolPolicy() override;

  absl::string_view name() const override { return "pool"; }
  void Process(Task task, absl::Span<const int> task_fds) override;
  bool HasCapacity() const override;
  size_t active() const override;
  bool block_on_close() const override { return options_.block_on_close; }
  void Close(bool wait) override;

 private:
  void Work();
  void StopAndJoin();

  const Options options_;
  const size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable has_work_;
  std::deque<Task> queue_;
  size_t busy_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

// ForkingPolicy runs each task in a child process made by fork(2), at most
// max_children at once, and reaps only its own children: each by its pid
// (never waitpid(-1), which would steal other code's children), as soon as
// it exits, watched through a pidfd (pidfd_open(2)) in the serving thread's
// wait. A child left over at Close or destruction is waited for, so none is
// ever left a zombie; with kill_after set, only for that long, after which
// the children still running are killed (SIGKILL) and reaped, so a child
// that cannot end (stuck in a lock it inherited, or ignoring the abort)
// cannot hang the server's shutdown.
//
// The child closes every descriptor it inherited except 0, 1, 2 and the
// task's own (Process's `task_fds`): it must not hold the listening socket
// (a closed server would still queue connections nobody accepts), nor other
// connections or client sockets of the same process (their peers would
// never see end of stream).
//
// The usual caveats of fork(2) in a process with other threads apply: the
// child has only the forking thread, and any lock another thread held at
// the fork stays locked in the child. The child therefore runs only the
// task (blocking I/O and framing), logs with single write(2) calls, and
// leaves with _exit(2), never running exit handlers or destructors. State a
// handler changes in a child is lost with the child: the parent never sees
// it (see forking_policy's test).
class ForkingPolicy : public ConcurrencyPolicy {
 public:
  struct Options {
    bool block_on_close = true;
    // max_children bounds the children alive at once (at least 1).
    int max_children = 64;
    // kill_after bounds a waiting Close (and the destructor): children still
    // running this long after it began are killed. Infinite waits for them.
    absl::Duration kill_after = absl::InfiniteDuration();
  };

  ForkingPolicy() : ForkingPolicy(Options{}) {}
  explicit ForkingPolicy(const Options& options);
  ~ForkingPolicy() override;

  absl::string_view name() const override { return "forking"; }
  void Process(Task task, absl::Span<const int> task_fds) override;
  bool HasCapacity() const override;
  size_t active() const override { return children_.size(); }
  bool block_on_close() const override { return options_.block_on_close; }
  void AppendPollFds(std::vector<struct pollfd>* fds) const override;
  void ServiceActions() override { Reap(/*block=*/false); }
  absl::Duration MaxWait() const override;
  void Close(bool wait) override { Reap(/*block=*/wait); }

  // child_pids lists the children not yet reaped. For tests.
  std::vector<pid_t> child_pids() const;

 private:
  struct Child {
    pid_t pid;
    net::Fd pidfd;  // invalid when pidfd_open failed: then polled on a timer
  };

  // ReapExited collects every child that has exited; with `block`, waits
  // for all.
  void ReapExited(bool block);
  // Reap is ReapExited, except that a blocking reap waits kill_after at
  // most and then kills the children left.
  void Reap(bool block);

  const Options options_;
  std::vector<Child> children_;
};

}  // namespace asyncwork::server

#endif  // ASYNCWORK_SERVER_CONCURRENCY_H_
