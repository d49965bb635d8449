#include "clients/run_stats.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"

namespace asyncwork::clients {
namespace {

struct CauseNames {
  FailureCause cause;
  absl::string_view name;
  absl::string_view key;
};

// One table, so the enum, the report and the JSON keys cannot drift apart;
// entry i describes the cause whose value is i.
constexpr CauseNames kCauses[] = {
    {FailureCause::kServerError, "server error", "server_error"},
    {FailureCause::kBadResponse, "bad response", "bad_response"},
    {FailureCause::kConnectionRefused, "connection refused",
     "connection_refused"},
    {FailureCause::kConnectionClosed, "connection closed", "connection_closed"},
    {FailureCause::kDeadlineExceeded, "deadline exceeded", "deadline_exceeded"},
    {FailureCause::kIoError, "i/o error", "io_error"},
};
static_assert(std::size(kCauses) == kFailureCauseCount);

constexpr bool TableMatchesEnum() {
  for (size_t i = 0; i < kFailureCauseCount; ++i) {
    if (static_cast<size_t>(kCauses[i].cause) != i) return false;
  }
  return true;
}
static_assert(TableMatchesEnum(), "kCauses must follow FailureCause's order");

size_t Index(FailureCause cause) { return static_cast<size_t>(cause); }

}  // namespace

absl::string_view FailureCauseName(FailureCause cause) {
  return kCauses[Index(cause)].name;
}

absl::string_view FailureCauseKey(FailureCause cause) {
  return kCauses[Index(cause)].key;
}

const std::array<FailureCause, kFailureCauseCount>& AllFailureCauses() {
  static constexpr std::array<FailureCause, kFailureCauseCount> kAll = [] {
    std::array<FailureCause, kFailureCauseCount> all{};
    for (size_t i = 0; i < kFailureCauseCount; ++i) all[i] = kCauses[i].cause;
    return all;
  }();
  return kAll;
}

std::string Failure::ToString() const {
  std::string text =
      absl::StrCat("request ", request_id, ": ", FailureCauseName(cause));
  if (!detail.empty()) absl::StrAppend(&text, " (", detail, ")");
  return text;
}

void RunStats::RecordCompleted(absl::Duration latency) {
  ++completed_;
  latency_.Record(latency);
}

void RunStats::RecordFailed(uint64_t request_id, FailureCause cause,
                            absl::string_view detail) {
  ++failed_;
  ++failed_by_cause_[Index(cause)];
  if (failures_.size() < kKeptFailures) {
    failures_.push_back(Failure{request_id, cause, std::string(detail)});
  }
}

void RunStats::SetElapsed(absl::Duration wall, absl::Duration cpu) {
  wall_ = wall;
  cpu_ = cpu;
}

void RunStats::Merge(const RunStats& other) {
  started_ += other.started_;
  completed_ += other.completed_;
  failed_ += other.failed_;
  for (size_t i = 0; i < kFailureCauseCount; ++i) {
    failed_by_cause_[i] += other.failed_by_cause_[i];
  }
  // By index over a count taken first, so that merging a RunStats into
  // itself neither loops on what it appends nor reads a moved buffer.
  const size_t theirs = other.failures_.size();
  for (size_t i = 0; i < theirs && failures_.size() < kKeptFailures; ++i) {
    failures_.push_back(other.failures_[i]);
  }
  latency_.Merge(other.latency_);
  wall_ = std::max(wall_, other.wall_);
  cpu_ += other.cpu_;
}

uint64_t RunStats::failed(FailureCause cause) const {
  return failed_by_cause_[Index(cause)];
}

uint64_t RunStats::in_flight() const {
  uint64_t ended = completed_ + failed_;
  return started_ > ended ? started_ - ended : 0;
}

double RunStats::WorkPerSecond() const {
  if (wall_ <= absl::ZeroDuration()) return 0.0;
  return static_cast<double>(completed_) / absl::ToDoubleSeconds(wall_);
}

absl::Duration RunStats::CpuPerRequest() const {
  if (completed_ == 0) return absl::ZeroDuration();
  return cpu_ / static_cast<int64_t>(completed_);
}

}  // namespace asyncwork::clients
