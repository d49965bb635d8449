#include "clients/report.h"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace asyncwork::clients {
namespace {

// The percentiles every report shows, with their names in text and JSON.
struct Percentile {
  double value;
  absl::string_view label;
  absl::string_view json_key;
};
constexpr Percentile kPercentiles[] = {
    {50, "p50", "p50_us"}, {99, "p99", "p99_us"}, {99.9, "p999", "p999_us"}};

// FormatLatency picks the unit a person reads most easily; three significant
// digits is all the histogram promises anyway.
std::string FormatLatency(absl::Duration d) {
  double us = absl::ToDoubleMicroseconds(d);
  if (us < 1000) return absl::StrFormat("%.1f us", us);
  if (us < 1e6) return absl::StrFormat("%.2f ms", us / 1e3);
  return absl::StrFormat("%.3f s", us / 1e6);
}

// JsonNumber prints microseconds or seconds with fixed decimals: plain JSON
// numbers at nanosecond precision, never exponents, NaN or infinity.
std::string JsonNumber(double value, int decimals) {
  if (!(value == value) || value > 1e300 || value < -1e300) return "0";
  return absl::StrFormat("%.*f", decimals, value);
}

std::string JsonMicros(absl::Duration d) {
  return JsonNumber(absl::ToDoubleMicroseconds(d), 3);
}

}  // namespace

namespace internal {

std::string JsonQuote(absl::string_view text) {
  // The characters JSON gives a short escape, and those escapes, in order.
  constexpr absl::string_view kShort = "\"\\\b\f\n\r\t";
  constexpr const char* kEscaped[] = {"\\\"", "\\\\", "\\b", "\\f",
                                      "\\n",  "\\r",  "\\t"};
  std::string out = "\"";
  for (char c : text) {
    size_t k = kShort.find(c);
    if (k != absl::string_view::npos) {
      out += kEscaped[k];
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

}  // namespace internal

std::string FormatSummary(const RunStats& stats, absl::string_view strategy) {
  std::string out =
      absl::StrFormat("%s: %d completed, %d failed of %d started in %s\n",
                      strategy, stats.completed(), stats.failed(),
                      stats.started(), FormatLatency(stats.wall_time()));
  if (stats.in_flight() > 0) {
    absl::StrAppendFormat(&out, "still in flight: %d\n", stats.in_flight());
  }
  absl::StrAppendFormat(&out, "work per second: %.1f\n", stats.WorkPerSecond());
  const LatencyHistogram& latency = stats.latency();
  if (latency.Count() == 0) {
    out += "latency from due time: no request completed\n";
  } else {
    out += "latency from due time:";
    for (const Percentile& p : kPercentiles) {
      absl::StrAppend(&out, " ", p.label, " ",
                      FormatLatency(latency.ValueAtPercentile(p.value)), " ");
    }
    absl::StrAppend(&out, " max ", FormatLatency(latency.Max()), "\n");
  }
  absl::StrAppend(&out,
                  "cpu per request: ", FormatLatency(stats.CpuPerRequest()),
                  " (", FormatLatency(stats.cpu_time()), " in all)\n");
  if (stats.failed() == 0) return out;
  std::vector<std::string> causes;
  for (FailureCause cause : AllFailureCauses()) {
    if (stats.failed(cause) == 0) continue;
    causes.push_back(
        absl::StrCat(FailureCauseName(cause), " ", stats.failed(cause)));
  }
  absl::StrAppend(&out, "failed by cause: ", absl::StrJoin(causes, ", "),
                  "\nfirst failures:\n");
  for (const Failure& failure : stats.first_failures()) {
    absl::StrAppend(&out, "  ", failure.ToString(), "\n");
  }
  if (stats.failed() > stats.first_failures().size()) {
    absl::StrAppendFormat(&out, "  ... and %d more\n",
                          stats.failed() - stats.first_failures().size());
  }
  return out;
}

std::string FormatJson(const RunStats& stats, absl::string_view strategy) {
  const LatencyHistogram& latency = stats.latency();
  std::string out = "{";
  if (!strategy.empty()) {
    absl::StrAppend(&out, "\"strategy\":", internal::JsonQuote(strategy), ",");
  }
  absl::StrAppend(&out, "\"work_per_s\":", JsonNumber(stats.WorkPerSecond(), 3),
                  ",\"completed\":", stats.completed(),
                  ",\"errors\":", stats.failed(),
                  ",\"started\":", stats.started());
  for (const Percentile& p : kPercentiles) {
    absl::StrAppend(&out, ",\"", p.json_key,
                    "\":", JsonMicros(latency.ValueAtPercentile(p.value)));
  }
  absl::StrAppend(
      &out, ",\"max_us\":", JsonMicros(latency.Max()),
      ",\"mean_us\":", JsonMicros(latency.Mean()),
      ",\"cpu_us_per_request\":", JsonMicros(stats.CpuPerRequest()),
      ",\"wall_s\":", JsonNumber(absl::ToDoubleSeconds(stats.wall_time()), 9),
      ",\"cpu_s\":", JsonNumber(absl::ToDoubleSeconds(stats.cpu_time()), 9),
      ",\"failed_by_cause\":{");
  const char* separator = "";
  for (FailureCause cause : AllFailureCauses()) {
    absl::StrAppend(&out, separator, "\"", FailureCauseKey(cause),
                    "\":", stats.failed(cause));
    separator = ",";
  }
  out += "},\"first_failures\":[";
  separator = "";
  for (const Failure& failure : stats.first_failures()) {
    absl::StrAppend(&out, separator, "{\"request\":", failure.request_id,
                    ",\"cause\":\"", FailureCauseKey(failure.cause),
                    "\",\"detail\":", internal::JsonQuote(failure.detail), "}");
    separator = ",";
  }
  out += "]}\n";
  return out;
}

ProgressLine::ProgressLine(int fd, absl::Time start, absl::Duration interval)
    : fd_(fd),
      enabled_(::isatty(fd) == 1),
      interval_(interval),
      last_draw_(start) {}

ProgressLine::~ProgressLine() { Finish(); }

void ProgressLine::Update(const RunStats& stats, absl::Time now) {
  Update(stats.completed(), stats.failed(), stats.in_flight(), now);
}

void ProgressLine::Update(uint64_t completed, uint64_t failed,
                          uint64_t in_flight, absl::Time now) {
  if (!enabled_ || now - last_draw_ < interval_) return;
  // The rate over the last interval, not since the start, so that a stall
  // shows as it happens instead of being averaged away.
  double seconds = absl::ToDoubleSeconds(now - last_draw_);
  uint64_t done = completed >= completed_at_last_draw_
                      ? completed - completed_at_last_draw_
                      : 0;
  double rate = static_cast<double>(done) / seconds;
  std::string line = absl::StrFormat("\r%d completed  %.0f/s  %d in flight",
                                     completed, rate, in_flight);
  if (failed > 0) absl::StrAppendFormat(&line, "  %d failed", failed);
  // Erase to the end of the line: the new text may be shorter than the old.
  line += "\x1b[K";
  Write(line);
  drawn_ = true;
  last_draw_ = now;
  completed_at_last_draw_ = completed;
}

void ProgressLine::Finish() {
  if (drawn_) Write("\r\x1b[K");
  drawn_ = false;
  enabled_ = false;
}

void ProgressLine::Write(absl::string_view text) {
  // The line is cosmetic: a terminal that will not take it (EAGAIN on a
  // non-blocking tty, a hang-up) loses a frame, never the run.
  while (!text.empty()) {
    ssize_t n = ::write(fd_, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace asyncwork::clients
