// call_result.h: CallResult, how one request ended, and the helpers every
// strategy uses to decide it and to record it.
//
// A strategy never decides a failure's cause on its own: it passes what it
// saw (a response, an I/O error, a connect error) to one of these functions,
// so all six clients verify and classify alike.
//
//   CallResult result = CheckResponseBody(plan.Request(index), body);
//   RecordCall(index, due, result, absl::Now(), &stats);
#ifndef ASYNCWORK_CLIENTS_CALL_RESULT_H_
#define ASYNCWORK_CLIENTS_CALL_RESULT_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "clients/run_stats.h"
#include "framing/work_message.h"

namespace asyncwork::clients {

// CallResult is OK (the answer arrived and was verified) or a failure with
// its cause and a detail for the report. A small value; copy it freely.
class CallResult {
 public:
  static CallResult Ok() { return CallResult(); }
  static CallResult Failed(FailureCause cause, std::string detail) {
    return CallResult(cause, std::move(detail));
  }

  bool ok() const { return ok_; }
  // cause and detail are meaningful only when !ok().
  FailureCause cause() const { return cause_; }
  const std::string& detail() const { return detail_; }

 private:
  CallResult() = default;
  CallResult(FailureCause cause, std::string detail)
      : ok_(false), cause_(cause), detail_(std::move(detail)) {}

  bool ok_ = true;
  FailureCause cause_ = FailureCause::kIoError;
  std::string detail_;
};

// CheckResponse returns OK when `response` is the right answer to `request`:
// a status other than OK is kServerError ("server answered UNKNOWN_OP"), any
// other difference (id, op, arg, result) kBadResponse with VerifyResponse's
// message.
CallResult CheckResponse(const framing::RequestView& request,
                         const framing::ResponseView& response);

// CheckResponseBody parses a response frame body first; a body that is not
// a response is kBadResponse.
CallResult CheckResponseBody(const framing::RequestView& request,
                             absl::string_view body);

// ConnectFailure classifies an error from opening a connection: a passed
// deadline is kDeadlineExceeded, anything else kConnectionRefused (the
// connection for the request could not be made).
CallResult ConnectFailure(const absl::Status& status);

// IoFailure classifies an error from reading or writing an open connection:
// DeadlineExceeded is kDeadlineExceeded; a reset, a broken pipe or another
// sign of the peer going away (absl's kUnavailable and kFailedPrecondition)
// is kConnectionClosed; anything else kIoError.
CallResult IoFailure(const absl::Status& status);

// ConnectionClosed is the failure of a request whose connection ended
// before its answer; `how` says how ("end of stream", "frame too large ...").
CallResult ConnectionClosed(absl::string_view how);

// DeadlineExceeded is the failure of a request unanswered after `deadline`.
CallResult DeadlineExceeded(absl::Duration deadline);

// RecordCall counts request `id` in `stats` as completed, with its latency
// from `due` to `now`, or as failed with the result's cause and detail.
void RecordCall(uint64_t id, absl::Time due, const CallResult& result,
                absl::Time now, RunStats* stats);

}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_CALL_RESULT_H_
