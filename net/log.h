// log.h: one-line diagnostics on stderr.
//
// Abseil 20220623 has no absl/log, and asyncwork needs only a few log lines
// (a connection closed for a protocol error, a limit reached), so this is a
// deliberately small logger: a severity, a timestamp, a message.
//
//   LogWarning(absl::StrCat("closing ", peer, ": ", status.ToString()));
#ifndef ASYNCWORK_NET_LOG_H_
#define ASYNCWORK_NET_LOG_H_

#include "absl/strings/string_view.h"

namespace asyncwork::net {

enum class LogSeverity { kInfo, kWarning, kError };

// SetMinLogSeverity drops lines below `severity` (default kInfo). Thread-safe.
void SetMinLogSeverity(LogSeverity severity);

// Log writes one line to stderr, whole, even when threads log at once.
void Log(LogSeverity severity, absl::string_view message);

inline void LogInfo(absl::string_view message) {
  Log(LogSeverity::kInfo, message);
}
inline void LogWarning(absl::string_view message) {
  Log(LogSeverity::kWarning, message);
}
inline void LogError(absl::string_view message) {
  Log(LogSeverity::kError, message);
}

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_LOG_H_
