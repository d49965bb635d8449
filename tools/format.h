// format.h: short human-readable numbers for the tools' tables and charts.
//
//   FormatShortDuration(FractionalMicroseconds(2234.1))  // "2.234 ms"
//   FormatSi(29140, "/s")                       // "29.14k/s"
//   FormatSi(1e6)                               // "1M"
//
// Both keep four significant digits, enough to see a 0.1 % change.
#ifndef ASYNCWORK_TOOLS_FORMAT_H_
#define ASYNCWORK_TOOLS_FORMAT_H_

#include <chrono>
#include <string>

#include "absl/strings/string_view.h"

namespace asyncwork::tools {

// Durations as Google Benchmark reports them: fractional, often below a
// nanosecond (absl::Duration would round to a quarter nanosecond).
using FractionalNanoseconds = std::chrono::duration<double, std::nano>;
using FractionalMicroseconds = std::chrono::duration<double, std::micro>;

// FormatShortDuration prints `d` in ns, us, ms or s, whichever keeps the
// number between 1 and 1000.
std::string FormatShortDuration(FractionalNanoseconds d);

// FormatSi prints `value` with a k, M or G prefix when it is that large,
// followed by `unit`.
std::string FormatSi(double value, absl::string_view unit = "");

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_FORMAT_H_
