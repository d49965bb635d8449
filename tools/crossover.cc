#include "tools/crossover.h"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/format.h"

namespace asyncwork::tools {
namespace {

// Rates along one line of the grid: axis value -> strategy -> work per
// second.
using Line = std::map<double, std::map<std::string, double>>;

// Order compares a ratio with the tie band: +1 when the first strategy
// leads, -1 when the second does, 0 for a tie.
int Order(double ratio, double tolerance) {
  if (ratio > 1 + tolerance) return 1;
  if (ratio < 1 / (1 + tolerance)) return -1;
  return 0;
}

void FindOnLine(SweepAxis axis, const GridPoint& key, const Line& line,
                double tolerance, std::vector<Crossover>* out) {
  std::set<std::string> strategies;
  for (const auto& [value, rates] : line) {
    for (const auto& [strategy, rate] : rates) strategies.insert(strategy);
  }
  std::vector<Crossover> found;
  for (const std::string& a : strategies) {
    for (const std::string& b : strategies) {
      if (a == b) continue;
      // The order at the previous value where both were measured.
      std::optional<int> last_order;
      double last_value = 0;
      double last_ratio = 0;
      for (const auto& [value, rates] : line) {
        const auto ra = rates.find(a);
        const auto rb = rates.find(b);
        if (ra == rates.end() || rb == rates.end()) continue;
        if (ra->second <= 0 || rb->second <= 0) continue;
        const double ratio = ra->second / rb->second;
        const int order = Order(ratio, tolerance);
        if (last_order.has_value() && *last_order <= 0 && order > 0) {
          Crossover c;
          c.overtaker = a;
          c.overtaken = b;
          c.axis = axis;
          c.from = last_value;
          c.to = value;
          c.where = key;
          c.where.at[static_cast<int>(axis)] = last_value;
          c.ratio_from = last_ratio;
          c.ratio_to = ratio;
          found.push_back(std::move(c));
        }
        last_order = order;
        last_value = value;
        last_ratio = ratio;
      }
    }
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const Crossover& x, const Crossover& y) {
                     return std::tie(x.from, x.overtaker, x.overtaken) <
                            std::tie(y.from, y.overtaker, y.overtaken);
                   });
  out->insert(out->end(), found.begin(), found.end());
}

}  // namespace

absl::string_view SweepAxisName(SweepAxis axis) {
  switch (axis) {
    case SweepAxis::kLatency:
      return "latency";
    case SweepAxis::kInFlight:
      return "window";
    case SweepAxis::kCost:
      return "cost";
  }
  return "?";
}

std::string FormatAxisValue(SweepAxis axis, double value) {
  if (axis == SweepAxis::kLatency) {
    if (value == 0) return "0";
    return FormatShortDuration(FractionalMicroseconds(value));
  }
  return absl::StrFormat("%g", value);
}

std::vector<Crossover> FindCrossovers(const std::vector<StrategyRate>& rates,
                                      double tolerance) {
  std::vector<Crossover> out;
  for (int a = 0; a < kSweepAxes; ++a) {
    const auto axis = static_cast<SweepAxis>(a);
    // Lines keyed by the other axes' values (this axis' entry zeroed).
    std::map<GridPoint, Line> lines;
    for (const StrategyRate& r : rates) {
      GridPoint key = r.where;
      key.at[a] = 0;
      lines[key][r.where[axis]][r.strategy] = r.work_per_s;
    }
    for (const auto& [key, line] : lines) {
      FindOnLine(axis, key, line, tolerance, &out);
    }
  }
  return out;
}

std::vector<CrossoverGroup> GroupCrossovers(
    const std::vector<Crossover>& crossovers) {
  std::vector<CrossoverGroup> groups;
  for (const Crossover& c : crossovers) {
    auto same = [&c](const CrossoverGroup& g) {
      return g.axis == c.axis && g.from == c.from && g.to == c.to &&
             g.where == c.where && g.overtaken == c.overtaken;
    };
    auto it = std::find_if(groups.begin(), groups.end(), same);
    if (it == groups.end()) {
      groups.push_back({c.axis, c.from, c.to, c.where, c.overtaken, {}});
      it = std::prev(groups.end());
    }
    it->overtakers.push_back(c);
  }
  for (CrossoverGroup& g : groups) {
    std::stable_sort(g.overtakers.begin(), g.overtakers.end(),
                     [](const Crossover& x, const Crossover& y) {
                       return x.ratio_to > y.ratio_to;
                     });
  }
  return groups;
}

std::string DescribeCrossoverGroup(const CrossoverGroup& g) {
  std::string fixed;
  for (int a = 0; a < kSweepAxes; ++a) {
    const auto other = static_cast<SweepAxis>(a);
    if (other == g.axis) continue;
    absl::StrAppend(&fixed, fixed.empty() ? "" : ", ", SweepAxisName(other),
                    " ", FormatAxisValue(other, g.where[other]));
  }
  std::string out =
      absl::StrCat(SweepAxisName(g.axis), " ", FormatAxisValue(g.axis, g.from),
                   " -> ", FormatAxisValue(g.axis, g.to), " (", fixed,
                   "): ", g.overtaken, " falls behind ");
  for (size_t i = 0; i < g.overtakers.size(); ++i) {
    const Crossover& c = g.overtakers[i];
    absl::StrAppendFormat(&out, "%s%s (%.2gx -> %.2gx)", i == 0 ? "" : ", ",
                          c.overtaker, c.ratio_from, c.ratio_to);
  }
  return out;
}

}  // namespace asyncwork::tools
