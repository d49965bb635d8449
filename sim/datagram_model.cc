#include "sim/datagram_model.h"

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/check.h"
#include "sim/link_model.h"
#include "sim/units.h"

namespace asyncwork::sim {
namespace {

// Decisions draw from their own stream so that turning jitter on or off does
// not change which datagrams are lost. The constant is 2^64 / golden ratio,
// the usual way to spread nearby seeds apart.
constexpr uint64_t kDecisionSeedMix = 0x9e3779b97f4a7c15ull;

absl::Status CheckProbability(absl::string_view field, double p) {
  // Written so that NaN fails too.
  if (!(p >= 0 && p <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("datagram ", field, " must be between 0 and 1, not ", p));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateDatagramConfig(const DatagramConfig& config) {
  for (absl::Status status :
       {ValidateLinkConfig(config.link), CheckProbability("loss", config.loss),
        CheckProbability("duplicate", config.duplicate),
        CheckProbability("reorder", config.reorder)}) {
    if (!status.ok()) return status;
  }
  if (config.reorder > 0 && !(config.reorder_delay > absl::ZeroDuration() &&
                              config.reorder_delay < absl::InfiniteDuration())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "datagram reorder needs a finite, positive reorder_delay, not ",
        FormatLatency(config.reorder_delay)));
  }
  return absl::OkStatus();
}

DatagramProfile DatagramProfile::Symmetric(const DatagramConfig& config) {
  DatagramProfile profile{config, config};
  profile.server_to_client.link.seed = config.link.seed + 1;
  return profile;
}

DatagramDirection::DatagramDirection(const DatagramConfig& config)
    : config_(config),
      link_(config.link),
      decisions_(config.link.seed ^ kDecisionSeedMix) {
  absl::Status status = ValidateDatagramConfig(config);
  ASYNCWORK_CHECK(status.ok()) << status.ToString();
}

Deliveries DatagramDirection::OnSend(absl::Time sent_at, size_t bytes) {
  // All three decisions are drawn every time, so datagram N's fate does not
  // depend on what happened to the ones before it.
  bool lost = decisions_.Chance(config_.loss);
  bool reordered = decisions_.Chance(config_.reorder);
  bool duplicated = decisions_.Chance(config_.duplicate);
  ++stats_.sent;
  Deliveries deliveries;
  if (lost) {
    ++stats_.lost;
    return deliveries;
  }
  absl::Time at = link_.Schedule(sent_at, bytes);
  if (reordered) {
    // Added outside the link model, whose no-reordering clamp would
    // otherwise hold every later datagram back behind this one.
    at += config_.reorder_delay;
    ++stats_.reordered;
  }
  deliveries.push_back(Delivery{at, /*duplicate=*/false, reordered});
  if (duplicated) {
    ++stats_.duplicated;
    deliveries.push_back(Delivery{link_.Schedule(sent_at, bytes),
                                  /*duplicate=*/true, /*reordered=*/false});
  }
  return deliveries;
}

}  // namespace asyncwork::sim
