// request_fuzzer: the libFuzzer target for the server's request handling.
// Built only with clang under --config=fuzz (see DEVELOPERS.md); the seed
// corpus is server/testdata/request_fuzzer_corpus, passed after a scratch
// directory so that new inputs go to the scratch one:
//   mkdir -p /tmp/request_corpus
//   tools/bazel run --config=fuzz //server:request_fuzzer -- -runs=1000000 \
//       /tmp/request_corpus $PWD/server/testdata/request_fuzzer_corpus
#include <cstddef>
#include <cstdint>

#include "server/fuzz_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  asyncwork::server::FuzzRequestHandling(data, size);
  return 0;
}
