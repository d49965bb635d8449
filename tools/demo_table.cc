#include "tools/demo_table.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/format.h"

namespace asyncwork::tools {
namespace {

constexpr char kBaseline[] = "blocking";

std::string DurationCell(const std::optional<absl::Duration>& d) {
  if (!d.has_value()) return "-";
  return FormatShortDuration(
      FractionalNanoseconds(absl::ToDoubleNanoseconds(*d)));
}

std::string PercentCell(double fraction) {
  if (fraction <= 0) return "-";
  return absl::StrFormat("%.1f%%", 100 * fraction);
}

}  // namespace

std::optional<double> SpeedupOverBaseline(const std::vector<DemoRow>& rows,
                                          const DemoRow& row,
                                          const std::string& baseline) {
  for (const DemoRow& base : rows) {
    if (base.strategy != baseline) continue;
    if (base.work_per_s <= 0) return std::nullopt;
    return row.work_per_s / base.work_per_s;
  }
  return std::nullopt;
}

std::string FormatDemoTable(const std::vector<DemoRow>& rows) {
  double fastest = 0;
  for (const DemoRow& row : rows) fastest = std::max(fastest, row.work_per_s);

  // Cells first, so each column can be as wide as its widest cell.
  const std::vector<std::string> header = {"strategy",    "work/s",
                                           "vs blocking", "of bound",
                                           "p99 latency", "cpu/request"};
  std::vector<std::vector<std::string>> cells = {header};
  for (const DemoRow& row : rows) {
    const std::optional<double> speedup =
        SpeedupOverBaseline(rows, row, kBaseline);
    cells.push_back(
        {row.strategy, FormatSi(row.work_per_s),
         speedup.has_value() ? absl::StrFormat("%.1fx", *speedup) : "-",
         PercentCell(row.bound_fraction), DurationCell(row.p99),
         DurationCell(row.cpu_per_request)});
  }
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& line : cells) {
    for (size_t i = 0; i < line.size(); ++i) {
      widths[i] = std::max(widths[i], line[i].size());
    }
  }

  std::string out;
  for (size_t r = 0; r < cells.size(); ++r) {
    const auto& line = cells[r];
    // The strategy name is left-aligned, numbers right-aligned.
    absl::StrAppendFormat(&out, "%-*s", static_cast<int>(widths[0]), line[0]);
    for (size_t i = 1; i < line.size(); ++i) {
      absl::StrAppendFormat(&out, "  %*s", static_cast<int>(widths[i]),
                            line[i]);
    }
    if (r > 0) {
      const DemoRow& row = rows[r - 1];
      int bar = 0;
      if (fastest > 0 && row.work_per_s > 0) {
        bar = std::max(1, static_cast<int>(std::lround(
                              kDemoBarWidth * row.work_per_s / fastest)));
      }
      absl::StrAppend(&out, "  ", std::string(bar, '#'));
      if (row.failed > 0) {
        absl::StrAppend(&out, bar > 0 ? " " : "", "(", row.failed, " failed)");
      }
    }
    // No trailing spaces on a line without a bar.
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  }
  return out;
}

std::string FormatHeadline(const std::vector<DemoRow>& rows) {
  const DemoRow* best = nullptr;
  for (const DemoRow& row : rows) {
    if (row.strategy == kBaseline) continue;
    if (best == nullptr || row.work_per_s > best->work_per_s) best = &row;
  }
  if (best == nullptr) return "";
  const std::optional<double> speedup =
      SpeedupOverBaseline(rows, *best, kBaseline);
  if (!speedup.has_value()) return "";
  std::string out =
      absl::StrFormat("%s finished %.1fx the work of %s in the same time",
                      best->strategy, *speedup, kBaseline);
  if (best->bound_fraction > 0) {
    absl::StrAppendFormat(&out, ", %.0f%% of what the link allows",
                          100 * best->bound_fraction);
  }
  out += ".\n";
  return out;
}

}  // namespace asyncwork::tools
