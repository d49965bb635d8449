#include "framing/operation.h"

#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "framing/frame.h"
#include "framing/protocol_error.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"

namespace asyncwork::framing {
namespace {

std::string Hex(absl::string_view bytes) { return absl::BytesToHexString(bytes); }

TEST(Fnv1a64, MatchesTheProtocolCheckValues) {
  EXPECT_EQ(Fnv1a64("", 1), 0xcbf29ce484222325u);
  EXPECT_EQ(Fnv1a64("", 0), 0xcbf29ce484222325u);
  EXPECT_EQ(Fnv1a64("", 1000), 0xcbf29ce484222325u);
  EXPECT_EQ(Fnv1a64("a", 1), 0xaf63dc4c8601ec8cu);
  EXPECT_EQ(Fnv1a64("foobar", 1), 0x85944171f73967e8u);
  EXPECT_EQ(Fnv1a64("foobar", 3), 0xab8884e58c0b2508u);
}

TEST(Fnv1a64, ZeroRoundsCountAsOne) {
  EXPECT_EQ(Fnv1a64("foobar", 0), Fnv1a64("foobar", 1));
}

TEST(Fnv1a64, RoundsCarryTheStateLikeRepeatedData) {
  EXPECT_EQ(Fnv1a64("foobar", 3), Fnv1a64("foobarfoobarfoobar", 1));
  EXPECT_NE(Fnv1a64("foobar", 2), Fnv1a64("foobar", 3));
}

TEST(Perform, HashAnswersEightBigEndianBytes) {
  Outcome outcome =
      Perform({.id = 1, .op = Op::kHash, .arg = 3, .data = "foobar"});
  EXPECT_EQ(outcome.status(), ResponseStatus::kOk);
  EXPECT_EQ(Hex(outcome.result()), "ab8884e58c0b2508");
  EXPECT_EQ(Hex(Perform({.op = Op::kHash, .arg = 0, .data = "a"}).result()),
            "af63dc4c8601ec8c");
  EXPECT_EQ(Hex(Perform({.op = Op::kHash, .arg = 9}).result()),
            "cbf29ce484222325");
  EXPECT_EQ(outcome.delay(), absl::ZeroDuration());
}

TEST(Perform, EchoReturnsTheDataWithoutCopying) {
  const std::string data = "echo me";
  Outcome outcome = Perform({.op = Op::kEcho, .arg = 5, .data = data});
  EXPECT_EQ(outcome.status(), ResponseStatus::kOk);
  EXPECT_EQ(outcome.result(), data);
  EXPECT_EQ(outcome.result().data(), data.data());
  EXPECT_EQ(outcome.delay(), absl::ZeroDuration());
}

TEST(Perform, ReverseReversesTheBytes) {
  EXPECT_EQ(Perform({.op = Op::kReverse, .data = "abc\x01"}).result(),
            "\x01" "cba");
  EXPECT_EQ(Perform({.op = Op::kReverse, .data = ""}).result(), "");
}

TEST(Perform, SleepEchoesAfterArgMicroseconds) {
  const std::string data = "later";
  Outcome outcome = Perform({.op = Op::kSleep, .arg = 250000, .data = data});
  EXPECT_EQ(outcome.status(), ResponseStatus::kOk);
  EXPECT_EQ(outcome.result(), data);
  EXPECT_EQ(outcome.delay(), absl::Milliseconds(250));
  const absl::Time read_at = absl::FromUnixSeconds(1000);
  EXPECT_EQ(outcome.NotBefore(read_at), read_at + absl::Milliseconds(250));
}

TEST(Perform, BadRequestIsCheckedBeforeUnknownOp) {
  for (const RequestView& request :
       {RequestView{.op = static_cast<Op>(9), .data = "x", .flags = 1},
        RequestView{.op = Op::kSleep, .arg = 1000000, .reserved = 1},
        RequestView{.op = Op::kEcho, .data = "x", .reserved = 0x100}}) {
    Outcome outcome = Perform(request);
    EXPECT_EQ(outcome.status(), ResponseStatus::kBadRequest);
    EXPECT_TRUE(outcome.result().empty());
    EXPECT_EQ(outcome.delay(), absl::ZeroDuration());
  }
}

TEST(Perform, UnknownOpHasNoResult) {
  for (int op = 4; op < 256; ++op) {
    Outcome outcome = Perform({.op = static_cast<Op>(op), .data = "data"});
    EXPECT_EQ(outcome.status(), ResponseStatus::kUnknownOp) << op;
    EXPECT_TRUE(outcome.result().empty());
  }
}

TEST(Outcome, OwnedResultSurvivesCopyAndMove) {
  Outcome original = Perform({.op = Op::kHash, .arg = 1, .data = "foobar"});
  Outcome copy = original;
  Outcome moved = std::move(original);
  EXPECT_EQ(Hex(copy.result()), "85944171f73967e8");
  EXPECT_EQ(Hex(moved.result()), "85944171f73967e8");
}

TEST(ResponseFor, CopiesIdOpAndArg) {
  const RequestView request{.id = 77, .op = Op::kReverse, .arg = 5,
                            .data = "ab"};
  Outcome outcome = Perform(request);
  ResponseView response = ResponseFor(request, outcome);
  EXPECT_EQ(response, (ResponseView{.id = 77,
                                    .op = Op::kReverse,
                                    .status = ResponseStatus::kOk,
                                    .arg = 5,
                                    .result = "ba"}));
}

TEST(VerifyResponse, AcceptsWhatPerformAnswers) {
  for (const RequestView& request :
       {RequestView{.id = 1, .op = Op::kEcho, .data = "e"},
        RequestView{.id = 2, .op = Op::kReverse, .data = "rev"},
        RequestView{.id = 3, .op = Op::kHash, .arg = 2, .data = "h"},
        RequestView{.id = 4, .op = Op::kSleep, .arg = 10, .data = "s"},
        RequestView{.id = 5, .op = static_cast<Op>(7)},
        RequestView{.id = 6, .op = Op::kEcho, .flags = 1}}) {
    Outcome outcome = Perform(request);
    EXPECT_TRUE(VerifyResponse(request, ResponseFor(request, outcome)).ok());
  }
}

TEST(VerifyResponse, NamesEachMismatch) {
  const RequestView request{.id = 10, .op = Op::kReverse, .arg = 1,
                            .data = "abc"};
  const ResponseView good{.id = 10,
                          .op = Op::kReverse,
                          .status = ResponseStatus::kOk,
                          .arg = 1,
                          .result = "cba"};
  ASSERT_TRUE(VerifyResponse(request, good).ok());
  struct Case {
    ResponseView response;
    absl::string_view message;
  };
  ResponseView wrong_id = good, wrong_op = good, wrong_arg = good,
               wrong_status = good, wrong_size = good, wrong_byte = good;
  wrong_id.id = 11;
  wrong_op.op = Op::kEcho;
  wrong_arg.arg = 2;
  wrong_status.status = ResponseStatus::kUnknownOp;
  wrong_size.result = "cb";
  wrong_byte.result = "cXa";
  for (const Case& c : {
           Case{wrong_id, "response mismatch (id 11, expected 10)"},
           Case{wrong_op, "response mismatch (op 0, expected 1)"},
           Case{wrong_arg, "response mismatch (arg 2, expected 1)"},
           Case{wrong_status,
                "response mismatch (status UNKNOWN_OP, expected OK)"},
           Case{wrong_size, "response mismatch (result size 2, expected 3)"},
           Case{wrong_byte,
                "response mismatch (REVERSE result differs from the expected "
                "at byte 1 of 3)"},
       }) {
    absl::Status status = VerifyResponse(request, c.response);
    EXPECT_EQ(GetProtocolError(status), ProtocolError::kResponseMismatch);
    EXPECT_EQ(status.message(), c.message);
  }
}

// One request through everything a server and a client do with it, against
// response bytes written out by hand from PROTOCOL.md.
TEST(Perform, ServerAnswersAHashRequestWithTheProtocolBytes) {
  std::string request_wire;
  AppendRequestFrame(
      {.id = 0x2a, .op = Op::kHash, .arg = 3, .data = "foobar"}, &request_wire);
  FrameDecoder server;
  server.Append(request_wire);
  absl::StatusOr<std::optional<absl::string_view>> body = server.Next();
  ASSERT_TRUE(body.ok() && body->has_value());
  absl::StatusOr<RequestView> request = ParseRequest(**body);
  ASSERT_TRUE(request.ok());
  std::string response_wire;
  AppendResponseFrame(ResponseFor(*request, Perform(*request)), &response_wire);
  EXPECT_EQ(Hex(response_wire),
            "00000018"           // length 24
            "000000000000002a"   // id
            "02" "00" "0000"     // op HASH, status OK, reserved
            "00000003"           // arg
            "ab8884e58c0b2508");  // result
  absl::StatusOr<ResponseView> response =
      ParseResponse(absl::string_view(response_wire).substr(kFrameHeaderSize));
  ASSERT_TRUE(response.ok());
  EXPECT_TRUE(VerifyResponse(*request, *response).ok());
}

}  // namespace
}  // namespace asyncwork::framing
