// result_points.h: measured configurations, read for plotting.
//
// plot accepts two input formats, told apart by their top-level key.
//
// 1. Google Benchmark JSON from //benchmarks:strategies ("benchmarks"). The
//    configuration is in the benchmark's name, as Google Benchmark's named
//    arguments: "/"-separated "key:value" segments after the function name,
//
//      BM_Strategy/strategy:callback/server:epoll/latency_us:10000/
//          bandwidth_kbit:10000/in_flight:64/op:echo/size:64/real_time
//
//    Segments without a ':' (real_time, manual_time) and unknown keys
//    (iterations:50, threads:2, repeats:3, ...) are ignored. Known keys:
//    strategy, server, op (text) and latency_us (one-way), bandwidth_kbit,
//    in_flight, size (bytes; numbers). A benchmark without strategy: is not
//    a strategy benchmark and is skipped. Measurements are the means over
//    repetitions of the counters items_per_second (work per second, required),
//    bound_fraction (measured / theoretical bound; the bound is derived as
//    items_per_second / bound_fraction), p50_us and p99_us.
//
// 2. asyncwork's native results, which the sweep tool may write:
//
//      {"results": [{"strategy": "callback", "latency_us": 10000,
//                    "in_flight": 64, "work_per_s": 6250.0,
//                    "bound_per_s": 6400.0, "p99_us": 21000.0}, ...]}
//
//    strategy (string) and work_per_s (number) are required; server, op
//    (strings), latency_us, bandwidth_kbit, in_flight, size, bound_per_s,
//    p50_us, p99_us (numbers) are optional; other keys are ignored.
//
//   absl::StatusOr<std::vector<ResultPoint>> points =
//       LoadResultPoints("results.json");
#ifndef ASYNCWORK_TOOLS_RESULT_POINTS_H_
#define ASYNCWORK_TOOLS_RESULT_POINTS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/json.h"

namespace asyncwork::tools {

// ResultPoint is one measured configuration: a strategy under given link and
// load, and what it achieved. Text fields are empty when unknown.
struct ResultPoint {
  std::string strategy;
  std::string server;
  std::string op;
  std::optional<double> latency_us;  // One way.
  std::optional<double> bandwidth_kbit;
  std::optional<double> in_flight;
  std::optional<double> size;  // Bytes per work packet.
  double work_per_s = 0;
  std::optional<double> bound_per_s;
  std::optional<double> p50_us;
  std::optional<double> p99_us;
};

// ParseNamedArgs splits a Google Benchmark run name into its "key:value"
// segments, ignoring the function name and segments without ':'.
std::map<std::string, std::string> ParseNamedArgs(absl::string_view run_name);

// ParseResultPoints reads either format. `skipped`, when not null, receives
// the number of Google Benchmark runs skipped for lack of a strategy: or of
// items_per_second. Errors name the offending entry.
absl::StatusOr<std::vector<ResultPoint>> ParseResultPoints(
    const JsonValue& doc, int* skipped = nullptr);

// LoadResultPoints reads and parses the file at `path`; errors start with it.
absl::StatusOr<std::vector<ResultPoint>> LoadResultPoints(
    const std::string& path, int* skipped = nullptr);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_RESULT_POINTS_H_
