// test_util.h: small helpers the tools' tests share. Test code only.
//
//   EXPECT_EQ(CountOccurrences(html, "<svg "), 8);
//   std::ofstream(TestTempPath("bad.json")) << "{";
#ifndef ASYNCWORK_TOOLS_TEST_UTIL_H_
#define ASYNCWORK_TOOLS_TEST_UTIL_H_

#include <string>

#include "absl/strings/string_view.h"

namespace asyncwork::tools {

// CountOccurrences counts (possibly overlapping) occurrences of `needle`.
int CountOccurrences(absl::string_view haystack, absl::string_view needle);

// TestTempPath returns `name` inside the test's private temporary directory
// ($TEST_TMPDIR, or /tmp outside Bazel).
std::string TestTempPath(absl::string_view name);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_TEST_UTIL_H_
