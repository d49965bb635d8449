#include "framing/work_message.h"

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "framing/frame.h"
#include "framing/protocol_error.h"
#include "gtest/gtest.h"

namespace asyncwork::framing {
namespace {

// Bytes laid out by hand from PROTOCOL.md's tables, so the encoder is checked
// against the page rather than against the decoder.
constexpr absl::string_view kReverseRequestFrame(
    "\x00\x00\x00\x12"                  // length 18 = 16 + 2
    "\x01\x02\x03\x04\x05\x06\x07\x08"  // id
    "\x01"                              // op REVERSE
    "\x00"                              // flags
    "\x00\x00"                          // reserved
    "\x0a\x0b\x0c\x0d"                  // arg
    "xy",
    22);

constexpr absl::string_view kUnknownOpResponseFrame(
    "\x00\x00\x00\x10"                  // length 16
    "\xff\xee\xdd\xcc\xbb\xaa\x99\x88"  // id
    "\x2a"                              // op 42
    "\x01"                              // status UNKNOWN_OP
    "\x00\x00"                          // reserved
    "\x00\x00\x00\x07",                 // arg
    20);

TEST(AppendRequestFrame, MatchesTheProtocolLayout) {
  std::string wire;
  AppendRequestFrame({.id = 0x0102030405060708,
                      .op = Op::kReverse,
                      .arg = 0x0a0b0c0d,
                      .data = "xy"},
                     &wire);
  EXPECT_EQ(wire, kReverseRequestFrame);
}

TEST(AppendResponseFrame, MatchesTheProtocolLayout) {
  std::string wire = "kept";
  AppendResponseFrame({.id = 0xffeeddccbbaa9988,
                       .op = static_cast<Op>(42),
                       .status = ResponseStatus::kUnknownOp,
                       .arg = 7},
                      &wire);
  EXPECT_EQ(wire, absl::StrCat("kept", kUnknownOpResponseFrame));
}

TEST(ParseRequest, ReadsTheProtocolLayout) {
  absl::StatusOr<RequestView> request =
      ParseRequest(kReverseRequestFrame.substr(kFrameHeaderSize));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->id, 0x0102030405060708u);
  EXPECT_EQ(request->op, Op::kReverse);
  EXPECT_EQ(request->arg, 0x0a0b0c0du);
  EXPECT_EQ(request->data, "xy");
  EXPECT_EQ(request->flags, 0);
  EXPECT_EQ(request->reserved, 0);
}

TEST(ParseResponse, ReadsTheProtocolLayout) {
  absl::StatusOr<ResponseView> response =
      ParseResponse(kUnknownOpResponseFrame.substr(kFrameHeaderSize));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->id, 0xffeeddccbbaa9988u);
  EXPECT_EQ(static_cast<int>(response->op), 42);
  EXPECT_EQ(response->status, ResponseStatus::kUnknownOp);
  EXPECT_EQ(response->arg, 7u);
  EXPECT_TRUE(response->result.empty());
}

TEST(ParseRequest, RoundTripsEveryField) {
  const std::string data(300, '\x80');
  const RequestView sent{.id = UINT64_MAX,
                         .op = static_cast<Op>(255),
                         .arg = UINT32_MAX,
                         .data = data,
                         .flags = 0x81,
                         .reserved = 0xbeef};
  std::string wire;
  AppendRequestFrame(sent, &wire);
  absl::StatusOr<RequestView> got =
      ParseRequest(absl::string_view(wire).substr(kFrameHeaderSize));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, sent);
  // The data is a view into the body, not a copy.
  EXPECT_EQ(got->data.data(), wire.data() + kFrameHeaderSize + 16);
}

TEST(ParseResponse, RoundTripsEveryStatus) {
  for (ResponseStatus status :
       {ResponseStatus::kOk, ResponseStatus::kUnknownOp,
        ResponseStatus::kBadRequest}) {
    const ResponseView sent{.id = 99,
                            .op = Op::kHash,
                            .status = status,
                            .arg = 3,
                            .result = "12345678"};
    std::string wire;
    AppendResponseFrame(sent, &wire);
    absl::StatusOr<ResponseView> got =
        ParseResponse(absl::string_view(wire).substr(kFrameHeaderSize));
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, sent);
  }
}

