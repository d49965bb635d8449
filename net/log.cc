#include "net/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace asyncwork::net {
namespace {

std::atomic<LogSeverity> min_severity{LogSeverity::kInfo};

const char* SeverityLetter(LogSeverity severity) {
  switch (severity) {
    case LogSeverity::kInfo:
      return "I";
    case LogSeverity::kWarning:
      return "W";
    case LogSeverity::kError:
      return "E";
  }
  return "?";
}

// LogTimeZone is the local time zone, looked up once: absl::LocalTimeZone()
// takes a process-wide lock on every call, and a child a forking server
// forks while another thread holds it would hang at its first log line.
const absl::TimeZone& LogTimeZone() {
  static const absl::TimeZone* const zone =
      new absl::TimeZone(absl::LocalTimeZone());
  return *zone;
}

}  // namespace

void SetMinLogSeverity(LogSeverity severity) { min_severity.store(severity); }

void Log(LogSeverity severity, absl::string_view message) {
  if (severity < min_severity.load(std::memory_order_relaxed)) return;
  std::string line = absl::StrCat(
      SeverityLetter(severity),
      absl::FormatTime("%H:%M:%E6S ", absl::Now(), LogTimeZone()),
      message, "\n");
  // One write(2) per line keeps concurrent lines from interleaving.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace asyncwork::net
