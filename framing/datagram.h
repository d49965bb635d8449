// datagram.h: frames carried one per datagram (UDP, Unix datagram sockets).
//
// A datagram holds exactly one frame, header included, so the length field
// must equal the datagram's size minus 4; PROTOCOL.md says a datagram that
// disagrees is dropped. DecodeDatagram says why it would be dropped:
//
//   std::string datagram;
//   EncodeDatagram(body, &datagram);
//   ::send(fd, datagram.data(), datagram.size(), 0);
//
//   absl::StatusOr<absl::string_view> body = DecodeDatagram(received);
//   if (!body.ok()) { /* drop it: body.status().message() */ }
#ifndef ASYNCWORK_FRAMING_DATAGRAM_H_
#define ASYNCWORK_FRAMING_DATAGRAM_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "framing/frame.h"

namespace asyncwork::framing {

// EncodeDatagram replaces `*out` with the one-frame datagram carrying `body`,
// reusing `*out`'s capacity. `body` must be at most kMaxEncodableBodySize.
void EncodeDatagram(absl::string_view body, std::string* out);

// DecodeDatagram returns the body of a received datagram, a view into
// `datagram`. Errors (protocol_error.h): kTruncatedFrame when it is shorter
// than the 4-byte header, kFrameTooLarge when its length exceeds
// `max_body_size`, kDatagramLengthMismatch when its length is not its size
// minus 4.
absl::StatusOr<absl::string_view> DecodeDatagram(
    absl::string_view datagram, size_t max_body_size = kDefaultMaxBodySize);

}  // namespace asyncwork::framing

#endif  // ASYNCWORK_FRAMING_DATAGRAM_H_
