#include "framing/invariant.h"

#include <cstdio>
#include <cstdlib>

namespace asyncwork::framing::internal {

void InvariantFailed(const char* condition, const char* what, const char* file,
                     int line) {
  std::fprintf(stderr, "%s:%d: check failed: %s: %s\n", file, line, condition,
               what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace asyncwork::framing::internal
