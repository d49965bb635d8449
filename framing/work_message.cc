#include "framing/work_message.h"

#include "absl/strings/str_cat.h"
#include "framing/big_endian.h"
#include "framing/frame.h"
#include "framing/protocol_error.h"

namespace asyncwork::framing {
namespace {

// AppendMessageFrame writes the frame and message headers into one stack
// buffer, so the frame costs two appends: the headers and the payload.
void AppendMessageFrame(const MessageHeader& header, absl::string_view payload,
                        std::string* out) {
  char headers[kFrameHeaderSize + kMessageHeaderSize];
  EncodeFrameHeader(kMessageHeaderSize + payload.size(), headers);
  EncodeMessageHeader(header, headers + kFrameHeaderSize);
  out->reserve(out->size() + sizeof(headers) + payload.size());
  out->append(headers, sizeof(headers));
  out->append(payload.data(), payload.size());
}

absl::Status CheckMessageLength(absl::string_view body) {
  if (body.size() >= kMessageHeaderSize) return absl::OkStatus();
  return MakeProtocolError(ProtocolError::kShortBody,
                           absl::StrCat("body of ", body.size(),
                                        " bytes is shorter than the ",
                                        kMessageHeaderSize, "-byte header"));
}

}  // namespace

bool IsKnownOp(Op op) {
  switch (op) {
    case Op::kEcho:
    case Op::kReverse:
    case Op::kHash:
    case Op::kSleep:
      return true;
  }
  return false;
}

absl::string_view OpName(Op op) {
  switch (op) {
    case Op::kEcho:
      return "ECHO";
    case Op::kReverse:
      return "REVERSE";
    case Op::kHash:
      return "HASH";
    case Op::kSleep:
      return "SLEEP";
  }
  return "UNKNOWN";
}

absl::string_view ResponseStatusName(ResponseStatus status) {
  switch (status) {
    case ResponseStatus::kOk:
      return "OK";
    case ResponseStatus::kUnknownOp:
      return "UNKNOWN_OP";
    case ResponseStatus::kBadRequest:
      return "BAD_REQUEST";
  }
  return "UNKNOWN";
}

void EncodeMessageHeader(const MessageHeader& header, char* dest) {
  StoreBigEndian64(dest, header.id);
  dest[8] = static_cast<char>(header.op);
  dest[9] = static_cast<char>(header.flags_or_status);
  StoreBigEndian16(dest + 10, header.reserved);
  StoreBigEndian32(dest + 12, header.arg);
}

MessageHeader DecodeMessageHeader(const char* src) {
  MessageHeader header;
  header.id = LoadBigEndian64(src);
  header.op = static_cast<Op>(static_cast<uint8_t>(src[8]));
  header.flags_or_status = static_cast<uint8_t>(src[9]);
  header.reserved = LoadBigEndian16(src + 10);
  header.arg = LoadBigEndian32(src + 12);
  return header;
}

absl::StatusOr<RequestView> ParseRequest(absl::string_view body) {
  if (absl::Status status = CheckMessageLength(body); !status.ok()) {
    return status;
  }
  const MessageHeader header = DecodeMessageHeader(body.data());
  // Built in one expression: filling a default-constructed view field by
  // field and then copying it made the copy wait on those partial stores,
  // which cost more than half of decoding and parsing a 64-byte request.
  return RequestView{.id = header.id,
                     .op = header.op,
                     .arg = header.arg,
                     .data = body.substr(kMessageHeaderSize),
                     .flags = header.flags_or_status,
                     .reserved = header.reserved};
}

absl::StatusOr<ResponseView> ParseResponse(absl::string_view body) {
  if (absl::Status status = CheckMessageLength(body); !status.ok()) {
    return status;
  }
  const MessageHeader header = DecodeMessageHeader(body.data());
  if (header.flags_or_status >
      static_cast<uint8_t>(ResponseStatus::kBadRequest)) {
    return MakeProtocolError(
        ProtocolError::kMalformedResponse,
        absl::StrCat("unknown status ", header.flags_or_status));
  }
  if (header.reserved != 0) {
    return MakeProtocolError(
        ProtocolError::kMalformedResponse,
        absl::StrCat("reserved bytes are ", header.reserved, ", not 0"));
  }
  return ResponseView{
      .id = header.id,
      .op = header.op,
      .status = static_cast<ResponseStatus>(header.flags_or_status),
      .arg = header.arg,
      .result = body.substr(kMessageHeaderSize)};
}

void AppendRequestFrame(const RequestView& request, std::string* out) {
  AppendMessageFrame({.id = request.id,
                      .op = request.op,
                      .flags_or_status = request.flags,
                      .reserved = request.reserved,
                      .arg = request.arg},
                     request.data, out);
}

void AppendResponseFrame(const ResponseView& response, std::string* out) {
  AppendMessageFrame({.id = response.id,
                      .op = response.op,
                      .flags_or_status = static_cast<uint8_t>(response.status),
                      .reserved = 0,
                      .arg = response.arg},
                     response.result, out);
}

}  // namespace asyncwork::framing
