#include "sim/fault.h"

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sim/units.h"

namespace asyncwork::sim {
namespace {

constexpr absl::string_view kKeys =
    "close_after, reset_after, stall_after, slice, connect_delay, every, "
    "direction";

absl::Status BadPart(absl::string_view part, absl::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat("fault '", part, "': ", reason));
}

// ParseCount parses a whole number of bytes (or connections) that must be
// at least `minimum`.
absl::StatusOr<uint64_t> ParseCount(absl::string_view part,
                                    absl::string_view key,
                                    absl::string_view value, uint64_t minimum) {
  uint64_t count = 0;
  if (value.empty() || value[0] == '+' || value[0] == '-' ||
      !absl::SimpleAtoi(value, &count)) {
    return BadPart(part, absl::StrCat(key, " must be a whole number"));
  }
  if (count < minimum) {
    return BadPart(part, absl::StrCat(key, " must be at least ", minimum));
  }
  return count;
}

absl::string_view DirectionName(FaultDirection direction) {
  switch (direction) {
    case FaultDirection::kBoth:
      return "both";
    case FaultDirection::kToServer:
      return "to_server";
    case FaultDirection::kToClient:
      return "to_client";
  }
  return "both";
}

}  // namespace

absl::StatusOr<FaultPlan> ParseFaultPlan(absl::string_view spec) {
  FaultPlan plan;
  spec = absl::StripAsciiWhitespace(spec);
  if (spec.empty() || spec == "none") return plan;
  absl::flat_hash_set<std::string> seen;
  for (absl::string_view part : absl::StrSplit(spec, ',')) {
    part = absl::StripAsciiWhitespace(part);
    std::pair<absl::string_view, absl::string_view> key_value =
        absl::StrSplit(part, absl::MaxSplits('=', 1));
    absl::string_view key = key_value.first;
    absl::string_view value = key_value.second;
    if (part.find('=') == absl::string_view::npos) {
      return BadPart(part, absl::StrCat("expected key=value, keys: ", kKeys));
    }
    if (!seen.insert(std::string(key)).second) {
      return BadPart(part, absl::StrCat(key, " given twice"));
    }
    if (key == "close_after" || key == "reset_after" || key == "stall_after") {
      absl::StatusOr<uint64_t> bytes = ParseCount(part, key, value, 0);
      if (!bytes.ok()) return bytes.status();
      std::optional<uint64_t>& field =
          key == "close_after"   ? plan.close_after_bytes
          : key == "reset_after" ? plan.reset_after_bytes
                                 : plan.stall_after_bytes;
      field = *bytes;
    } else if (key == "slice") {
      absl::StatusOr<uint64_t> bytes = ParseCount(part, key, value, 1);
      if (!bytes.ok()) return bytes.status();
      plan.slice_bytes = static_cast<size_t>(*bytes);
    } else if (key == "every") {
      absl::StatusOr<uint64_t> every = ParseCount(part, key, value, 1);
      if (!every.ok()) return every.status();
      if (*every > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
        return BadPart(part, "every is too large");
      }
      plan.every_nth_connection = static_cast<int>(*every);
    } else if (key == "connect_delay") {
      absl::StatusOr<absl::Duration> delay = ParseLatency(key, value);
      if (!delay.ok()) {
        // ParseLatency's message starts "--connect_delay=D: "; the part is
        // quoted already.
        return BadPart(part, absl::StripPrefix(delay.status().message(),
                                               absl::StrCat("--", part, ": ")));
      }
      plan.connect_delay = *delay;
    } else if (key == "direction") {
      if (value == "both") {
        plan.direction = FaultDirection::kBoth;
      } else if (value == "to_server") {
        plan.direction = FaultDirection::kToServer;
      } else if (value == "to_client") {
        plan.direction = FaultDirection::kToClient;
      } else {
        return BadPart(part,
                       "direction must be both, to_server or to_client");
      }
    } else {
      return BadPart(part,
                     absl::StrCat("unknown key '", key, "' (keys: ", kKeys, ")"));
    }
  }
  absl::Status valid = ValidateFaultPlan(plan);
  if (!valid.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("fault '", spec, "': ", valid.message()));
  }
  return plan;
}

std::string FaultPlanToString(const FaultPlan& plan) {
  std::vector<std::string> parts;
  if (plan.close_after_bytes.has_value()) {
    parts.push_back(absl::StrCat("close_after=", *plan.close_after_bytes));
  }
  if (plan.reset_after_bytes.has_value()) {
    parts.push_back(absl::StrCat("reset_after=", *plan.reset_after_bytes));
  }
  if (plan.stall_after_bytes.has_value()) {
    parts.push_back(absl::StrCat("stall_after=", *plan.stall_after_bytes));
  }
  if (plan.slice_bytes != 0) {
    parts.push_back(absl::StrCat("slice=", plan.slice_bytes));
  }
  if (plan.connect_delay != absl::ZeroDuration()) {
    parts.push_back(
        absl::StrCat("connect_delay=", FormatLatency(plan.connect_delay)));
  }
  if (plan.every_nth_connection != 1) {
    parts.push_back(absl::StrCat("every=", plan.every_nth_connection));
  }
  if (plan.direction != FaultDirection::kBoth) {
    parts.push_back(absl::StrCat("direction=", DirectionName(plan.direction)));
  }
  if (parts.empty()) return "none";
  return absl::StrJoin(parts, ",");
}

absl::Status ValidateFaultPlan(const FaultPlan& plan) {
  int byte_faults = plan.close_after_bytes.has_value() +
                    plan.reset_after_bytes.has_value() +
                    plan.stall_after_bytes.has_value();
  if (byte_faults > 1) {
    return absl::InvalidArgumentError(
        "close_after, reset_after and stall_after exclude each other");
  }
  if (plan.connect_delay < absl::ZeroDuration() ||
      plan.connect_delay == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        "connect_delay must be finite and not negative");
  }
  if (plan.every_nth_connection < 1) {
    return absl::InvalidArgumentError("every must be at least 1");
  }
  return absl::OkStatus();
}

bool HasByteFault(const FaultPlan& plan) {
  return plan.close_after_bytes.has_value() ||
         plan.reset_after_bytes.has_value() ||
         plan.stall_after_bytes.has_value();
}

bool HasFaults(const FaultPlan& plan) {
  return HasByteFault(plan) || plan.slice_bytes != 0 ||
         plan.connect_delay != absl::ZeroDuration();
}

bool FaultsConnection(const FaultPlan& plan, uint64_t connection_number) {
  if (!HasFaults(plan) || plan.every_nth_connection < 1) return false;
  if (connection_number == 0) return false;
  return (connection_number - 1) %
             static_cast<uint64_t>(plan.every_nth_connection) ==
         0;
}

}  // namespace asyncwork::sim
