// callback_client.h: the callback client and its pipelined variant. Requests
// go out on an EventLoop and each answer runs a callback from the loop,
// which records it and sends the next request; while requests wait, the
// loop sleeps in epoll_wait, so waiting costs nothing however many wait.
//
//   absl::StatusOr<RunStats> stats = RunCallback(config);    // or
//   absl::StatusOr<RunStats> stats = RunPipelined(config);
//
// Callback: `config.in_flight` connections, one request waiting on each at
// a time (the reactor counterpart of the polling client).
// Pipelined: `config.connections` connections, each keeping a window of
// `config.in_flight` requests waiting, answers matched to requests by id
// (the server may answer out of order).
// Over a link with one-way latency L, N requests take about N * 2L / W with
// W requests waiting in all.
#ifndef ASYNCWORK_CLIENTS_CALLBACK_CLIENT_H_
#define ASYNCWORK_CLIENTS_CALLBACK_CLIENT_H_

#include "absl/status/statusor.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"

namespace asyncwork::clients {

// RunCallback runs the callback client on the calling thread, on an
// EventLoop of its own. The Status is only for setup failures.
absl::StatusOr<RunStats> RunCallback(const RunConfig& config);

// RunPipelined runs the pipelined client likewise.
absl::StatusOr<RunStats> RunPipelined(const RunConfig& config);

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_CALLBACK_CLIENT_H_
