#include "tools/process_usage.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace asyncwork::tools {
namespace {

// FieldValue returns the text after "name:" on the line that starts with it,
// stripped of white space; empty when there is no such line.
absl::string_view FieldValue(absl::string_view status, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (absl::ConsumePrefix(&line, name) && absl::ConsumePrefix(&line, ":")) {
      return absl::StripAsciiWhitespace(line);
    }
  }
  return {};
}

// ParseKilobytes reads a "1234 kB" field as bytes.
absl::StatusOr<int64_t> ParseKilobytes(absl::string_view status,
                                       absl::string_view name) {
  absl::string_view value = FieldValue(status, name);
  int64_t kilobytes = 0;
  if (!absl::ConsumeSuffix(&value, " kB") ||
      !absl::SimpleAtoi(absl::StripAsciiWhitespace(value), &kilobytes) ||
      kilobytes < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("/proc status: no valid ", name, " field (\"",
                     FieldValue(status, name), "\")"));
  }
  return kilobytes * 1024;
}

struct DirCloser {
  void operator()(DIR* dir) const { closedir(dir); }
};

}  // namespace

absl::StatusOr<ProcessUsage> ParseProcStatus(absl::string_view status) {
  ProcessUsage usage;
  absl::StatusOr<int64_t> rss = ParseKilobytes(status, "VmRSS");
  if (!rss.ok()) return rss.status();
  absl::StatusOr<int64_t> peak = ParseKilobytes(status, "VmHWM");
  if (!peak.ok()) return peak.status();
  usage.rss_bytes = *rss;
  usage.peak_rss_bytes = *peak;
  if (!absl::SimpleAtoi(FieldValue(status, "Threads"), &usage.threads) ||
      usage.threads < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("/proc status: no valid Threads field (\"",
                     FieldValue(status, "Threads"), "\")"));
  }
  return usage;
}

absl::StatusOr<int> CountOpenFds(const std::string& fd_dir) {
  std::unique_ptr<DIR, DirCloser> dir(opendir(fd_dir.c_str()));
  if (dir == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("opendir ", fd_dir));
  }
  // Reading our own fd directory lists the descriptor that reads it.
  const bool own = fd_dir == "/proc/self/fd" ||
                   fd_dir == absl::StrCat("/proc/", getpid(), "/fd");
  const std::string reader = absl::StrCat(dirfd(dir.get()));
  int count = 0;
  errno = 0;
  while (const dirent* entry = readdir(dir.get())) {
    const absl::string_view name = entry->d_name;
    if (name == "." || name == ".." || (own && name == reader)) continue;
    ++count;
  }
  if (errno != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("readdir ", fd_dir));
  }
  return count;
}

absl::StatusOr<ProcessUsage> ReadProcessUsage() {
  std::ifstream file("/proc/self/status");
  std::ostringstream text;
  text << file.rdbuf();
  if (!file) {
    return absl::ErrnoToStatus(errno, "read /proc/self/status");
  }
  absl::StatusOr<ProcessUsage> usage = ParseProcStatus(text.str());
  if (!usage.ok()) return usage.status();
  // Counted after the status file is closed, so it is not among them.
  file.close();
  absl::StatusOr<int> fds = CountOpenFds();
  if (!fds.ok()) return fds.status();
  usage->open_fds = *fds;
  return usage;
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  constexpr const char* kPrefixes[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes) / 1024;
  size_t prefix = 0;
  while (value >= 1024 && prefix + 1 < std::size(kPrefixes)) {
    value /= 1024;
    ++prefix;
  }
  return absl::StrFormat("%.1f %s", value, kPrefixes[prefix]);
}

}  // namespace asyncwork::tools
