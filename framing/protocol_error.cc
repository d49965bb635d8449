#include "framing/protocol_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"

namespace asyncwork::framing {
namespace {

// The payload's type URL; its value is the kind's name, which is stable and
// readable when a status is printed with its payloads.
constexpr absl::string_view kPayloadUrl = "asyncwork.framing/ProtocolError";

constexpr ProtocolError kAllErrors[] = {
    ProtocolError::kFrameTooLarge,          ProtocolError::kTruncatedFrame,
    ProtocolError::kShortBody,              ProtocolError::kDatagramLengthMismatch,
    ProtocolError::kMalformedResponse,      ProtocolError::kResponseMismatch,
};

}  // namespace

absl::string_view ProtocolErrorName(ProtocolError error) {
  switch (error) {
    case ProtocolError::kFrameTooLarge:
      return "frame too large";
    case ProtocolError::kTruncatedFrame:
      return "truncated frame";
    case ProtocolError::kShortBody:
      return "short body";
    case ProtocolError::kDatagramLengthMismatch:
      return "datagram length mismatch";
    case ProtocolError::kMalformedResponse:
      return "malformed response";
    case ProtocolError::kResponseMismatch:
      return "response mismatch";
  }
  return "unknown protocol error";
}

absl::Status MakeProtocolError(ProtocolError error, absl::string_view detail) {
  absl::string_view name = ProtocolErrorName(error);
  absl::Status status(
      absl::StatusCode::kInvalidArgument,
      detail.empty() ? std::string(name) : absl::StrCat(name, " (", detail, ")"));
  status.SetPayload(kPayloadUrl, absl::Cord(name));
  return status;
}

std::optional<ProtocolError> GetProtocolError(const absl::Status& status) {
  absl::optional<absl::Cord> payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  for (ProtocolError error : kAllErrors) {
    if (*payload == ProtocolErrorName(error)) return error;
  }
  return std::nullopt;
}

}  // namespace asyncwork::framing
