// process_usage.h: what this process holds right now — resident memory, its
// peak, threads and open descriptors — read from /proc/self, for the soak
// test's "memory stays bounded, nothing leaks" checks.
//
//   absl::StatusOr<ProcessUsage> before = ReadProcessUsage();
//   ...  // run things that must release what they take
//   absl::StatusOr<ProcessUsage> after = ReadProcessUsage();
//   if (after->open_fds != before->open_fds) { /* a descriptor leaked */ }
//   std::printf("peak RSS %s\n", FormatBytes(after->peak_rss_bytes).c_str());
//
// Linux only (procfs). Any thread may call these functions.
#ifndef ASYNCWORK_TOOLS_PROCESS_USAGE_H_
#define ASYNCWORK_TOOLS_PROCESS_USAGE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace asyncwork::tools {

// ProcessUsage is one sample of the process's resources.
struct ProcessUsage {
  int64_t rss_bytes = 0;       // VmRSS: resident now
  int64_t peak_rss_bytes = 0;  // VmHWM: the most ever resident
  int threads = 0;             // Threads
  int open_fds = 0;            // entries of /proc/self/fd
};

// ParseProcStatus reads VmRSS, VmHWM and Threads from the text of a
// /proc/<pid>/status file (open_fds is left 0). A missing or malformed
// field is InvalidArgument naming it.
absl::StatusOr<ProcessUsage> ParseProcStatus(absl::string_view status);

// CountOpenFds counts the descriptors listed in `fd_dir` (a /proc/<pid>/fd
// directory), not counting the one used to read the directory itself when
// `fd_dir` is this process's. Errors name the call and the path.
absl::StatusOr<int> CountOpenFds(const std::string& fd_dir = "/proc/self/fd");

// ReadProcessUsage samples this process: /proc/self/status and
// /proc/self/fd.
absl::StatusOr<ProcessUsage> ReadProcessUsage();

// FormatBytes prints a size with a binary prefix and one decimal:
// "812 B", "3.5 KiB", "45.2 MiB", "1.1 GiB".
std::string FormatBytes(int64_t bytes);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_PROCESS_USAGE_H_
