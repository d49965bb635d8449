// demo_table.h: the demo's closing table, which has to make the headline
// visible at a glance: the other strategies finish far more work than the
// blocking client in the same time.
//
//   std::vector<DemoRow> rows = {
//       {.strategy = "blocking", .work_per_s = 48.5, .bound_fraction = 0.03},
//       {.strategy = "callback", .work_per_s = 1520, .bound_fraction = 0.95}};
//   std::fputs(FormatDemoTable(rows).c_str(), stdout);
//
// prints
//
//   strategy   work/s  vs blocking  of bound  p99 latency  cpu/request
//   blocking     48.5         1.0x      3.0%            -            -  #
//   callback    1.52k        31.3x     95.0%            -            -
//   ##########...
//
// and FormatHeadline sums it up in one sentence.
#ifndef ASYNCWORK_TOOLS_DEMO_TABLE_H_
#define ASYNCWORK_TOOLS_DEMO_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace asyncwork::tools {

// DemoRow is one strategy's result.
struct DemoRow {
  // Members have defaults so designated initializers may leave any out.
  std::string strategy = {};
  double work_per_s = 0;
  uint64_t completed = 0;
  uint64_t failed = 0;
  // Measured rate / theoretical bound (bound.h); 0 when there is no bound.
  double bound_fraction = 0;
  std::optional<absl::Duration> p99 = std::nullopt;
  std::optional<absl::Duration> cpu_per_request = std::nullopt;
};

// kDemoBarWidth is the length of the bar of the fastest strategy.
inline constexpr int kDemoBarWidth = 40;

// SpeedupOverBaseline returns row.work_per_s over the work per second of the
// row named `baseline`, or std::nullopt when there is no such row or it did
// no work.
std::optional<double> SpeedupOverBaseline(const std::vector<DemoRow>& rows,
                                          const DemoRow& row,
                                          const std::string& baseline);

// FormatDemoTable returns the table: a header line, then one line per row in
// the given order, columns aligned, each ending in '\n'. The last column is
// a bar of '#' proportional to work per second, kDemoBarWidth for the
// fastest row and at least one '#' for any row that did some work. The
// speedup is over the "blocking" row ("-" without one); unknown values print
// as "-". A row with failures says how many after its bar.
std::string FormatDemoTable(const std::vector<DemoRow>& rows);

// FormatHeadline returns one sentence about the fastest row against
// "blocking", e.g. "callback finished 31.3x the work of blocking in the same
// time, 95% of what the link allows.\n"; an empty string when either is
// missing or blocking did no work.
std::string FormatHeadline(const std::vector<DemoRow>& rows);

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_DEMO_TABLE_H_
