#include "tools/benchmark_results.h"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace asyncwork::tools {
namespace {

// Numeric fields that describe how a benchmark ran rather than what it
// measured; comparing them would only report noise such as iteration counts.
bool IsBookkeeping(absl::string_view key) {
  constexpr absl::string_view kKeys[] = {
      "family_index", "per_family_instance_index", "repetitions",
      "repetition_index", "threads", "iterations"};
  for (absl::string_view k : kKeys) {
    if (key == k) return true;
  }
  return false;
}

absl::StatusOr<double> NanosecondsPer(absl::string_view unit) {
  if (unit == "ns") return 1.0;
  if (unit == "us") return 1e3;
  if (unit == "ms") return 1e6;
  if (unit == "s") return 1e9;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown time_unit \"", unit, "\""));
}

// StringField returns obj[key] when it is a string, else `fallback`.
std::string StringField(const JsonValue& obj, absl::string_view key,
                        absl::string_view fallback) {
  const JsonValue* v = obj.Find(key);
  return v != nullptr && v->AsString() != nullptr ? *v->AsString()
                                                  : std::string(fallback);
}

// Measurements reads one entry's measurements, times in nanoseconds.
absl::StatusOr<std::map<std::string, double>> Measurements(
    const JsonValue& entry) {
  absl::StatusOr<double> ns_per_unit =
      NanosecondsPer(StringField(entry, "time_unit", "ns"));
  if (!ns_per_unit.ok()) return ns_per_unit.status();
  std::map<std::string, double> values;
  for (const auto& [key, value] : *entry.AsObject()) {
    const double* number = value.AsNumber();
    if (number == nullptr || IsBookkeeping(key) || !std::isfinite(*number)) {
      continue;
    }
    const bool is_time = key == "real_time" || key == "cpu_time";
    values[key] = is_time ? *number * *ns_per_unit : *number;
  }
  return values;
}

}  // namespace

const BenchmarkRun* BenchmarkResults::Find(absl::string_view name) const {
  for (const BenchmarkRun& run : runs) {
    if (run.name == name) return &run;
  }
  return nullptr;
}

bool IsGoogleBenchmarkJson(const JsonValue& doc) {
  const JsonValue* benchmarks = doc.Find("benchmarks");
  return benchmarks != nullptr && benchmarks->AsArray() != nullptr;
}

absl::StatusOr<BenchmarkResults> ParseBenchmarkResults(const JsonValue& doc) {
  if (!IsGoogleBenchmarkJson(doc)) {
    return absl::InvalidArgumentError(
        "not Google Benchmark JSON: no top-level \"benchmarks\" array");
  }
  BenchmarkResults results;
  absl::flat_hash_map<std::string, size_t> index;  // name -> runs position.
  // Means of benchmarks seen only as aggregates, in first-seen order.
  std::vector<std::pair<std::string, std::map<std::string, double>>> means;
  const JsonValue::Array& entries = *doc.Find("benchmarks")->AsArray();
  for (size_t i = 0; i < entries.size(); ++i) {
    const JsonValue& entry = entries[i];
    const std::string where = absl::StrCat("benchmarks[", i, "]");
    if (entry.AsObject() == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected an object, found ", entry.TypeName()));
    }
    const JsonValue* error = entry.Find("error_occurred");
    if (error != nullptr && error->AsBool() != nullptr && *error->AsBool()) {
      ++results.errored_runs;
      continue;
    }
    // run_name is absent from files written before Google Benchmark 1.5.
    const std::string name =
        StringField(entry, "run_name", StringField(entry, "name", ""));
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": no \"run_name\" or \"name\" string"));
    }
    absl::StatusOr<std::map<std::string, double>> values = Measurements(entry);
    if (!values.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " (", name, "): ", values.status().message()));
    }
    const std::string aggregate = StringField(entry, "aggregate_name", "");
    const bool is_aggregate =
        StringField(entry, "run_type", aggregate.empty() ? "iteration"
                                                         : "aggregate") ==
        "aggregate";
    if (is_aggregate) {
      if (aggregate == "mean") means.emplace_back(name, *std::move(values));
      continue;
    }
    auto [it, inserted] = index.try_emplace(name, results.runs.size());
    if (inserted) results.runs.push_back(BenchmarkRun{name, {}, false});
    BenchmarkRun& run = results.runs[it->second];
    for (const auto& [key, value] : *values) run.metrics[key].push_back(value);
  }
  for (auto& [name, values] : means) {
    if (index.contains(name)) continue;
    index.emplace(name, results.runs.size());
    BenchmarkRun run{name, {}, true};
    for (const auto& [key, value] : values) run.metrics[key].push_back(value);
    results.runs.push_back(std::move(run));
  }
  return results;
}

absl::StatusOr<BenchmarkResults> LoadBenchmarkResults(const std::string& path) {
  absl::StatusOr<JsonValue> doc = ReadJsonFile(path);
  if (!doc.ok()) return doc.status();
  absl::StatusOr<BenchmarkResults> results = ParseBenchmarkResults(*doc);
  if (!results.ok()) {
    return absl::Status(results.status().code(),
                        absl::StrCat(path, ": ", results.status().message()));
  }
  return results;
}

}  // namespace asyncwork::tools
