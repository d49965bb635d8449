// sim_benchmark: how fast the shaping models decide, and how exact they are.
//
// The models run once per write (or datagram) on the thread that sends, so
// their cost is added to every shaped send. The *Accuracy benchmarks report,
// as counters, what the accuracy figures come to in the model itself,
// before any socket or timer adds its own error:
//
//   tools/bazel run -c opt //benchmarks:sim_benchmark
//   tools/bazel run //benchmarks:sim_benchmark -- --benchmark_filter=Accuracy
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "sim/datagram_model.h"
#include "sim/delivery_queue.h"
#include "sim/link_model.h"
#include "sim/units.h"

namespace asyncwork::sim {
namespace {

// A fixed clock: the models never read one, and neither does the benchmark.
const absl::Time kStart = absl::FromUnixSeconds(1'000'000);
const Bandwidth kTenMbit = Bandwidth::BitsPerSecond(10'000'000);

LinkConfig TenMbitLink(absl::Duration jitter) {
  LinkConfig config;
  config.latency = absl::Milliseconds(50);
  config.jitter = jitter;
  config.bandwidth = kTenMbit;
  return config;
}

// SendEvery times `send(now)`, once per iteration, with the clock moved on
// by `step` each time; items are sends.
template <typename Send>
void SendEvery(benchmark::State& state, absl::Duration step, Send send) {
  absl::Time now = kStart;
  for (auto _ : state) {
    now += step;
    benchmark::DoNotOptimize(send(now));
  }
  state.SetItemsProcessed(state.iterations());
}

// BM_LinkSchedule: one Schedule call per 100-byte write on a 10 mbit link,
// with or without jitter (range(0) is the jitter in microseconds).
void BM_LinkSchedule(benchmark::State& state) {
  LinkDirection link(TenMbitLink(absl::Microseconds(state.range(0))));
  SendEvery(state, absl::Microseconds(80),
            [&](absl::Time now) { return link.Schedule(now, 100); });
}
BENCHMARK(BM_LinkSchedule)->Arg(0)->Arg(5000);

// BM_LinkScheduleUncapped: latency only, the cheapest path.
void BM_LinkScheduleUncapped(benchmark::State& state) {
  LinkConfig config;
  config.latency = absl::Milliseconds(50);
  LinkDirection link(config);
  SendEvery(state, absl::Microseconds(1),
            [&](absl::Time now) { return link.Schedule(now, 100); });
}
BENCHMARK(BM_LinkScheduleUncapped);

// BM_LinkScheduleChunks: a 64 KiB write cut into TCP-sized segments, into a
// reused vector; items are segments.
void BM_LinkScheduleChunks(benchmark::State& state) {
  constexpr size_t kWrite = 64 * 1024;
  LinkDirection link(TenMbitLink(absl::ZeroDuration()));
  std::vector<Segment> segments;
  absl::Time now = kStart;
  for (auto _ : state) {
    segments.clear();
    link.ScheduleChunks(now, kWrite, kDefaultSegmentBytes, &segments);
    now = link.idle_at();
    benchmark::DoNotOptimize(segments.data());
  }
  state.SetItemsProcessed(state.iterations() *
                          static_cast<int64_t>(segments.size()));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kWrite));
}
BENCHMARK(BM_LinkScheduleChunks);

// BM_DatagramOnSend: loss, duplication and reordering all drawn per
// datagram.
void BM_DatagramOnSend(benchmark::State& state) {
  DatagramConfig config;
  config.link = TenMbitLink(absl::Microseconds(500));
  config.loss = 0.01;
  config.duplicate = 0.01;
  config.reorder = 0.01;
  config.reorder_delay = absl::Milliseconds(1);
  DatagramDirection direction(config);
  SendEvery(state, absl::Microseconds(1000),
            [&](absl::Time now) { return direction.OnSend(now, 1200); });
}
BENCHMARK(BM_DatagramOnSend);

// BM_DeliveryQueue: push range(0) 1 KiB chunks with rising due times, then
// drain them; items are chunks through the queue.
void BM_DeliveryQueue(benchmark::State& state) {
  const int64_t count = state.range(0);
  const std::string chunk(1024, 'x');
  DeliveryQueue<std::string> queue;
  size_t delivered = 0;
  for (auto _ : state) {
    for (int64_t i = 0; i < count; ++i) {
      queue.Push(kStart + absl::Microseconds(i), chunk);
    }
    delivered += queue.PopDue(absl::InfiniteFuture(),
                              [](absl::Time, std::string bytes) {
                                benchmark::DoNotOptimize(bytes.data());
                              });
  }
  state.SetItemsProcessed(static_cast<int64_t>(delivered));
}
BENCHMARK(BM_DeliveryQueue)->Arg(64)->Arg(4096);

// BM_ThroughputAccuracy: a 4 MiB transfer over 10 mbit in TCP-sized
// segments. Counter error_ppm is how far the model's delivered rate is from
// the cap, in parts per million (the issue allows 3%, 30,000 ppm).
void BM_ThroughputAccuracy(benchmark::State& state) {
  constexpr size_t kTotal = 4 * 1024 * 1024;
  double error_ppm = 0;
  for (auto _ : state) {
    LinkDirection link(TenMbitLink(absl::ZeroDuration()));
    std::vector<Segment> segments = link.ScheduleChunks(kStart, kTotal);
    absl::Duration took =
        segments.back().deliver_at - kStart - link.config().latency;
    double rate = kTotal * 8 / absl::ToDoubleSeconds(took);
    error_ppm = (rate - 10e6) / 10e6 * 1e6;
  }
  state.counters["error_ppm"] = error_ppm;
}
BENCHMARK(BM_ThroughputAccuracy)->Unit(benchmark::kMillisecond);

// BM_DriftAccuracy: 10,000 100-byte messages in flight at once over a
// 3 mbit link (each takes 266,666.67ns, so per-message rounding would
// drift). Counter drift_ns is the last delivery's distance from
// send + latency + exact sending time of all 10^6 bytes.
void BM_DriftAccuracy(benchmark::State& state) {
  const Bandwidth cap = Bandwidth::BitsPerSecond(3'000'000);
  double drift_ns = 0;
  for (auto _ : state) {
    LinkConfig config;
    config.latency = absl::Milliseconds(50);
    config.bandwidth = cap;
    LinkDirection link(config);
    absl::Time last = kStart;
    for (int i = 0; i < 10'000; ++i) {
      last = link.Schedule(kStart + absl::Microseconds(i), 100);
    }
    // 10^6 bytes * 8 / 3e6 bit/s = 8/3 s exactly.
    absl::Time exact = kStart + config.latency + absl::Seconds(8) / 3;
    drift_ns = absl::ToDoubleNanoseconds(last - exact);
  }
  state.counters["drift_ns"] = drift_ns;
}
BENCHMARK(BM_DriftAccuracy)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace asyncwork::sim
