#include "framing/fuzz_entry.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "framing/datagram.h"
#include "framing/frame.h"
#include "framing/invariant.h"
#include "framing/operation.h"
#include "framing/protocol_error.h"
#include "framing/work_message.h"

namespace asyncwork::framing {
namespace {

// Small maxima make the oversize path easy to reach from short inputs; 15
// and 16 sit on either side of the message header size.
constexpr size_t kMaxBodySizes[] = {kDefaultMaxBodySize, 65536, 1000,
                                    40,                  16,    15};
// Tiny buffers make the decoder grow and compact even on short inputs.
constexpr size_t kMinCapacities[] = {1, 7, 64, 4096};

// HASH costs rounds * size; the fuzzer needs fast runs, not long hashes.
constexpr uint32_t kMaxHashRounds = 4;

// The check fails the whole run, which is what a fuzzer wants.
#define FUZZ_CHECK(condition) ASYNCWORK_FRAMING_CHECK(condition, "fuzz oracle")

bool Is(const absl::Status& status, ProtocolError error) {
  return GetProtocolError(status) == error;
}

uint32_t ReadLength(absl::string_view bytes) {
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i) {
    length = (length << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return length;
}

// SplitPoints is a xorshift generator seeded from the input: the same input
// always splits the same way, and different inputs split differently.
class SplitPoints {
 public:
  explicit SplitPoints(uint64_t seed) : state_(seed | 1) {}
  uint64_t Next() {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }

 private:
  uint64_t state_;
};

// CheckRequest parses `body` as a request, performs it, and checks the
// answer against the protocol's rules independently of Perform's code.
void CheckRequest(absl::string_view body, FuzzCounts& counts) {
  absl::StatusOr<RequestView> parsed = ParseRequest(body);
  FUZZ_CHECK(parsed.ok());
  RequestView request = *parsed;
  std::string wire;
  AppendRequestFrame(request, &wire);
  FUZZ_CHECK(absl::string_view(wire).substr(kFrameHeaderSize) == body);

  if (request.op == Op::kHash) {
    request.arg = std::min(request.arg, kMaxHashRounds);
  }
  const Outcome outcome = Perform(request);
  ResponseStatus expected_status = ResponseStatus::kOk;
  if (request.flags != 0 || request.reserved != 0) {
    expected_status = ResponseStatus::kBadRequest;
  } else if (!IsKnownOp(request.op)) {
    expected_status = ResponseStatus::kUnknownOp;
  }
  FUZZ_CHECK(outcome.status() == expected_status);
  if (expected_status != ResponseStatus::kOk) {
    FUZZ_CHECK(outcome.result().empty());
    FUZZ_CHECK(outcome.delay() == absl::ZeroDuration());
    ++counts.requests_refused;
  } else {
    const absl::string_view result = outcome.result();
    switch (request.op) {
      case Op::kEcho:
        FUZZ_CHECK(result == request.data);
        break;
      case Op::kReverse:
        FUZZ_CHECK(std::equal(result.begin(), result.end(),
                              request.data.rbegin(), request.data.rend()));
        break;
      case Op::kHash:
        FUZZ_CHECK(result.size() == 8);
        break;
      case Op::kSleep:
        FUZZ_CHECK(result == request.data);
        FUZZ_CHECK(outcome.delay() == absl::Microseconds(request.arg));
        break;
    }
    ++counts.requests_ok;
  }

  const ResponseView response = ResponseFor(request, outcome);
  std::string answer;
  AppendResponseFrame(response, &answer);
  absl::StatusOr<ResponseView> reparsed =
      ParseResponse(absl::string_view(answer).substr(kFrameHeaderSize));
  FUZZ_CHECK(reparsed.ok() && *reparsed == response);
  FUZZ_CHECK(VerifyResponse(request, *reparsed).ok());
}

// CheckResponse parses `body` as a response: either it round-trips exactly,
// or it is malformed for a reason the header shows.
void CheckResponse(absl::string_view body, FuzzCounts& counts) {
  absl::StatusOr<ResponseView> parsed = ParseResponse(body);
  const uint8_t status = static_cast<uint8_t>(body[9]);
  const bool reserved_zero = body[10] == 0 && body[11] == 0;
  if (!parsed.ok()) {
    FUZZ_CHECK(Is(parsed.status(), ProtocolError::kMalformedResponse));
    FUZZ_CHECK(status > 2 || !reserved_zero);
    return;
  }
  FUZZ_CHECK(status <= 2 && reserved_zero);
  std::string wire;
  AppendResponseFrame(*parsed, &wire);
  FUZZ_CHECK(absl::string_view(wire).substr(kFrameHeaderSize) == body);
  ++counts.responses;
}

void CheckBody(absl::string_view body, FuzzCounts& counts) {
  ++counts.frames;
  if (body.size() < kMessageHeaderSize) {
    FUZZ_CHECK(Is(ParseRequest(body).status(), ProtocolError::kShortBody));
    FUZZ_CHECK(Is(ParseResponse(body).status(), ProtocolError::kShortBody));
    ++counts.short_bodies;
    return;
  }
  CheckRequest(body, counts);
  CheckResponse(body, counts);
}

// CheckStream feeds `stream` to a FrameDecoder in pieces, through both ways
// in, and checks every body and the final state against the reference.
void CheckStream(absl::string_view stream,
                 const FrameDecoder::Options& options, SplitPoints& split,
                 FuzzCounts& counts) {
  const ReferenceStream reference =
      DecodeWholeStream(stream, options.max_body_size);
  FrameDecoder decoder(options);
  size_t index = 0;
  size_t pos = 0;
  while (pos < stream.size()) {
    static constexpr size_t kChunkLimits[] = {1, 8, 64, 4096};
    size_t chunk = std::min<size_t>(
        1 + split.Next() % kChunkLimits[split.Next() % 4], stream.size() - pos);
    if (split.Next() % 2 == 0) {
      decoder.Append(stream.substr(pos, chunk));
    } else {
      absl::Span<char> room = decoder.PrepareAppend(1 + split.Next() % chunk);
      FUZZ_CHECK(!room.empty());
      chunk = std::min(chunk, room.size());
      std::memcpy(room.data(), stream.data() + pos, chunk);
      decoder.CommitAppend(chunk);
    }
    pos += chunk;
    while (true) {
      absl::StatusOr<std::optional<absl::string_view>> next = decoder.Next();
      if (!next.ok()) {
        FUZZ_CHECK(Is(next.status(), ProtocolError::kFrameTooLarge));
        FUZZ_CHECK(reference.end == StreamEnd::kTooLarge);
        FUZZ_CHECK(index == reference.bodies.size());
        FUZZ_CHECK(decoder.failed() && !decoder.MidFrame());
        ++counts.too_large;
        return;
      }
      if (!next->has_value()) break;
      FUZZ_CHECK(index < reference.bodies.size());
      FUZZ_CHECK(**next == reference.bodies[index]);
      CheckBody(**next, counts);
      ++index;
    }
    if (split.Next() % 64 == 0) {
      FrameDecoder moved(std::move(decoder));
      decoder = std::move(moved);
    }
  }
  FUZZ_CHECK(index == reference.bodies.size());
  const absl::Status end = decoder.CheckEndOfStream();
  if (reference.end == StreamEnd::kClean) {
    FUZZ_CHECK(end.ok() && !decoder.MidFrame());
  } else {
    FUZZ_CHECK(reference.end == StreamEnd::kTruncated);
    FUZZ_CHECK(Is(end, ProtocolError::kTruncatedFrame) && decoder.MidFrame());
    ++counts.truncated;
  }
}

void CheckDatagram(absl::string_view datagram, size_t max_body_size,
                   FuzzCounts& counts) {
  absl::StatusOr<absl::string_view> body =
      DecodeDatagram(datagram, max_body_size);
  if (datagram.size() < kFrameHeaderSize) {
    FUZZ_CHECK(Is(body.status(), ProtocolError::kTruncatedFrame));
    return;
  }
  const uint32_t length = ReadLength(datagram);
  if (length > max_body_size) {
    FUZZ_CHECK(Is(body.status(), ProtocolError::kFrameTooLarge));
  } else if (length != datagram.size() - kFrameHeaderSize) {
    FUZZ_CHECK(Is(body.status(), ProtocolError::kDatagramLengthMismatch));
  } else {
    FUZZ_CHECK(body.ok() && *body == datagram.substr(kFrameHeaderSize));
    ++counts.datagrams;
  }
}

}  // namespace

ReferenceStream DecodeWholeStream(absl::string_view stream,
                                  size_t max_body_size) {
  ReferenceStream reference;
  while (true) {
    if (stream.empty()) {
      reference.end = StreamEnd::kClean;
      return reference;
    }
    if (stream.size() < kFrameHeaderSize) {
      reference.end = StreamEnd::kTruncated;
      return reference;
    }
    const uint32_t length = ReadLength(stream);
    if (length > max_body_size) {
      reference.end = StreamEnd::kTooLarge;
      return reference;
    }
    if (stream.size() - kFrameHeaderSize < length) {
      reference.end = StreamEnd::kTruncated;
      return reference;
    }
    reference.bodies.push_back(stream.substr(kFrameHeaderSize, length));
    stream.remove_prefix(kFrameHeaderSize + length);
  }
}

void FuzzFrameAndMessages(const uint8_t* data, size_t size,
                          FuzzCounts* counts) {
  if (size == 0) return;
  const uint8_t config = data[0];
  const absl::string_view stream(reinterpret_cast<const char*>(data + 1),
                                 size - 1);
  const size_t max_body_size =
      kMaxBodySizes[config % std::size(kMaxBodySizes)];
  SplitPoints split(uint64_t{config} * 0x9e3779b97f4a7c15u + size);
  FuzzCounts unused;
  FuzzCounts& tally = counts != nullptr ? *counts : unused;
  const FrameDecoder::Options options = {
      .max_body_size = max_body_size,
      .min_capacity =
          kMinCapacities[(config / std::size(kMaxBodySizes)) %
                         std::size(kMinCapacities)]};
  CheckStream(stream, options, split, tally);
  CheckDatagram(stream, max_body_size, tally);
}

}  // namespace asyncwork::framing
