// strategy.h: the six client strategies behind one entry point, so that the
// binaries, the benchmarks and the demo run any of them the same way.
//
//   absl::StatusOr<StrategyKind> kind = ParseStrategyKind("pipelined");
//   RunConfig config;
//   config.server = server_address;
//   config.requests = 20000;
//   absl::StatusOr<RunStats> stats = RunStrategy(*kind, config);
//   if (!stats.ok()) { /* setup failed: bad config, shaping unavailable */ }
//   std::fputs(FormatSummary(*stats, StrategyKindName(*kind)).c_str(), stdout);
//
// The strategies, and what a waiting request costs each:
//   blocking   one request at a time; waits in read(2)        (blocking_client.h)
//   threaded   a thread per request, up to max_threads         (threaded_client.h)
//   polling    in_flight connections, asked in turn            (polling_client.h)
//   callback   in_flight connections, completions run from
//              the reactor                                     (callback_client.h)
//   pipelined  the callback client with a window of in_flight
//              requests per connection, over `connections`     (callback_client.h)
//   coroutine  `co_await client.Call(index)` on the reactor,
//              in_flight per connection over `connections`     (coroutine_client.h)
#ifndef ASYNCWORK_CLIENTS_STRATEGY_H_
#define ASYNCWORK_CLIENTS_STRATEGY_H_

#include <array>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"

namespace asyncwork::clients {

enum class StrategyKind {
  kBlocking,
  kThreaded,
  kPolling,
  kCallback,
  kPipelined,
  kCoroutine,
};

// AllStrategyKinds lists every strategy in declaration order.
const std::array<StrategyKind, 6>& AllStrategyKinds();

// StrategyKindName returns the strategy's name, which is also its binary's:
// "blocking", "threaded", "polling", "callback", "pipelined", "coroutine".
absl::string_view StrategyKindName(StrategyKind kind);

// ParseStrategyKind reads a name StrategyKindName returns; anything else is
// InvalidArgument listing the names.
absl::StatusOr<StrategyKind> ParseStrategyKind(absl::string_view name);

// RunStrategy runs one client of `kind` with `config` on the calling thread
// (and whatever threads the strategy starts, all joined before it returns).
// The Status is only for setup failures: an invalid config or a link that
// cannot be set up. Each request's failure (refused, closed, deadline,
// server error, bad answer) is counted in the RunStats with its cause and
// the request's id.
absl::StatusOr<RunStats> RunStrategy(StrategyKind kind, const RunConfig& config);

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_STRATEGY_H_
