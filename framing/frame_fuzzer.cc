// frame_fuzzer: the libFuzzer target for the decoder and message parser.
// Built only with clang under --config=fuzz (see README):
//   tools/bazel run --config=fuzz //framing:frame_fuzzer -- -max_total_time=600
#include <cstddef>
#include <cstdint>

#include "framing/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  asyncwork::framing::FuzzFrameAndMessages(data, size);
  return 0;
}
