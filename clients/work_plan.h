// work_plan.h: WorkPlan, which requests one run sends and when each is due.
//
// Every strategy asks the plan for the next request to send, builds it from
// the plan (the same bytes for the same seed, whatever the strategy), and
// measures its latency from the due time the plan gives (schedule.h):
//
//   WorkPlan plan(config, absl::Now());
//   while (!plan.Done(absl::Now())) {
//     WaitUntil(plan.NextSendTime());        // paced runs only
//     uint64_t index = plan.Take();
//     absl::Time due = plan.DueAt(index, slot_freed_at);
//     std::string wire;
//     plan.AppendRequestFrame(index, &wire);
//     ...
//     CallResult result = CheckResponse(plan.Request(index), response);
//   }
//
// Request `index` has id `index` on the wire, so a failure report's
// "request 17" is the 18th request sent. Its data is `size` bytes of a block
// generated once from the seed, starting at an offset that varies with the
// index, so consecutive requests carry different bytes without the cost of
// generating each one.
//
// Thread safety: Request, AppendRequestFrame and DueAt are const and may be
// called from any thread; Take and Done belong to one thread at a time.
#ifndef ASYNCWORK_CLIENTS_WORK_PLAN_H_
#define ASYNCWORK_CLIENTS_WORK_PLAN_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "clients/run_config.h"
#include "clients/schedule.h"
#include "framing/work_message.h"

namespace asyncwork::clients {

class WorkPlan {
 public:
  // WorkPlan plans `config`'s run starting at `start`. `config` must pass
  // ValidateRunConfig.
  WorkPlan(const RunConfig& config, absl::Time start);

  WorkPlan(const WorkPlan&) = delete;
  WorkPlan& operator=(const WorkPlan&) = delete;

  // Done returns whether no further request is to be sent at `now`: all
  // `requests` are taken, or the run's duration is over.
  bool Done(absl::Time now) const;

  // NextSendTime returns when the next request may go out: its intended
  // send time when paced, absl::InfinitePast() in a closed loop.
  absl::Time NextSendTime() const {
    return schedule_.IntendedSendTime(taken_);
  }

  // Take returns the next request's index and counts it as sent.
  uint64_t Take() { return taken_++; }

  // taken returns how many requests Take has handed out.
  uint64_t taken() const { return taken_; }

  // DueAt returns when request `index` is due, for its latency: its intended
  // send time when paced, else `eligible_at`, when its slot freed.
  absl::Time DueAt(uint64_t index, absl::Time eligible_at) const {
    return schedule_.DueAt(index, eligible_at);
  }

  // Request returns request `index`; its data points into this plan.
  framing::RequestView Request(uint64_t index) const;

  // AppendRequestFrame appends request `index`'s frame to `*out`.
  void AppendRequestFrame(uint64_t index, std::string* out) const;

  absl::Time start() const { return start_; }
  // end returns when a duration run stops sending (InfiniteFuture for a
  // fixed count).
  absl::Time end() const { return end_; }
  absl::Duration deadline() const { return deadline_; }

 private:
  framing::Op op_;
  uint32_t arg_;
  size_t size_;
  uint64_t requests_;
  absl::Duration deadline_;
  absl::Time start_;
  absl::Time end_;
  SendSchedule schedule_;
  std::string block_;
  uint64_t taken_ = 0;
};

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_WORK_PLAN_H_
