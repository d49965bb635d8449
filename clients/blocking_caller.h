// blocking_caller.h: BlockingCaller, one request at a time over one
// connection, the calling thread waiting for each answer: the core of the
// blocking and threaded clients.
//
//   BlockingCaller caller(&dialer, &plan);
//   CallResult result = caller.Call(index, absl::Now() + plan.deadline());
//
// The caller connects on first use, and again after any failure: a failed
// request leaves the connection in an unknown state (a late answer may still
// arrive), so it is closed rather than reused.
//
// Threads: a BlockingCaller belongs to one thread at a time. The Dialer and
// WorkPlan are not owned and must outlive it; the threaded client shares
// them between callers on several threads (Dial and Request allow that).
#ifndef ASYNCWORK_CLIENTS_BLOCKING_CALLER_H_
#define ASYNCWORK_CLIENTS_BLOCKING_CALLER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "clients/call_result.h"
#include "clients/dialer.h"
#include "clients/work_plan.h"
#include "framing/frame.h"
#include "net/socket.h"

namespace asyncwork::clients {

class BlockingCaller {
 public:
  BlockingCaller(Dialer* dialer, const WorkPlan* plan)
      : dialer_(dialer), plan_(plan) {}

  // Call sends request `index` and waits for its answer until `deadline`
  // (connecting first if there is no connection), then verifies it.
  CallResult Call(uint64_t index, absl::Time deadline);

  // connected returns whether a connection is open for the next Call.
  bool connected() const { return socket_.has_value(); }

 private:
  // Exchange does the I/O of one call on the open connection.
  CallResult Exchange(uint64_t index, absl::Time deadline);

  Dialer* dialer_;
  const WorkPlan* plan_;
  std::optional<net::Socket> socket_;
  framing::FrameDecoder decoder_;
  std::string out_;
};

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_BLOCKING_CALLER_H_
