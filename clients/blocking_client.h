// blocking_client.h: the blocking client: one request, wait for its answer,
// then the next, over one connection (reopened after any failure).
//
//   absl::StatusOr<RunStats> stats = RunBlocking(config);
//
// Over a link with one-way latency L every request costs at least 2L of
// waiting, so N requests take at least N * 2L however fast the server is.
// Only `config.requests`/`duration`, the request fields, `deadline`,
// `rate`, the link and `progress` matter here; the window is always 1.
#ifndef ASYNCWORK_CLIENTS_BLOCKING_CLIENT_H_
#define ASYNCWORK_CLIENTS_BLOCKING_CLIENT_H_

#include "absl/status/statusor.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"

namespace asyncwork::clients {

// RunBlocking runs the blocking client on the calling thread. The Status is
// only for setup failures (a bad config); each request's failure is counted
// in the RunStats with its cause.
absl::StatusOr<RunStats> RunBlocking(const RunConfig& config);

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_BLOCKING_CLIENT_H_
