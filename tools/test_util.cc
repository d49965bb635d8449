#include "tools/test_util.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace asyncwork::tools {

int CountOccurrences(absl::string_view haystack, absl::string_view needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != absl::string_view::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

std::string TestTempPath(absl::string_view name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

}  // namespace asyncwork::tools
