#include "clients/call_result.h"

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "clients/schedule.h"
#include "framing/operation.h"

namespace asyncwork::clients {

CallResult CheckResponse(const framing::RequestView& request,
                         const framing::ResponseView& response) {
  if (response.status != framing::ResponseStatus::kOk) {
    return CallResult::Failed(
        FailureCause::kServerError,
        absl::StrCat("server answered ",
                     framing::ResponseStatusName(response.status)));
  }
  absl::Status verified = framing::VerifyResponse(request, response);
  if (!verified.ok()) {
    return CallResult::Failed(FailureCause::kBadResponse,
                              std::string(verified.message()));
  }
  return CallResult::Ok();
}

CallResult CheckResponseBody(const framing::RequestView& request,
                             absl::string_view body) {
  absl::StatusOr<framing::ResponseView> response =
      framing::ParseResponse(body);
  if (!response.ok()) {
    return CallResult::Failed(FailureCause::kBadResponse,
                              std::string(response.status().message()));
  }
  return CheckResponse(request, *response);
}

CallResult ConnectFailure(const absl::Status& status) {
  if (absl::IsDeadlineExceeded(status)) {
    return CallResult::Failed(FailureCause::kDeadlineExceeded,
                              std::string(status.message()));
  }
  return CallResult::Failed(FailureCause::kConnectionRefused,
                            std::string(status.message()));
}

CallResult IoFailure(const absl::Status& status) {
  FailureCause cause = FailureCause::kIoError;
  if (absl::IsDeadlineExceeded(status)) {
    cause = FailureCause::kDeadlineExceeded;
  } else if (absl::IsUnavailable(status) ||
             absl::IsFailedPrecondition(status)) {
    // absl maps ECONNRESET, ECONNABORTED (kUnavailable) and EPIPE, ENOTCONN
    // (kFailedPrecondition) here: the peer is gone.
    cause = FailureCause::kConnectionClosed;
  }
  return CallResult::Failed(cause, std::string(status.message()));
}

CallResult ConnectionClosed(absl::string_view how) {
  return CallResult::Failed(FailureCause::kConnectionClosed, std::string(how));
}

CallResult DeadlineExceeded(absl::Duration deadline) {
  return CallResult::Failed(
      FailureCause::kDeadlineExceeded,
      absl::StrCat("no answer within ", absl::FormatDuration(deadline)));
}

void RecordCall(uint64_t id, absl::Time due, const CallResult& result,
                absl::Time now, RunStats* stats) {
  if (result.ok()) {
    stats->RecordCompleted(LatencySince(due, now));
  } else {
    stats->RecordFailed(id, result.cause(), result.detail());
  }
}

}  // namespace asyncwork::clients
