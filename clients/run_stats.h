// run_stats.h: RunStats, everything one client run measured: how many
// requests started, completed and failed, why they failed, their latencies,
// and the wall-clock and CPU time the run took.
//
// A strategy records into a RunStats as it goes and hands it to report.h at
// the end:
//
//   RunStats stats;
//   stats.RecordStarted();                       // request 17 taken on
//   ...
//   stats.RecordCompleted(completed_at - due_at);        // answered, or
//   stats.RecordFailed(17, FailureCause::kConnectionClosed,
//                      "read: Connection reset by peer");  // not
//   ...
//   stats.SetElapsed(absl::Now() - start, cpu.Stop());
//   ASYNCWORK_CHECK(stats.Balanced());
//
// Every started request must end exactly once, completed or failed, so
// Balanced() (started == completed + failed) holds at the end of a run and
// in_flight() is the number still pending during it.
//
// Thread safety: none, by choice. Recording is a few additions and one
// histogram bucket, cheaper than any lock; a client with several threads
// keeps one RunStats per thread and merges them when the threads have been
// joined. A RunStats belongs to one thread at a time.
#ifndef ASYNCWORK_CLIENTS_RUN_STATS_H_
#define ASYNCWORK_CLIENTS_RUN_STATS_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "clients/latency_histogram.h"

namespace asyncwork::clients {

// FailureCause is why a request failed. The strategy that saw the failure
// picks the cause; the detail text (a Status message) says the rest.
enum class FailureCause {
  kServerError,        // the server answered with a status other than OK
  kBadResponse,        // an answer failed verification (id, op, arg, result)
  kConnectionRefused,  // the connection for the request could not be made
  kConnectionClosed,   // the connection closed or reset before the answer
  kDeadlineExceeded,   // no answer within the request's deadline
  kIoError,            // any other error on the request's connection
};

inline constexpr size_t kFailureCauseCount = 6;

// FailureCauseName returns the cause for people: "connection closed".
absl::string_view FailureCauseName(FailureCause cause);

// FailureCauseKey returns the cause as a JSON key: "connection_closed".
absl::string_view FailureCauseKey(FailureCause cause);

// AllFailureCauses lists every cause in declaration order.
const std::array<FailureCause, kFailureCauseCount>& AllFailureCauses();

// Failure is one failed request, kept for the report.
struct Failure {
  uint64_t request_id = 0;
  FailureCause cause = FailureCause::kIoError;
  std::string detail;  // may be empty

  // ToString returns "request 17: connection closed (read: Connection reset
  // by peer)", or without the parenthesis when there is no detail.
  std::string ToString() const;
};

class RunStats {
 public:
  // kKeptFailures is how many failures are kept whole for the report; the
  // rest are only counted by cause.
  static constexpr size_t kKeptFailures = 8;

  // RecordStarted counts `n` requests taken on by the client: call it when a
  // request is due and the client commits to it (before connecting or
  // sending), so that every started request later completes or fails.
  void RecordStarted(uint64_t n = 1) { started_ += n; }

  // RecordCompleted counts one request answered and verified, with its
  // latency measured from when it was due (schedule.h says when that is).
  void RecordCompleted(absl::Duration latency);

  // RecordFailed counts one started request that will not complete. The
  // first kKeptFailures failures are kept with their id and detail.
  void RecordFailed(uint64_t request_id, FailureCause cause,
                    absl::string_view detail = {});

  // SetElapsed records the run's wall-clock time and the CPU time it used.
  void SetElapsed(absl::Duration wall, absl::Duration cpu);

  // Merge adds `other`'s counts, failures (up to kKeptFailures in all) and
  // latencies to this one. It adds CPU time and keeps the longer wall time,
  // which is right when each thread's RunStats holds that thread's CPU time;
  // a coordinator that measures the process clock instead calls SetElapsed
  // after merging.
  void Merge(const RunStats& other);

  uint64_t started() const { return started_; }
  uint64_t completed() const { return completed_; }
  uint64_t failed() const { return failed_; }
  // failed(cause) returns the failures with that cause.
  uint64_t failed(FailureCause cause) const;
  // in_flight returns the started requests that have neither completed nor
  // failed (0 if more ended than started, which Balanced() also reports).
  uint64_t in_flight() const;

  // Balanced reports whether every started request ended exactly once:
  // started == completed + failed.
  bool Balanced() const { return started_ == completed_ + failed_; }

  // first_failures returns the first kKeptFailures failures, in the order
  // they were recorded (this run's before a merged run's).
  const std::vector<Failure>& first_failures() const { return failures_; }

  // latency returns the histogram of completed requests' latencies; failed
  // requests are not in it.
  const LatencyHistogram& latency() const { return latency_; }

  absl::Duration wall_time() const { return wall_; }
  absl::Duration cpu_time() const { return cpu_; }

  // WorkPerSecond returns completed requests per second of wall time (0 when
  // no wall time was set).
  double WorkPerSecond() const;

  // CpuPerRequest returns CPU time per completed request (zero when none
  // completed).
  absl::Duration CpuPerRequest() const;

 private:
  uint64_t started_ = 0;
  uint64_t completed_ = 0;
  uint64_t failed_ = 0;
  std::array<uint64_t, kFailureCauseCount> failed_by_cause_{};
  std::vector<Failure> failures_;
  LatencyHistogram latency_;
  absl::Duration wall_;
  absl::Duration cpu_;
};

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_RUN_STATS_H_
