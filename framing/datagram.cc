#include "framing/datagram.h"

#include "absl/strings/str_cat.h"
#include "framing/big_endian.h"
#include "framing/protocol_error.h"

namespace asyncwork::framing {

void EncodeDatagram(absl::string_view body, std::string* out) {
  out->clear();
  AppendFrame(body, out);
}

absl::StatusOr<absl::string_view> DecodeDatagram(absl::string_view datagram,
                                                 size_t max_body_size) {
  if (datagram.size() < kFrameHeaderSize) {
    return MakeProtocolError(
        ProtocolError::kTruncatedFrame,
        absl::StrCat("datagram of ", datagram.size(),
                     " bytes is shorter than the ", kFrameHeaderSize,
                     "-byte header"));
  }
  const uint32_t length = LoadBigEndian32(datagram.data());
  if (absl::Status status = CheckBodyLength(length, max_body_size);
      !status.ok()) {
    return status;
  }
  const size_t body_size = datagram.size() - kFrameHeaderSize;
  if (length != body_size) {
    return MakeProtocolError(
        ProtocolError::kDatagramLengthMismatch,
        absl::StrCat("length ", length, " in a datagram with ", body_size,
                     " body bytes"));
  }
  return datagram.substr(kFrameHeaderSize);
}

}  // namespace asyncwork::framing
