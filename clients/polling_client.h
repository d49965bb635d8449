// polling_client.h: the polling client: many requests waiting at once, one
// non-blocking connection each, and a loop that asks every waiting request
// in turn whether its answer has come (a non-blocking read).
//
//   absl::StatusOr<RunStats> stats = RunPolling(config);
//
// Keeps `config.in_flight` requests waiting. Each pass over the pending
// requests costs one read(2) per waiting request whether or not anything
// arrived, so the CPU spent grows with the number waiting and with how long
// they wait: this is asyncore's loop without select(). The report's
// "cpu per request" shows the cost. After a pass that found nothing the loop
// sleeps `config.poll_interval`, or just yields the CPU when that is zero.
#ifndef ASYNCWORK_CLIENTS_POLLING_CLIENT_H_
#define ASYNCWORK_CLIENTS_POLLING_CLIENT_H_

#include "absl/status/statusor.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"

namespace asyncwork::clients {

// RunPolling runs the polling client on the calling thread. The Status is
// only for setup failures.
absl::StatusOr<RunStats> RunPolling(const RunConfig& config);

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_POLLING_CLIENT_H_
