#include "tools/sweep_lib.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/format.h"

namespace asyncwork::tools {
namespace {

// PointKey orders grid points as the sweep visits them.
using PointKey = std::tuple<uint32_t, absl::Duration, int>;

PointKey KeyOf(const CellSpec& spec) {
  return {spec.cost, spec.latency, spec.in_flight};
}

std::string FormatLatency(absl::Duration d) {
  return FormatAxisValue(SweepAxis::kLatency, absl::ToDoubleMicroseconds(d));
}

// Table prints one value of each cell as a grid-point-by-strategy table.
std::string Table(const SweepGrid& grid, const std::vector<SweepCell>& cells,
                  double (*value)(const SweepCell&)) {
  std::map<PointKey, std::map<std::string, double>> rows;
  for (const SweepCell& cell : cells) {
    rows[KeyOf(cell.spec)][cell.spec.strategy] = value(cell);
  }
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> header = {"cost", "latency", "window"};
  for (const std::string& s : grid.strategies) header.push_back(s);
  lines.push_back(header);
  for (const auto& [key, by_strategy] : rows) {
    const auto& [cost, latency, in_flight] = key;
    double best = 0;
    for (const auto& [s, v] : by_strategy) best = std::max(best, v);
    std::vector<std::string> line = {absl::StrCat(cost), FormatLatency(latency),
                                     absl::StrCat(in_flight)};
    for (const std::string& s : grid.strategies) {
      const auto it = by_strategy.find(s);
      if (it == by_strategy.end()) {
        line.push_back("-");
        continue;
      }
      line.push_back(absl::StrCat(FormatSi(it->second),
                                  it->second == best && best > 0 ? "*" : " "));
    }
    lines.push_back(std::move(line));
  }
  std::vector<size_t> widths(header.size(), 0);
  for (const auto& line : lines) {
    for (size_t i = 0; i < line.size(); ++i) {
      widths[i] = std::max(widths[i], line[i].size());
    }
  }
  std::string out;
  for (const auto& line : lines) {
    std::string text;
    for (size_t i = 0; i < line.size(); ++i) {
      absl::StrAppendFormat(&text, "  %*s", static_cast<int>(widths[i]),
                            line[i]);
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    absl::StrAppend(&out, text, "\n");
  }
  return out;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// JsonNumber prints a finite number so that it reads back the same; NaN and
// infinities, which JSON has no room for, print as 0.
std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "0";
  return absl::StrFormat("%.17g", v);
}

}  // namespace

size_t CellCount(const SweepGrid& grid) {
  return grid.strategies.size() * grid.latencies.size() *
         grid.in_flights.size() * grid.costs.size();
}

absl::Status RunSweep(const SweepGrid& grid, const CellRunner& run,
                      const CellDone& done, std::vector<SweepCell>* cells) {
  const size_t total = CellCount(grid);
  size_t index = 0;
  for (uint32_t cost : grid.costs) {
    for (absl::Duration latency : grid.latencies) {
      for (int in_flight : grid.in_flights) {
        for (const std::string& strategy : grid.strategies) {
          CellSpec spec{strategy, latency, in_flight, cost};
          absl::StatusOr<SweepCell> cell = run(spec);
          if (!cell.ok()) {
            return absl::Status(
                cell.status().code(),
                absl::StrCat(strategy, " at latency ", FormatLatency(latency),
                             ", window ", in_flight, ", cost ", cost, ": ",
                             cell.status().message()));
          }
          cell->spec = spec;
          cells->push_back(*cell);
          if (done) done(index, total, cells->back());
          ++index;
        }
      }
    }
  }
  return absl::OkStatus();
}

std::vector<StrategyRate> RatesOf(const std::vector<SweepCell>& cells) {
  std::vector<StrategyRate> rates;
  rates.reserve(cells.size());
  for (const SweepCell& cell : cells) {
    rates.push_back({cell.spec.strategy,
                     GridPoint{{absl::ToDoubleMicroseconds(cell.spec.latency),
                                static_cast<double>(cell.spec.in_flight),
                                static_cast<double>(cell.spec.cost)}},
                     cell.result.work_per_s});
  }
  return rates;
}

std::string FormatSweepReport(const SweepGrid& grid,
                              const std::vector<SweepCell>& cells,
                              double tolerance) {
  std::string out = absl::StrFormat(
      "sweep: op %s, %d-byte requests, %s server, link %s, %s per cell, "
      "%d cells; cost is the op's arg\n",
      OpFlagName(grid.op), grid.size, grid.server,
      grid.bandwidth.has_value() ? sim::FormatBandwidth(grid.bandwidth)
                                 : "uncapped",
      absl::FormatDuration(grid.per_cell), cells.size());
  absl::StrAppend(&out, "\nwork per second (* marks the best in each row):\n",
                  Table(grid, cells, [](const SweepCell& c) {
                    return c.result.work_per_s;
                  }));
  absl::StrAppend(&out,
                  "\nwork per CPU-second, client and server together "
                  "(* marks the best):\n",
                  Table(grid, cells, [](const SweepCell& c) {
                    return c.result.work_per_cpu_s;
                  }));

  const std::vector<CrossoverGroup> crossovers =
      GroupCrossovers(FindCrossovers(RatesOf(cells), tolerance));
  absl::StrAppendFormat(&out,
                        "\nwhere one strategy pulls ahead of another (rates "
                        "within %.0f%% tie):\n",
                        100 * tolerance);
  if (crossovers.empty()) absl::StrAppend(&out, "  nowhere\n");
  for (const CrossoverGroup& g : crossovers) {
    absl::StrAppend(&out, "  ", DescribeCrossoverGroup(g), "\n");
  }

  absl::StrAppend(&out, "\nmedian over the grid:\n");
  for (const std::string& strategy : grid.strategies) {
    std::vector<double> per_cpu;
    std::vector<double> of_bound;
    for (const SweepCell& cell : cells) {
      if (cell.spec.strategy != strategy) continue;
      per_cpu.push_back(cell.result.work_per_cpu_s);
      if (cell.result.bound_per_s > 0) {
        of_bound.push_back(cell.result.work_per_s / cell.result.bound_per_s);
      }
    }
    if (per_cpu.empty()) continue;
    absl::StrAppendFormat(&out, "  %-10s %s work per CPU-second", strategy,
                          FormatSi(Median(per_cpu)));
    if (!of_bound.empty()) {
      absl::StrAppendFormat(&out, ", %.0f%% of the bound",
                            100 * Median(of_bound));
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

std::string FormatSweepJson(const SweepGrid& grid,
                            const std::vector<SweepCell>& cells) {
  // Names come from fixed sets (strategy, server and op names), none of
  // which needs escaping in a JSON string.
  std::vector<std::string> entries;
  entries.reserve(cells.size());
  for (const SweepCell& cell : cells) {
    std::string op(OpFlagName(grid.op));
    if (grid.costs.size() > 1) absl::StrAppend(&op, " arg ", cell.spec.cost);
    std::string e = absl::StrFormat(
        "{\"strategy\": \"%s\", \"server\": \"%s\", \"op\": \"%s\", "
        "\"arg\": %d, \"size\": %d, \"latency_us\": %s, \"in_flight\": %d",
        cell.spec.strategy, grid.server, op, cell.spec.cost, grid.size,
        JsonNumber(absl::ToDoubleMicroseconds(cell.spec.latency)),
        cell.spec.in_flight);
    if (grid.bandwidth.has_value()) {
      absl::StrAppend(&e, ", \"bandwidth_kbit\": ",
                      JsonNumber(grid.bandwidth->bits_per_second() / 1000.0));
    }
    absl::StrAppend(
        &e, ", \"work_per_s\": ", JsonNumber(cell.result.work_per_s),
        ", \"work_per_cpu_s\": ", JsonNumber(cell.result.work_per_cpu_s));
    if (cell.result.bound_per_s > 0) {
      absl::StrAppend(
          &e, ", \"bound_per_s\": ", JsonNumber(cell.result.bound_per_s));
    }
    absl::StrAppend(&e, ", \"p50_us\": ",
                    JsonNumber(absl::ToDoubleMicroseconds(cell.result.p50)),
                    ", \"p99_us\": ",
                    JsonNumber(absl::ToDoubleMicroseconds(cell.result.p99)),
                    ", \"completed\": ", cell.result.completed,
                    ", \"failed\": ", cell.result.failed, "}");
    entries.push_back(std::move(e));
  }
  return absl::StrCat("{\"results\": [\n  ", absl::StrJoin(entries, ",\n  "),
                      "\n]}\n");
}

absl::StatusOr<std::vector<absl::Duration>> ParseLatencyList(
    absl::string_view flag, absl::string_view text) {
  std::vector<absl::Duration> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    absl::StatusOr<absl::Duration> d = sim::ParseLatency(flag, item);
    if (!d.ok()) return d.status();
    out.push_back(*d);
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", text, ": needs at least one value"));
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> ParseIntList(absl::string_view flag,
                                                  absl::string_view text,
                                                  int64_t min, int64_t max) {
  std::vector<int64_t> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int64_t v;
    if (!absl::SimpleAtoi(item, &v) || v < min || v > max) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", flag, "=", text, ": '", item,
                       "' is not a whole number from ", min, " to ", max));
    }
    out.push_back(v);
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, "=", text, ": needs at least one value"));
  }
  return out;
}

}  // namespace asyncwork::tools
