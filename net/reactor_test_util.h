// reactor_test_util.h: real descriptors for the reactor's tests and
// benchmarks (testonly). It includes net/test_util.h, which holds the
// socket helpers and CountOpenFds.
//
// Each helper aborts through ASYNCWORK_CHECK if the kernel refuses, since a
// test cannot go on without its descriptors.
//
//   auto [read_end, write_end] = MakePipe();
//   WriteByte(write_end.get());      // read_end is now readable
//   int open = CountOpenFds();       // compare before and after to spot leaks
#ifndef ASYNCWORK_NET_REACTOR_TEST_UTIL_H_
#define ASYNCWORK_NET_REACTOR_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "net/event_loop.h"
#include "net/fd.h"
#include "net/test_util.h"

namespace asyncwork::net::testing {

// MakeLoop creates an EventLoop on `backend`.
std::unique_ptr<EventLoop> MakeLoop(Backend backend = Backend::kEpoll);

// MakePipe returns {read end, write end}, non-blocking and close-on-exec.
std::pair<Fd, Fd> MakePipe();

// MakeSocketPair returns two connected non-blocking Unix stream sockets.
std::pair<Fd, Fd> MakeSocketPair();

// MakeEventFd returns a non-blocking eventfd whose counter starts at
// `initial` (readable when non-zero; writable almost always).
Fd MakeEventFd(uint64_t initial = 0);

// WriteByte writes one byte to `fd` and checks it went in.
void WriteByte(int fd);

// ReadAll reads `fd` until it would block or hits end of file and returns
// how many bytes it read.
size_t ReadAll(int fd);

// RunUntil runs `loop` an iteration at a time until `done` is true (checked
// before each iteration) or `timeout` passes; returns whether `done` came
// true. Each wait is short, so a lost wake-up shows as a failure, not a hang.
bool RunUntil(EventLoop& loop, absl::FunctionRef<bool()> done,
              absl::Duration timeout = kGenerousTimeout);

}  // namespace asyncwork::net::testing

#endif  // ASYNCWORK_NET_REACTOR_TEST_UTIL_H_
