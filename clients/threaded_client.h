// threaded_client.h: the thread-per-request client: each request runs on a
// thread of its own, which sends it and waits for the answer, with at most
// `config.max_threads` such threads at once; when all are busy the next
// request waits for one to finish.
//
//   absl::StatusOr<RunStats> stats = RunThreaded(config);
//
// A thread takes an open connection from a shared pool when one is idle and
// opens one otherwise, so there are at most max_threads connections and no
// connection carries two requests at once. Waiting costs each request a
// thread (its stack, a context switch at each end) rather than CPU time
// spent asking.
#ifndef ASYNCWORK_CLIENTS_THREADED_CLIENT_H_
#define ASYNCWORK_CLIENTS_THREADED_CLIENT_H_

#include "absl/status/statusor.h"
#include "clients/run_config.h"
#include "clients/run_stats.h"

namespace asyncwork::clients {

// RunThreaded runs the threaded client; the calling thread starts the
// request threads and joins every one before returning. The Status is only
// for setup failures.
absl::StatusOr<RunStats> RunThreaded(const RunConfig& config);

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_THREADED_CLIENT_H_
