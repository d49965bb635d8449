#include "tools/result_points.h"

#include <cmath>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/benchmark_results.h"

namespace asyncwork::tools {
namespace {

// The configuration fields both formats share, and whether each is a number.
struct Field {
  absl::string_view key;
  std::string ResultPoint::*text;
  std::optional<double> ResultPoint::*number;
};
constexpr Field kConfigFields[] = {
    {"server", &ResultPoint::server, nullptr},
    {"op", &ResultPoint::op, nullptr},
    {"latency_us", nullptr, &ResultPoint::latency_us},
    {"bandwidth_kbit", nullptr, &ResultPoint::bandwidth_kbit},
    {"in_flight", nullptr, &ResultPoint::in_flight},
    {"size", nullptr, &ResultPoint::size},
};

std::optional<double> Mean(const BenchmarkRun& run, const std::string& key) {
  const auto it = run.metrics.find(key);
  if (it == run.metrics.end() || it->second.empty()) return std::nullopt;
  return std::accumulate(it->second.begin(), it->second.end(), 0.0) /
         static_cast<double>(it->second.size());
}

absl::StatusOr<std::vector<ResultPoint>> FromGoogleBenchmark(
    const JsonValue& doc, int& skipped) {
  absl::StatusOr<BenchmarkResults> results = ParseBenchmarkResults(doc);
  if (!results.ok()) return results.status();
  std::vector<ResultPoint> points;
  for (const BenchmarkRun& run : results->runs) {
    const std::map<std::string, std::string> args = ParseNamedArgs(run.name);
    const auto strategy = args.find("strategy");
    const std::optional<double> work = Mean(run, "items_per_second");
    if (strategy == args.end() || !work.has_value()) {
      ++skipped;
      continue;
    }
    ResultPoint p;
    p.strategy = strategy->second;
    for (const Field& f : kConfigFields) {
      const auto arg = args.find(std::string(f.key));
      if (arg == args.end()) continue;
      if (f.text != nullptr) {
        p.*f.text = arg->second;
        continue;
      }
      double value;
      if (!absl::SimpleAtod(arg->second, &value) || !std::isfinite(value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(run.name, ": ", f.key, ":", arg->second,
                         " is not a number"));
      }
      p.*f.number = value;
    }
    p.work_per_s = *work;
    const std::optional<double> fraction = Mean(run, "bound_fraction");
    if (fraction.has_value() && *fraction > 0) {
      p.bound_per_s = *work / *fraction;
    }
    p.p50_us = Mean(run, "p50_us");
    p.p99_us = Mean(run, "p99_us");
    points.push_back(std::move(p));
  }
  return points;
}

// TypeError names the entry and key whose value has the wrong type.
absl::Status TypeError(absl::string_view where, absl::string_view key,
                       absl::string_view expected, const JsonValue& found) {
  return absl::InvalidArgumentError(absl::StrCat(
      where, ".", key, ": expected a ", expected, ", found ", found.TypeName()));
}

absl::Status ReadNumber(const JsonValue& entry, absl::string_view where,
                        absl::string_view key, std::optional<double>& out) {
  const JsonValue* v = entry.Find(key);
  if (v == nullptr || v->IsNull()) return absl::OkStatus();
  if (v->AsNumber() == nullptr || !std::isfinite(*v->AsNumber())) {
    return TypeError(where, key, "finite number", *v);
  }
  out = *v->AsNumber();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ResultPoint>> FromNativeResults(
    const JsonValue::Array& results) {
  std::vector<ResultPoint> points;
  for (size_t i = 0; i < results.size(); ++i) {
    const JsonValue& entry = results[i];
    const std::string where = absl::StrCat("results[", i, "]");
    if (entry.AsObject() == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": expected an object, found ", entry.TypeName()));
    }
    ResultPoint p;
    const JsonValue* strategy = entry.Find("strategy");
    if (strategy == nullptr || strategy->AsString() == nullptr ||
        strategy->AsString()->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": \"strategy\" must be a non-empty string"));
    }
    p.strategy = *strategy->AsString();
    std::optional<double> work;
    absl::Status status = ReadNumber(entry, where, "work_per_s", work);
    if (status.ok() && !work.has_value()) {
      status = absl::InvalidArgumentError(
          absl::StrCat(where, ": \"work_per_s\" is required"));
    }
    for (const Field& f : kConfigFields) {
      if (!status.ok()) break;
      if (f.number != nullptr) {
        status = ReadNumber(entry, where, f.key, p.*f.number);
        continue;
      }
      const JsonValue* v = entry.Find(f.key);
      if (v == nullptr || v->IsNull()) continue;
      if (v->AsString() == nullptr) {
        status = TypeError(where, f.key, "string", *v);
      } else {
        p.*f.text = *v->AsString();
      }
    }
    if (status.ok()) status = ReadNumber(entry, where, "bound_per_s", p.bound_per_s);
    if (status.ok()) status = ReadNumber(entry, where, "p50_us", p.p50_us);
    if (status.ok()) status = ReadNumber(entry, where, "p99_us", p.p99_us);
    if (!status.ok()) return status;
    p.work_per_s = *work;
    points.push_back(std::move(p));
  }
  return points;
}

}  // namespace

std::map<std::string, std::string> ParseNamedArgs(absl::string_view run_name) {
  std::map<std::string, std::string> args;
  bool first = true;
  for (absl::string_view segment : absl::StrSplit(run_name, '/')) {
    if (std::exchange(first, false)) continue;  // The function name.
    const std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(segment, absl::MaxSplits(':', 1));
    if (kv.first.empty() || kv.first.size() == segment.size()) continue;
    args[std::string(kv.first)] = std::string(kv.second);
  }
  return args;
}

absl::StatusOr<std::vector<ResultPoint>> ParseResultPoints(const JsonValue& doc,
                                                           int* skipped) {
  int ignored = 0;
  int& count = skipped != nullptr ? *skipped : ignored;
  if (IsGoogleBenchmarkJson(doc)) return FromGoogleBenchmark(doc, count);
  const JsonValue* results = doc.Find("results");
  if (results != nullptr && results->AsArray() != nullptr) {
    return FromNativeResults(*results->AsArray());
  }
  return absl::InvalidArgumentError(
      "neither Google Benchmark JSON (a \"benchmarks\" array) nor asyncwork "
      "results (a \"results\" array)");
}

absl::StatusOr<std::vector<ResultPoint>> LoadResultPoints(
    const std::string& path, int* skipped) {
  absl::StatusOr<JsonValue> doc = ReadJsonFile(path);
  if (!doc.ok()) return doc.status();
  absl::StatusOr<std::vector<ResultPoint>> points =
      ParseResultPoints(*doc, skipped);
  if (!points.ok()) {
    return absl::Status(points.status().code(),
                        absl::StrCat(path, ": ", points.status().message()));
  }
  return points;
}

}  // namespace asyncwork::tools
