// loop_thread.h: LoopThread, an EventLoop running on a thread of its own.
//
// Blocking code cannot run a reactor, yet its shaped connections need one to
// deliver bytes on time. A LoopThread owns one EventLoop and the one thread
// that runs it; everything that needs the loop (a process's shaped links,
// the shaping proxy in tests) shares that thread instead of starting a
// thread per socket.
//
//   absl::StatusOr<std::unique_ptr<LoopThread>> thread = LoopThread::Start();
//   if (!thread.ok()) return thread.status();
//   (*thread)->RunAndWait([&] { relays.Start(std::move(relay)); });
//   ...
//   (*thread)->Stop();   // joins; the loop may now be used by this thread
//
// Threads: Start, Stop and the destructor are for the owning thread.
// RunAndWait and loop() may be called from any thread.
#ifndef ASYNCWORK_SIM_LOOP_THREAD_H_
#define ASYNCWORK_SIM_LOOP_THREAD_H_

#include <memory>
#include <thread>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "net/event_loop.h"

namespace asyncwork::sim {

class LoopThread {
  struct Key {
    explicit Key() = default;
  };

 public:
  // Start creates an epoll EventLoop and a thread that runs it until Stop.
  static absl::StatusOr<std::unique_ptr<LoopThread>> Start();

  // Use Start; the Key keeps this constructor private to it.
  LoopThread(Key, std::unique_ptr<net::EventLoop> loop);

  // ~LoopThread stops and joins the thread (if Stop was not called), then
  // destroys the loop, whose IoWatches must all be gone by then: destroy
  // loop-bound objects with RunAndWait first, or after Stop.
  ~LoopThread();

  LoopThread(const LoopThread&) = delete;
  LoopThread& operator=(const LoopThread&) = delete;

  // loop is the running loop (owned by this LoopThread). Any thread may Post
  // to it; loop-thread methods need RunAndWait while it runs.
  net::EventLoop* loop() const { return loop_.get(); }

  // RunAndWait runs `task` on the loop thread and returns once it has run.
  // On the loop thread itself (from a callback), or after Stop, it runs
  // `task` at once. Must not be called from a thread the task waits for.
  void RunAndWait(absl::AnyInvocable<void()> task);

  // Stop ends the loop's Run and joins the thread. After Stop, the calling
  // thread may use every loop-thread method of loop(). Idempotent.
  void Stop();

 private:
  std::unique_ptr<net::EventLoop> loop_;
  std::thread thread_;
};

}  // namespace asyncwork::sim

#endif  // ASYNCWORK_SIM_LOOP_THREAD_H_
