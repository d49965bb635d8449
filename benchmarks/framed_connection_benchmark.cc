// framed_connection_benchmark: frames per second through FramedConnection.
//
//   tools/bazel run //benchmarks:framed_connection_benchmark
//
// BM_FramedEcho/W: two FramedConnections on one EventLoop, joined by a Unix
//   socket pair. The client keeps W frames of 64-byte bodies in flight
//   (pipelining): each echo it receives is answered with a new frame. The
//   server echoes every frame. One benchmark iteration is one RunOnce(0);
//   items_per_second is echoes (round trips) per second, and the counters
//   show how many frames each write syscall carried on each side, which is
//   what batching a burst into one writev buys. Rates are per CPU second
//   (Google Benchmark's default; syscalls included), which stays comparable
//   on a shared machine; the Time column gives the wall-clock view.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "net/event_loop.h"
#include "net/framed_connection.h"
#include "net/socket.h"

namespace asyncwork::net {
namespace {

constexpr size_t kBodySize = 64;

void BM_FramedEcho(benchmark::State& state) {
  const int64_t window = state.range(0);
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(Transport::kUnixStream);
  if (!loop.ok() || !pair.ok()) {
    state.SkipWithError(
        (loop.ok() ? pair.status() : loop.status()).ToString().c_str());
    return;
  }
  const std::string body(kBodySize, 'e');
  int64_t echoes = 0;
  bool failed = false;
  std::unique_ptr<FramedConnection> server;
  std::unique_ptr<FramedConnection> client;

  FramedConnection::Callbacks server_callbacks;
  server_callbacks.on_frame = [&server](absl::string_view frame) {
    server->SendFrame(frame);
  };
  server_callbacks.on_close = [&failed](const absl::Status&) { failed = true; };
  FramedConnection::Callbacks client_callbacks;
  client_callbacks.on_frame = [&](absl::string_view frame) {
    ++echoes;
    client->SendFrame(body);
  };
  client_callbacks.on_close = [&failed](const absl::Status&) { failed = true; };
  server = std::make_unique<FramedConnection>(
      loop->get(), std::move(pair->first), FramedConnection::Options(),
      std::move(server_callbacks));
  client = std::make_unique<FramedConnection>(
      loop->get(), std::move(pair->second), FramedConnection::Options(),
      std::move(client_callbacks));
  if (absl::Status started = server->Start(); !started.ok()) {
    state.SkipWithError(started.ToString().c_str());
    return;
  }
  if (absl::Status started = client->Start(); !started.ok()) {
    state.SkipWithError(started.ToString().c_str());
    return;
  }
  for (int64_t i = 0; i < window; ++i) client->SendFrame(body);

  for (auto _ : state) {
    if (absl::Status ran = (*loop)->RunOnce(absl::ZeroDuration()); !ran.ok()) {
      state.SkipWithError(ran.ToString().c_str());
      break;
    }
    if (failed) {
      state.SkipWithError("a connection closed");
      break;
    }
  }
  state.SetItemsProcessed(echoes);
  auto per_write = [](const FramedConnection& side) {
    return side.write_syscalls() == 0
               ? 0.0
               : static_cast<double>(side.frames_sent()) /
                     static_cast<double>(side.write_syscalls());
  };
  state.counters["server_frames_per_write"] = per_write(*server);
  state.counters["client_frames_per_write"] = per_write(*client);
  state.counters["window"] = static_cast<double>(window);
  client.reset();
  server.reset();
}

BENCHMARK(BM_FramedEcho)->Arg(1)->Arg(16)->Arg(256)->Arg(4096);

}  // namespace
}  // namespace asyncwork::net

BENCHMARK_MAIN();