TEST(ParseRequest, EveryShortBodyIsRejected) {
  const std::string body(kMessageHeaderSize, '\0');
  for (size_t size = 0; size < kMessageHeaderSize; ++size) {
    absl::string_view short_body = absl::string_view(body).substr(0, size);
    absl::StatusOr<RequestView> request = ParseRequest(short_body);
    EXPECT_EQ(GetProtocolError(request.status()), ProtocolError::kShortBody)
        << size;
    absl::StatusOr<ResponseView> response = ParseResponse(short_body);
    EXPECT_EQ(GetProtocolError(response.status()), ProtocolError::kShortBody)
        << size;
  }
  EXPECT_EQ(ParseRequest("abc").status().message(),
            "short body (body of 3 bytes is shorter than the 16-byte header)");
  absl::StatusOr<RequestView> empty_data = ParseRequest(body);
  ASSERT_TRUE(empty_data.ok());
  EXPECT_TRUE(empty_data->data.empty());
}

TEST(ParseRequest, KeepsNonzeroFlagsForTheServerToAnswer) {
  std::string wire;
  AppendRequestFrame({.id = 1, .op = Op::kEcho, .flags = 4, .reserved = 1},
                     &wire);
  absl::StatusOr<RequestView> request =
      ParseRequest(absl::string_view(wire).substr(kFrameHeaderSize));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->flags, 4);
  EXPECT_EQ(request->reserved, 1);
}

TEST(ParseResponse, RejectsAnUnknownStatus) {
  std::string body(kUnknownOpResponseFrame.substr(kFrameHeaderSize));
  body[9] = 3;
  absl::StatusOr<ResponseView> response = ParseResponse(body);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(GetProtocolError(response.status()),
            ProtocolError::kMalformedResponse);
  EXPECT_EQ(response.status().message(),
            "malformed response (unknown status 3)");
}

TEST(ParseResponse, RejectsNonzeroReservedBytes) {
  for (size_t byte : {10, 11}) {
    std::string body(kUnknownOpResponseFrame.substr(kFrameHeaderSize));
    body[byte] = 1;
    EXPECT_EQ(GetProtocolError(ParseResponse(body).status()),
              ProtocolError::kMalformedResponse)
        << byte;
  }
}

TEST(Op, NamesAndKnownness) {
  EXPECT_EQ(OpName(Op::kEcho), "ECHO");
  EXPECT_EQ(OpName(Op::kReverse), "REVERSE");
  EXPECT_EQ(OpName(Op::kHash), "HASH");
  EXPECT_EQ(OpName(Op::kSleep), "SLEEP");
  EXPECT_EQ(OpName(static_cast<Op>(4)), "UNKNOWN");
  for (int value = 0; value < 256; ++value) {
    EXPECT_EQ(IsKnownOp(static_cast<Op>(value)), value <= 3) << value;
  }
  EXPECT_EQ(ResponseStatusName(ResponseStatus::kOk), "OK");
  EXPECT_EQ(ResponseStatusName(ResponseStatus::kUnknownOp), "UNKNOWN_OP");
  EXPECT_EQ(ResponseStatusName(ResponseStatus::kBadRequest), "BAD_REQUEST");
}

TEST(MessageHeader, RoundTrips) {
  const MessageHeader header{.id = 0x1122334455667788,
                             .op = Op::kSleep,
                             .flags_or_status = 0x99,
                             .reserved = 0xaabb,
                             .arg = 0xccddeeff};
  char bytes[kMessageHeaderSize];
  EncodeMessageHeader(header, bytes);
  EXPECT_EQ(absl::string_view(bytes, 4), "\x11\x22\x33\x44");
  EXPECT_EQ(DecodeMessageHeader(bytes), header);
}

}  // namespace
}  // namespace asyncwork::framing
