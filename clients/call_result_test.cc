#include "clients/call_result.h"

#include <cerrno>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "clients/run_stats.h"
#include "framing/operation.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"

namespace asyncwork::clients {
namespace {

const framing::RequestView kRequest{
    .id = 11, .op = framing::Op::kReverse, .arg = 0, .data = "abc"};

// Body returns the frame body of `response` (AppendResponseFrame adds a
// 4-byte length first).
std::string Body(const framing::ResponseView& response) {
  std::string wire;
  framing::AppendResponseFrame(response, &wire);
  return wire.substr(4);
}

TEST(CheckResponse, AcceptsTheRightAnswer) {
  framing::Outcome outcome = framing::Perform(kRequest);
  EXPECT_TRUE(
      CheckResponseBody(kRequest, Body(framing::ResponseFor(kRequest, outcome)))
          .ok());
}

TEST(CheckResponse, AWrongResultIsABadResponse) {
  framing::ResponseView response{
      .id = 11, .op = framing::Op::kReverse, .result = "abc"};
  CallResult result = CheckResponse(kRequest, response);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.cause(), FailureCause::kBadResponse);
  EXPECT_FALSE(result.detail().empty());
}

TEST(CheckResponse, AnotherRequestsIdIsABadResponse) {
  framing::ResponseView response{
      .id = 12, .op = framing::Op::kReverse, .result = "cba"};
  EXPECT_EQ(CheckResponse(kRequest, response).cause(),
            FailureCause::kBadResponse);
}

TEST(CheckResponse, AnErrorStatusIsAServerErrorNamingIt) {
  framing::ResponseView response{.id = 11,
                                 .op = framing::Op::kReverse,
                                 .status = framing::ResponseStatus::kUnknownOp};
  CallResult result = CheckResponse(kRequest, response);
  EXPECT_EQ(result.cause(), FailureCause::kServerError);
  EXPECT_TRUE(absl::StrContains(result.detail(), "UNKNOWN_OP"));
}

TEST(CheckResponseBody, ABodyTooShortIsABadResponse) {
  EXPECT_EQ(CheckResponseBody(kRequest, "short").cause(),
            FailureCause::kBadResponse);
}

TEST(IoFailure, ClassifiesByWhatHappenedToTheConnection) {
  EXPECT_EQ(IoFailure(absl::ErrnoToStatus(ECONNRESET, "read")).cause(),
            FailureCause::kConnectionClosed);
  EXPECT_EQ(IoFailure(absl::ErrnoToStatus(EPIPE, "write")).cause(),
            FailureCause::kConnectionClosed);
  EXPECT_EQ(IoFailure(absl::DeadlineExceededError("wait")).cause(),
            FailureCause::kDeadlineExceeded);
  EXPECT_EQ(IoFailure(absl::ErrnoToStatus(ENOMEM, "read")).cause(),
            FailureCause::kIoError);
}

TEST(ConnectFailure, IsRefusedUnlessTheDeadlinePassed) {
  CallResult refused =
      ConnectFailure(absl::ErrnoToStatus(ECONNREFUSED, "connect"));
  EXPECT_EQ(refused.cause(), FailureCause::kConnectionRefused);
  EXPECT_TRUE(absl::StrContains(refused.detail(), "Connection refused"));
  EXPECT_EQ(ConnectFailure(absl::DeadlineExceededError("connect")).cause(),
            FailureCause::kDeadlineExceeded);
}

TEST(RecordCall, CountsLatencyFromTheDueTimeOrTheFailureWithItsId) {
  RunStats stats;
  stats.RecordStarted(2);
  absl::Time due = absl::FromUnixSeconds(50);
  RecordCall(1, due, CallResult::Ok(), due + absl::Milliseconds(3), &stats);
  RecordCall(2, due, ConnectionClosed("end of stream"), due, &stats);
  EXPECT_EQ(stats.completed(), 1u);
  EXPECT_EQ(stats.latency().Max(), absl::Milliseconds(3));
  ASSERT_EQ(stats.first_failures().size(), 1u);
  EXPECT_EQ(stats.first_failures()[0].request_id, 2u);
  EXPECT_EQ(stats.first_failures()[0].cause, FailureCause::kConnectionClosed);
  EXPECT_TRUE(stats.Balanced());
}

}  // namespace
}  // namespace asyncwork::clients
