#include "net/check.h"

#include <cstdio>
#include <cstdlib>

namespace asyncwork::internal {

CheckFailure::CheckFailure(const char* condition, const char* file, int line)
    : condition_(condition), file_(file), line_(line) {}

CheckFailure::~CheckFailure() {
  std::string message = message_.str();
  std::fprintf(stderr, "%s:%d: check failed: %s%s%s\n", file_, line_,
               condition_, message.empty() ? "" : ": ", message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace asyncwork::internal
