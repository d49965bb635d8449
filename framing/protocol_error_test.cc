#include "framing/protocol_error.h"

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace asyncwork::framing {
namespace {

constexpr ProtocolError kEveryError[] = {
    ProtocolError::kFrameTooLarge,     ProtocolError::kTruncatedFrame,
    ProtocolError::kShortBody,         ProtocolError::kDatagramLengthMismatch,
    ProtocolError::kMalformedResponse, ProtocolError::kResponseMismatch,
};

TEST(ProtocolError, MessageStartsWithNameThenDetail) {
  absl::Status status =
      MakeProtocolError(ProtocolError::kFrameTooLarge, "20000000 > 16777216");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "frame too large (20000000 > 16777216)");
  EXPECT_EQ(MakeProtocolError(ProtocolError::kShortBody, "").message(),
            "short body");
}

TEST(ProtocolError, KindSurvivesTheStatus) {
  for (ProtocolError error : kEveryError) {
    absl::Status status = MakeProtocolError(error, "detail");
    absl::Status copy = status;
    EXPECT_EQ(GetProtocolError(copy), error) << status;
  }
}

TEST(ProtocolError, NamesAreDistinct) {
  for (ProtocolError a : kEveryError) {
    for (ProtocolError b : kEveryError) {
      if (a != b) {
        EXPECT_NE(ProtocolErrorName(a), ProtocolErrorName(b));
      }
    }
  }
}

TEST(ProtocolError, OtherStatusesCarryNoKind) {
  EXPECT_EQ(GetProtocolError(absl::OkStatus()), std::nullopt);
  EXPECT_EQ(GetProtocolError(absl::InvalidArgumentError("frame too large")),
            std::nullopt);
  EXPECT_EQ(GetProtocolError(absl::UnavailableError("connect")), std::nullopt);
}

}  // namespace
}  // namespace asyncwork::framing
