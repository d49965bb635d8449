// fuzz_entry.h: one fuzzing entry point for everything that reads the wire.
//
// FuzzFrameAndMessages treats its input as a stream of frames, decodes it
// with FrameDecoder fed in pieces split at points derived from the input,
// and checks the result against a plain reference decoder; every body is
// then parsed as a request and as a response, performed, re-encoded and
// verified; the whole input is also decoded as a datagram. Any disagreement
// aborts. It runs under libFuzzer (frame_fuzzer.cc, --config=fuzz) and under
// the seeded loop of fuzz_smoke_test.cc in every `bazel test`.
//
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     asyncwork::framing::FuzzFrameAndMessages(data, size);
//     return 0;
//   }
#ifndef ASYNCWORK_FRAMING_FUZZ_ENTRY_H_
#define ASYNCWORK_FRAMING_FUZZ_ENTRY_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"

namespace asyncwork::framing {

// FuzzCounts tallies what the inputs reached, so a driver can tell that its
// inputs exercise every path (not only that nothing crashed).
struct FuzzCounts {
  size_t frames = 0;            // bodies the decoder returned
  size_t too_large = 0;         // streams failed with kFrameTooLarge
  size_t truncated = 0;         // streams ending mid-frame
  size_t short_bodies = 0;      // bodies under 16 bytes
  size_t requests_ok = 0;       // requests answered OK
  size_t requests_refused = 0;  // requests answered UNKNOWN_OP or BAD_REQUEST
  size_t responses = 0;         // bodies that parsed as responses
  size_t datagrams = 0;         // inputs that decoded as a datagram
};

// FuzzFrameAndMessages runs every check above on `data` (`size` bytes) and
// aborts on the first one that fails. Its first byte selects the maximum body
// size and the decoder's first buffer size, and seeds the split points; the
// rest is the stream. When `counts` is
// not null it is added to. Deterministic; bounded in time by the input size
// (HASH rounds are capped).
void FuzzFrameAndMessages(const uint8_t* data, size_t size,
                          FuzzCounts* counts = nullptr);

// StreamEnd is how a whole stream ends: after its last whole frame, in the
// middle of a frame, or at a header announcing a body over the maximum.
enum class StreamEnd { kClean, kTruncated, kTooLarge };

// ReferenceStream is a whole stream decoded at once.
struct ReferenceStream {
  std::vector<absl::string_view> bodies;  // views into the stream
  StreamEnd end = StreamEnd::kClean;
};

// DecodeWholeStream is a deliberately plain decoder of a complete stream,
// sharing no code with FrameDecoder: the oracle that fuzzers compare
// incremental decoding (and whole servers) against. Bodies over
// `max_body_size` end the stream with kTooLarge.
ReferenceStream DecodeWholeStream(absl::string_view stream,
                                  size_t max_body_size);

}  // namespace asyncwork::framing

#endif  // ASYNCWORK_FRAMING_FUZZ_ENTRY_H_
