// protocol_error.h: the named errors of the wire protocol (PROTOCOL.md).
//
// Every malformed input the framing/ package can meet is one ProtocolError
// kind, carried inside an absl::Status so it travels through the usual error
// paths. The status message starts with the kind's name and says what was
// wrong, ready for a log line; the kind itself rides in a payload, so code and
// tests can branch on it without parsing text:
//
//   absl::StatusOr<std::optional<absl::string_view>> next = decoder.Next();
//   if (!next.ok()) {
//     LogWarning(absl::StrCat("closing: ", next.status().message()));
//     // "closing: frame too large (20000000 > 16777216)"
//     if (GetProtocolError(next.status()) == ProtocolError::kFrameTooLarge) ...
//   }
#ifndef ASYNCWORK_FRAMING_PROTOCOL_ERROR_H_
#define ASYNCWORK_FRAMING_PROTOCOL_ERROR_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace asyncwork::framing {

enum class ProtocolError {
  // A frame's length field exceeds the receiver's maximum body size. Found
  // from the 4 header bytes alone; a stream cannot resynchronise after it.
  kFrameTooLarge,
  // The input ended inside a frame: a stream closed mid-frame, or a datagram
  // shorter than the 4-byte header.
  kTruncatedFrame,
  // A frame body shorter than the 16-byte work message header.
  kShortBody,
  // A datagram whose length field is not its size minus 4.
  kDatagramLengthMismatch,
  // A response whose status is unknown or whose reserved bytes are not 0.
  kMalformedResponse,
  // A well-formed response that does not answer its request (wrong id, op,
  // arg, status or result); see VerifyResponse in operation.h.
  kResponseMismatch,
};

// ProtocolErrorName returns the kind's fixed name, e.g. "frame too large";
// every status made by MakeProtocolError starts with it.
absl::string_view ProtocolErrorName(ProtocolError error);

// MakeProtocolError returns an InvalidArgument status whose message is
// "<name> (<detail>)", or just "<name>" when `detail` is empty, and which
// carries `error` for GetProtocolError.
absl::Status MakeProtocolError(ProtocolError error, absl::string_view detail);

// GetProtocolError returns the kind a status made by MakeProtocolError
// carries, or nullopt for any other status (OK included).
std::optional<ProtocolError> GetProtocolError(const absl::Status& status);

}  // namespace asyncwork::framing

#endif  // ASYNCWORK_FRAMING_PROTOCOL_ERROR_H_
