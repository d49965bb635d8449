// reactor_benchmark: what one EventLoop iteration costs on each backend.
//
//   tools/bazel run //benchmarks:reactor_benchmark
//   tools/bazel run //benchmarks:reactor_benchmark -- --benchmark_filter=Idle
//
// BM_IdleIteration/<backend>/N: one RunOnce(0) with N idle eventfds
//   registered for reading (none ready). epoll should be flat in N; poll and
//   select pass and scan every descriptor, so they grow with N. select stops
//   at FD_SETSIZE (1024). N that needs more descriptors than RLIMIT_NOFILE's
//   hard limit is reported as skipped, not faked.
// BM_BusyEventfd/<backend>: one always-readable eventfd (level-triggered):
//   the reactor's own overhead per dispatched event.
// BM_SocketPairPingPong/<backend>: one byte bouncing across a Unix socket
//   pair, each handler reading it and writing it back: events per second for
//   one busy connection, syscalls included.
// BM_TimerAddAndFire/N: N timers with random deadlines added, then all run.
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "net/event_loop.h"
#include "net/fd.h"
#include "net/io_watch.h"
#include "net/poller.h"
#include "net/reactor_test_util.h"
#include "net/timer_queue.h"

namespace asyncwork::net {
namespace {

using ::asyncwork::net::testing::MakeEventFd;
using ::asyncwork::net::testing::MakeSocketPair;

// Descriptors the process holds besides the benchmark's own: stdio, the
// loop's epoll fd and eventfd, and some slack.
constexpr rlim_t kSpareFds = 32;

rlim_t FdLimit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

// RaiseFdLimit lifts the soft descriptor limit to the hard one, so the idle
// benchmarks can register as many descriptors as this machine allows.
void RaiseFdLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

std::unique_ptr<EventLoop> MakeLoopOrSkip(benchmark::State& state, Backend backend) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(backend);
  if (!loop.ok()) {
    state.SkipWithError(loop.status().ToString().c_str());
    return nullptr;
  }
  return *std::move(loop);
}

// RunOneIteration runs RunOnce(0) and stops the benchmark on failure.
bool RunOneIteration(benchmark::State& state, EventLoop& loop) {
  absl::Status status = loop.RunOnce(absl::ZeroDuration());
  if (status.ok()) return true;
  state.SkipWithError(status.ToString().c_str());
  return false;
}

void BM_IdleIteration(benchmark::State& state, Backend backend) {
  const size_t n = static_cast<size_t>(state.range(0));
  if (n + kSpareFds > FdLimit()) {
    state.SkipWithError(absl::StrCat("needs ", n + kSpareFds,
                                     " descriptors; RLIMIT_NOFILE allows ", FdLimit())
                            .c_str());
    return;
  }
  std::unique_ptr<EventLoop> loop = MakeLoopOrSkip(state, backend);
  if (loop == nullptr) return;
  std::vector<Fd> fds;
  std::vector<std::unique_ptr<IoWatch>> watches;
  fds.reserve(n);
  watches.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    fds.push_back(MakeEventFd(0));  // counter 0: never readable
    watches.push_back(std::make_unique<IoWatch>(loop.get(), fds.back().get(),
                                                [](uint32_t) {}));
    if (absl::Status status = watches.back()->EnableReading(); !status.ok()) {
      state.SkipWithError(status.ToString().c_str());
      return;
    }
  }
  for (auto _ : state) {
    if (!RunOneIteration(state, *loop)) break;
  }
  state.counters["fds"] = static_cast<double>(n);
}

void BM_BusyEventfd(benchmark::State& state, Backend backend) {
  std::unique_ptr<EventLoop> loop = MakeLoopOrSkip(state, backend);
  if (loop == nullptr) return;
  Fd fd = MakeEventFd(1);  // never read, so level-triggered readiness stays
  int64_t events = 0;
  IoWatch watch(loop.get(), fd.get(), [&events](uint32_t) { ++events; });
  if (absl::Status status = watch.EnableReading(); !status.ok()) {
    state.SkipWithError(status.ToString().c_str());
    return;
  }
  for (auto _ : state) {
    if (!RunOneIteration(state, *loop)) break;
  }
  state.SetItemsProcessed(events);
}

void BM_SocketPairPingPong(benchmark::State& state, Backend backend) {
  std::unique_ptr<EventLoop> loop = MakeLoopOrSkip(state, backend);
  if (loop == nullptr) return;
  auto [left, right] = MakeSocketPair();
  int64_t events = 0;
  // Each handler takes the byte and sends it back the other way.
  auto bounce = [&events](int fd) {
    return [&events, fd](uint32_t) {
      char byte;
      if (::read(fd, &byte, 1) == 1 && ::write(fd, &byte, 1) == 1) ++events;
    };
  };
  IoWatch left_watch(loop.get(), left.get(), bounce(left.get()));
  IoWatch right_watch(loop.get(), right.get(), bounce(right.get()));
  if (!left_watch.EnableReading().ok() || !right_watch.EnableReading().ok()) {
    state.SkipWithError("cannot watch the socket pair");
    return;
  }
  char byte = 'p';
  if (::write(left.get(), &byte, 1) != 1) {
    state.SkipWithError("cannot start the ping");
    return;
  }
  for (auto _ : state) {
    if (!RunOneIteration(state, *loop)) break;
  }
  state.SetItemsProcessed(events);
}

void BM_TimerAddAndFire(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::mt19937 random(1);
  std::uniform_int_distribution<int> offset_us(0, 1000000);
  std::vector<absl::Duration> offsets;
  for (int i = 0; i < n; ++i) offsets.push_back(absl::Microseconds(offset_us(random)));
  const absl::Time start = absl::UnixEpoch();
  int64_t fired = 0;
  for (auto _ : state) {
    TimerQueue timers;
    for (absl::Duration offset : offsets) {
      timers.Add(start + offset, absl::ZeroDuration(), [&fired] { ++fired; });
    }
    timers.RunDue(start + absl::Seconds(2));
  }
  state.SetItemsProcessed(fired);
}

void RegisterBenchmarks() {
  for (Backend backend : kAllBackends) {
    std::string name(BackendName(backend));
    benchmark::internal::Benchmark* idle = benchmark::RegisterBenchmark(
        ("BM_IdleIteration/" + name).c_str(), BM_IdleIteration, backend);
    // select cannot hold descriptors at or above FD_SETSIZE (1024).
    int64_t max_n = backend == Backend::kSelect ? 1000 : 100000;
    for (int64_t n = 10; n <= max_n; n *= 10) idle->Arg(n);
    benchmark::RegisterBenchmark(("BM_BusyEventfd/" + name).c_str(), BM_BusyEventfd,
                                 backend);
    benchmark::RegisterBenchmark(("BM_SocketPairPingPong/" + name).c_str(),
                                 BM_SocketPairPingPong, backend);
  }
  benchmark::RegisterBenchmark("BM_TimerAddAndFire", BM_TimerAddAndFire)
      ->Arg(1000)
      ->Arg(10000)
      ->Arg(100000);
}

}  // namespace
}  // namespace asyncwork::net

int main(int argc, char** argv) {
  asyncwork::net::RaiseFdLimit();
  benchmark::AddCustomContext("RLIMIT_NOFILE",
                              std::to_string(asyncwork::net::FdLimit()));
  asyncwork::net::RegisterBenchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
