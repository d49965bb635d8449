// task.h: Task, a minimal C++20 coroutine type for code on the EventLoop,
// and SleepUntil, an awaitable that resumes a coroutine from a loop timer.
//
// A Task is lazy: creating one runs nothing. Start() runs it up to its first
// suspension; after that it is resumed by whatever it awaits (a loop timer,
// a response arriving), always on the loop thread. Another coroutine may
// instead `co_await` a Task, which starts it and resumes the awaiting
// coroutine when it finishes.
//
//   Task Worker(net::EventLoop* loop, int* ticks) {
//     for (int i = 0; i < 3; ++i) {
//       co_await SleepUntil(loop, absl::Now() + absl::Milliseconds(10));
//       ++*ticks;
//     }
//   }
//   Task worker = Worker(loop, &ticks);
//   worker.Start();
//   ... run the loop until worker.done() ...
//
// Ownership: the Task owns the coroutine frame and destroys it with itself,
// finished or not. Destroying a Task that is suspended is safe only if
// nothing will resume it later: destroy Tasks after the loop has stopped and
// the objects they wait on (which must never resume them from their
// destructors) are gone, or once done(). Exceptions are not used; one
// escaping a coroutine terminates the process.
//
// Threads: loop thread only, like everything that runs on the loop.
#ifndef ASYNCWORK_CLIENTS_TASK_H_
#define ASYNCWORK_CLIENTS_TASK_H_

#include <coroutine>
#include <exception>
#include <utility>

#include "absl/time/time.h"
#include "net/event_loop.h"

namespace asyncwork::clients {

class Task {
 public:
  class promise_type {
   public:
    Task get_return_object() noexcept {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    // At its end a Task hands control straight to the coroutine awaiting it
    // (symmetric transfer, no recursion) and otherwise stays suspended for
    // its owner to destroy.
    auto final_suspend() noexcept {
      struct FinalAwaiter {
        bool await_ready() noexcept { return false; }
        std::coroutine_handle<> await_suspend(
            std::coroutine_handle<promise_type> self) noexcept {
          std::coroutine_handle<> next = self.promise().continuation_;
          return next ? next : std::noop_coroutine();
        }
        void await_resume() noexcept {}
      };
      return FinalAwaiter{};
    }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }

   private:
    friend class Task;
    std::coroutine_handle<> continuation_;
  };

  Task() = default;
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      Reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { Reset(); }

  // Start runs the task until it first suspends or finishes. Call it once,
  // and not on a Task that is being awaited.
  void Start() { handle_.resume(); }

  // done returns whether the coroutine has finished (true for an empty
  // Task).
  bool done() const { return !handle_ || handle_.done(); }

  // co_await task starts `task` and resumes the awaiting coroutine when it
  // finishes. The Task must stay alive (and not be Started) meanwhile.
  auto operator co_await() & noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> task;
      bool await_ready() noexcept { return !task || task.done(); }
      std::coroutine_handle<> await_suspend(
          std::coroutine_handle<> awaiting) noexcept {
        task.promise().continuation_ = awaiting;
        return task;
      }
      void await_resume() noexcept {}
    };
    return Awaiter{handle_};
  }

 private:
  explicit Task(std::coroutine_handle<promise_type> handle) : handle_(handle) {}

  void Reset() {
    if (handle_) handle_.destroy();
    handle_ = {};
  }

  std::coroutine_handle<promise_type> handle_;
};

// SleepUntil returns an awaitable that resumes the awaiting coroutine from
// `loop`'s timers at `when` (at once, without suspending, if `when` has
// passed). `loop` is not owned and must outlive the wait.
inline auto SleepUntil(net::EventLoop* loop, absl::Time when) {
  struct SleepAwaiter {
    net::EventLoop* loop;
    absl::Time when;
    bool await_ready() const { return when <= absl::Now(); }
    void await_suspend(std::coroutine_handle<> awaiting) {
      loop->RunAt(when, [awaiting] { awaiting.resume(); });
    }
    void await_resume() noexcept {}
  };
  return SleepAwaiter{loop, when};
}

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_TASK_H_
