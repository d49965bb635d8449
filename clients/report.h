// report.h: what a client run prints: a human summary, the same as one JSON
// object (--json), and a live progress line while it runs.
//
//   ProgressLine progress(STDOUT_FILENO);      // silent unless a terminal
//   while (running) { ...; progress.Update(stats); }
//   progress.Finish();                          // erases the line
//   std::fputs((json ? FormatJson(stats, "callback")
//                    : FormatSummary(stats, "callback")).c_str(), stdout);
//
// FormatSummary prints, for example:
//
//   callback: 10000 completed, 2 failed of 10002 started in 1.234 s
//   work per second: 8103.4
//   latency from due time: p50 1.23 ms  p99 4.56 ms  p999 7.89 ms  max 10.1 ms
//   cpu per request: 12.3 us (123.0 ms in all)
//   failed by cause: connection closed 1, deadline exceeded 1
//   first failures:
//     request 17: connection closed (read: Connection reset by peer)
//     request 20: deadline exceeded
#ifndef ASYNCWORK_CLIENTS_REPORT_H_
#define ASYNCWORK_CLIENTS_REPORT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/run_stats.h"

namespace asyncwork::clients {

// FormatSummary returns the human summary of a run by `strategy`, several
// lines each ending in '\n'.
std::string FormatSummary(const RunStats& stats, absl::string_view strategy);

// FormatJson returns the run as one JSON object on one line, ending in '\n':
//   strategy (only when `strategy` is not empty), work_per_s, completed,
//   errors (the failed count), started, p50_us, p99_us, p999_us, max_us,
//   mean_us, cpu_us_per_request, wall_s, cpu_s, failed_by_cause (an object
//   with every FailureCauseKey, zeros included), first_failures (an array of
//   {"request", "cause", "detail"}).
// Numbers are JSON numbers (never NaN or infinity); strings are escaped.
std::string FormatJson(const RunStats& stats, absl::string_view strategy = {});

// ProgressLine redraws one line on a terminal while a run goes on:
//   "4123 completed  8200/s  16 in flight  1 failed"
// with the rate over the time since the previous redraw. It draws at most
// once per `interval`, the first time `interval` after `start`, and only when
// `fd` is a terminal; on anything else it writes nothing at all.
//
// The fd is not owned and must stay open while the ProgressLine lives. One
// thread at a time may call it (the thread that drives the run).
class ProgressLine {
 public:
  static constexpr absl::Duration kDefaultInterval = absl::Milliseconds(100);

  explicit ProgressLine(int fd, absl::Time start = absl::Now(),
                        absl::Duration interval = kDefaultInterval);
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  // ~ProgressLine erases the line, as Finish does.
  ~ProgressLine();

  // enabled returns whether the fd is a terminal, so anything is drawn.
  bool enabled() const { return enabled_; }

  // Update redraws the line if enabled and `interval` has passed since the
  // last redraw; otherwise it returns at once. Cheap enough to call after
  // every request.
  void Update(uint64_t completed, uint64_t failed, uint64_t in_flight,
              absl::Time now = absl::Now());
  void Update(const RunStats& stats, absl::Time now = absl::Now());

  // Finish erases the line if one was drawn, leaving the cursor at the start
  // of the empty line for the summary. Later Updates draw nothing.
  void Finish();

 private:
  void Write(absl::string_view text);

  int fd_;
  bool enabled_;
  bool drawn_ = false;
  absl::Duration interval_;
  absl::Time last_draw_;
  uint64_t completed_at_last_draw_ = 0;
};

namespace internal {

// JsonQuote returns `text` as a JSON string literal, quotes included:
// '"' and '\\' escaped, control characters as \n, \t, ... or \u00XX. Other
// bytes pass through unchanged (the text is taken to be UTF-8).
std::string JsonQuote(absl::string_view text);

}  // namespace internal
}  // namespace asyncwork::clients

#endif  // ASYNCWORK_CLIENTS_REPORT_H_
