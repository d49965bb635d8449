#include "framing/datagram.h"

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "framing/frame.h"
#include "framing/protocol_error.h"
#include "gtest/gtest.h"

namespace asyncwork::framing {
namespace {

TEST(EncodeDatagram, IsOneFrameAndReplacesContents) {
  std::string datagram = "stale bytes";
  EncodeDatagram("work", &datagram);
  EXPECT_EQ(datagram, absl::string_view("\0\0\0\4work", 8));
}

TEST(DecodeDatagram, ReturnsTheBodyInPlace) {
  std::string datagram;
  EncodeDatagram("payload", &datagram);
  absl::StatusOr<absl::string_view> body = DecodeDatagram(datagram);
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_EQ(*body, "payload");
  EXPECT_EQ(body->data(), datagram.data() + kFrameHeaderSize);
}

TEST(DecodeDatagram, AcceptsAnEmptyBody) {
  absl::StatusOr<absl::string_view> body =
      DecodeDatagram(absl::string_view("\0\0\0\0", 4));
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(body->empty());
}

TEST(DecodeDatagram, EveryTruncationIsRejectedWithItsError) {
  std::string datagram;
  EncodeDatagram("0123456789", &datagram);
  for (size_t size = 0; size < datagram.size(); ++size) {
    absl::StatusOr<absl::string_view> body =
        DecodeDatagram(absl::string_view(datagram).substr(0, size));
    ASSERT_FALSE(body.ok()) << "size " << size;
    EXPECT_EQ(GetProtocolError(body.status()),
              size < kFrameHeaderSize ? ProtocolError::kTruncatedFrame
                                      : ProtocolError::kDatagramLengthMismatch)
        << "size " << size << ": " << body.status();
  }
}

TEST(DecodeDatagram, RejectsTrailingBytes) {
  std::string datagram;
  EncodeDatagram("abc", &datagram);
  datagram.push_back('!');
  absl::StatusOr<absl::string_view> body = DecodeDatagram(datagram);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(GetProtocolError(body.status()),
            ProtocolError::kDatagramLengthMismatch);
  EXPECT_EQ(body.status().message(),
            "datagram length mismatch (length 3 in a datagram with 4 body "
            "bytes)");
}

TEST(DecodeDatagram, RejectsOversizeBeforeComparingSizes) {
  std::string datagram;
  EncodeDatagram(std::string(11, 'x'), &datagram);
  EXPECT_TRUE(DecodeDatagram(datagram, /*max_body_size=*/11).ok());
  absl::StatusOr<absl::string_view> body =
      DecodeDatagram(datagram, /*max_body_size=*/10);
  ASSERT_FALSE(body.ok());
  EXPECT_EQ(GetProtocolError(body.status()), ProtocolError::kFrameTooLarge);
  // A huge length in a small datagram is too large, whatever its size says.
  absl::StatusOr<absl::string_view> huge =
      DecodeDatagram(absl::string_view("\xff\xff\xff\xffxy", 6));
  EXPECT_EQ(GetProtocolError(huge.status()), ProtocolError::kFrameTooLarge);
}

}  // namespace
}  // namespace asyncwork::framing
