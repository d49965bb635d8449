// work_message.h: the work requests and responses of PROTOCOL.md.
//
// Every frame body is a request (client to server) or a response (server to
// client): a 16-byte header, then the request's data or the response's
// result. Parsing returns views whose `data`/`result` point into the body;
// encoding appends a whole frame (length, header, data) to a caller-owned
// string with no intermediate copy.
//
//   std::string wire;
//   AppendRequestFrame({.id = 7, .op = Op::kReverse, .data = "abc"}, &wire);
//
//   absl::StatusOr<RequestView> request = ParseRequest(body);
//   if (!request.ok()) { /* kShortBody: close the connection */ }
//
// Views borrow: a RequestView or ResponseView is valid only while the bytes
// its `data`/`result` points into are.
#ifndef ASYNCWORK_FRAMING_WORK_MESSAGE_H_
#define ASYNCWORK_FRAMING_WORK_MESSAGE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace asyncwork::framing {

// kMessageHeaderSize is the size of the header every body starts with.
inline constexpr size_t kMessageHeaderSize = 16;

// Op is a request's operation. The wire byte may hold any value, so an Op may
// be none of these (IsKnownOp says); a server answers those UNKNOWN_OP.
enum class Op : uint8_t {
  kEcho = 0,
  kReverse = 1,
  kHash = 2,
  kSleep = 3,
};

// IsKnownOp returns whether `op` is one of the operations above.
bool IsKnownOp(Op op);

// OpName returns "ECHO", "REVERSE", "HASH", "SLEEP", or "UNKNOWN".
absl::string_view OpName(Op op);

// ResponseStatus is the status byte of a response.
enum class ResponseStatus : uint8_t {
  kOk = 0,          // the work was done; the result holds it
  kUnknownOp = 1,   // the op is not known; no result
  kBadRequest = 2,  // flags or reserved bytes were not 0; no result
};

// ResponseStatusName returns "OK", "UNKNOWN_OP", "BAD_REQUEST", or "UNKNOWN".
absl::string_view ResponseStatusName(ResponseStatus status);

// MessageHeader is the 16-byte header, decoded. Byte 9 is a request's flags
// and a response's status.
struct MessageHeader {
  uint64_t id = 0;
  Op op = Op::kEcho;
  uint8_t flags_or_status = 0;
  uint16_t reserved = 0;
  uint32_t arg = 0;

  bool operator==(const MessageHeader&) const = default;
};

// EncodeMessageHeader writes `header` as 16 bytes to `dest`.
void EncodeMessageHeader(const MessageHeader& header, char* dest);

// DecodeMessageHeader reads 16 bytes at `src`.
MessageHeader DecodeMessageHeader(const char* src);

// RequestView is a work request whose data lives elsewhere. Every member has
// a default, so designated initializers may leave any out (gcc's
// -Wmissing-field-initializers accepts that only with a default). `flags` and
// `reserved` are 0 in every well-formed request; they are kept so a server can
// answer BAD_REQUEST and a test can build a malformed request.
struct RequestView {
  uint64_t id = 0;
  Op op = Op::kEcho;
  uint32_t arg = 0;
  absl::string_view data = {};
  uint8_t flags = 0;
  uint16_t reserved = 0;

  bool operator==(const RequestView&) const = default;
};

// ResponseView is a work response whose result lives elsewhere.
struct ResponseView {
  uint64_t id = 0;
  Op op = Op::kEcho;
  ResponseStatus status = ResponseStatus::kOk;
  uint32_t arg = 0;
  absl::string_view result = {};

  bool operator==(const ResponseView&) const = default;
};

// ParseRequest reads a request from a frame body. The only error is
// kShortBody (fewer than 16 bytes); nonzero flags or reserved bytes and
// unknown ops are not parse errors but answers (see Perform in operation.h).
absl::StatusOr<RequestView> ParseRequest(absl::string_view body);

// ParseResponse reads a response from a frame body. Errors: kShortBody, and
// kMalformedResponse for an unknown status or nonzero reserved bytes.
absl::StatusOr<ResponseView> ParseResponse(absl::string_view body);

// AppendRequestFrame appends the frame carrying `request` to `*out`. The
// body (16 + data bytes) must be at most kMaxEncodableBodySize; larger aborts.
void AppendRequestFrame(const RequestView& request, std::string* out);

// AppendResponseFrame appends the frame carrying `response` to `*out`, with
// the same size limit.
void AppendResponseFrame(const ResponseView& response, std::string* out);

}  // namespace asyncwork::framing

#endif  // ASYNCWORK_FRAMING_WORK_MESSAGE_H_
