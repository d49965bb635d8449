// check.h: the one way asyncwork reports a broken invariant.
//
// A broken invariant (a loop entry point called off the loop thread, a double
// registration, a descriptor closed twice) is a bug, never an environmental
// error, so it aborts with the failed condition and where it failed. Errors
// the environment can cause travel as absl::Status instead.
//
//   ASYNCWORK_CHECK(loop_thread_ == std::this_thread::get_id())
//       << "EventLoop::Run called off its thread";
#ifndef ASYNCWORK_NET_CHECK_H_
#define ASYNCWORK_NET_CHECK_H_

#include <sstream>

namespace asyncwork::internal {

// CheckFailure collects an optional message and aborts when destroyed.
class CheckFailure {
 public:
  CheckFailure(const char* condition, const char* file, int line);
  [[noreturn]] ~CheckFailure();
  CheckFailure(const CheckFailure&) = delete;
  CheckFailure& operator=(const CheckFailure&) = delete;

  template <typename T>
  CheckFailure& operator<<(const T& value) {
    message_ << value;
    return *this;
  }

 private:
  const char* condition_;
  const char* file_;
  int line_;
  std::ostringstream message_;
};

// Voidify lets the macro below be an expression of type void in both arms.
struct Voidify {
  void operator&(const CheckFailure&) {}
};

}  // namespace asyncwork::internal

// ASYNCWORK_CHECK(condition) << "optional message": aborts when false.
#define ASYNCWORK_CHECK(condition)                                       \
  (condition) ? (void)0                                                  \
              : ::asyncwork::internal::Voidify() &                       \
                    ::asyncwork::internal::CheckFailure(#condition,      \
                                                        __FILE__, __LINE__)

#endif  // ASYNCWORK_NET_CHECK_H_
