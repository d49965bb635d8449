#include "clients/run_config.h"

#include <sys/socket.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "clients/schedule.h"

namespace asyncwork::clients {
namespace {

absl::Status Bad(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("RunConfig.", field, ": ", what));
}

}  // namespace

absl::Status ValidateRunConfig(const RunConfig& config) {
  if (config.server.family() == AF_UNSPEC) return Bad("server", "not set");
  if (!config.server.is_stream()) {
    return Bad("server", absl::StrCat(config.server.ToString(),
                                      " is not a stream address"));
  }
  if (config.duration < absl::ZeroDuration() ||
      config.duration == absl::InfiniteDuration()) {
    return Bad("duration", "must be zero or positive, and finite");
  }
  if (config.duration == absl::ZeroDuration() && config.requests == 0) {
    return Bad("requests", "must be at least 1 without a duration");
  }
  if (config.in_flight < 1) return Bad("in_flight", "must be at least 1");
  if (config.connections < 1) return Bad("connections", "must be at least 1");
  if (config.max_threads < 1) return Bad("max_threads", "must be at least 1");
  if (int64_t{config.in_flight} * config.connections > kMaxWaiting) {
    return Bad("in_flight", absl::StrCat("times connections must be at most ",
                                         kMaxWaiting));
  }
  if (config.size > kMaxRequestSize) {
    return Bad("size", absl::StrCat(config.size, " is above ", kMaxRequestSize));
  }
  if (config.deadline <= absl::ZeroDuration() ||
      config.deadline == absl::InfiniteDuration()) {
    return Bad("deadline", "must be positive and finite");
  }
  if (config.poll_interval < absl::ZeroDuration() ||
      config.poll_interval == absl::InfiniteDuration()) {
    return Bad("poll_interval", "must be zero or positive, and finite");
  }
  if (config.rate != 0) {
    absl::Status paced = SendSchedule::Paced(config.rate, absl::Now()).status();
    if (!paced.ok()) return Bad("rate", paced.message());
  }
  if (config.shaped) {
    for (const sim::LinkConfig* direction :
         {&config.link.client_to_server, &config.link.server_to_client}) {
      absl::Status link = sim::ValidateLinkConfig(*direction);
      if (!link.ok()) return Bad("link", link.message());
    }
  }
  absl::Status faults = sim::ValidateFaultPlan(config.faults);
  if (!faults.ok()) return Bad("faults", faults.message());
  return absl::OkStatus();
}

}  // namespace asyncwork::clients
