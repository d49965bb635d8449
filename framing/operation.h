// operation.h: what a work request asks for, performed in one place.
//
// Every server calls Perform, so all of them answer alike; clients call
// VerifyResponse (which computes the same answer) to check what came back.
//
//   absl::StatusOr<RequestView> request = ParseRequest(body);
//   Outcome outcome = Perform(*request);
//   std::string answer;
//   AppendResponseFrame(ResponseFor(*request, outcome), &answer);
//   // send `answer` no sooner than outcome.NotBefore(time_frame_was_read)
//
//   absl::Status ok = VerifyResponse(sent_request, *ParseResponse(reply));
#ifndef ASYNCWORK_FRAMING_OPERATION_H_
#define ASYNCWORK_FRAMING_OPERATION_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "framing/work_message.h"

namespace asyncwork::framing {

// kFnvOffsetBasis and kFnvPrime are FNV-1a 64's constants.
inline constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325;
inline constexpr uint64_t kFnvPrime = 0x100000001b3;

// Fnv1a64 returns the FNV-1a 64-bit hash of `data` repeated `rounds` times,
// the state carried from round to round; `rounds` 0 counts as 1 (HASH's
// max(arg, 1)). Its cost is rounds * data.size() multiply steps.
uint64_t Fnv1a64(absl::string_view data, uint32_t rounds);

// Outcome is the answer to one request: the response status, the result
// bytes, and how long after the request's frame was read it may be sent.
//
// result() may point into the request's data (ECHO and SLEEP return it
// unchanged, without a copy), so encode the response before those bytes go
// away; a SLEEP's response is encoded at once and held, not its request.
class Outcome {
 public:
  // Outcome for a status with no result and no delay.
  explicit Outcome(ResponseStatus status) : status_(status) {}

  // Borrowed returns an OK outcome whose result is `result`, not copied, to
  // be sent `delay` after the request was read.
  static Outcome Borrowed(absl::string_view result, absl::Duration delay);

  // Owned returns an OK outcome holding `result`, to be sent at once.
  static Outcome Owned(std::string result);

  ResponseStatus status() const { return status_; }
  absl::string_view result() const { return owns_ ? owned_ : borrowed_; }
  absl::Duration delay() const { return delay_; }

  // NotBefore returns the earliest time the response may be sent, given when
  // the request's whole frame was read.
  absl::Time NotBefore(absl::Time frame_read_at) const {
    return frame_read_at + delay_;
  }

 private:
  ResponseStatus status_;
  bool owns_ = false;
  absl::string_view borrowed_;
  std::string owned_;
  absl::Duration delay_ = absl::ZeroDuration();
};

// Perform does the work `request` asks for. BAD_REQUEST (flags or reserved
// bytes not 0) is checked before UNKNOWN_OP; neither has a result or delay.
// ECHO returns the data, REVERSE it reversed, HASH the 8-byte big-endian
// Fnv1a64(data, arg), SLEEP the data after a delay of `arg` microseconds.
// Perform itself never sleeps: the caller holds the response until
// NotBefore. Thread-safe; HASH costs CPU in proportion to arg * data size.
Outcome Perform(const RequestView& request);

// ResponseFor returns the response answering `request` with `outcome`; its
// result is outcome.result(), so it borrows from both.
ResponseView ResponseFor(const RequestView& request, const Outcome& outcome);

// VerifyResponse returns OK when `response` is the correct answer to
// `request` (same id, op and arg; the status and result Perform gives), else
// kResponseMismatch naming the first difference. It does not check SLEEP's
// timing, which the caller measures.
absl::Status VerifyResponse(const RequestView& request,
                            const ResponseView& response);

}  // namespace asyncwork::framing

#endif  // ASYNCWORK_FRAMING_OPERATION_H_
