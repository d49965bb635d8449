#include "clients/strategy.h"

#include <array>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "clients/blocking_client.h"
#include "clients/callback_client.h"
#include "clients/coroutine_client.h"
#include "clients/polling_client.h"
#include "clients/threaded_client.h"

namespace asyncwork::clients {

const std::array<StrategyKind, 6>& AllStrategyKinds() {
  static constexpr std::array<StrategyKind, 6> kAll = {
      StrategyKind::kBlocking, StrategyKind::kThreaded,
      StrategyKind::kPolling,  StrategyKind::kCallback,
      StrategyKind::kPipelined, StrategyKind::kCoroutine};
  return kAll;
}

absl::string_view StrategyKindName(StrategyKind kind) {
  switch (kind) {
    case StrategyKind::kBlocking:
      return "blocking";
    case StrategyKind::kThreaded:
      return "threaded";
    case StrategyKind::kPolling:
      return "polling";
    case StrategyKind::kCallback:
      return "callback";
    case StrategyKind::kPipelined:
      return "pipelined";
    case StrategyKind::kCoroutine:
      return "coroutine";
  }
  return "unknown";
}

absl::StatusOr<StrategyKind> ParseStrategyKind(absl::string_view name) {
  for (StrategyKind kind : AllStrategyKinds()) {
    if (StrategyKindName(kind) == name) return kind;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown strategy '", name,
      "': must be blocking, threaded, polling, callback, pipelined or "
      "coroutine"));
}

absl::StatusOr<RunStats> RunStrategy(StrategyKind kind,
                                     const RunConfig& config) {
  switch (kind) {
    case StrategyKind::kBlocking:
      return RunBlocking(config);
    case StrategyKind::kThreaded:
      return RunThreaded(config);
    case StrategyKind::kPolling:
      return RunPolling(config);
    case StrategyKind::kCallback:
      return RunCallback(config);
    case StrategyKind::kPipelined:
      return RunPipelined(config);
    case StrategyKind::kCoroutine:
      return RunCoroutine(config);
  }
  return absl::InvalidArgumentError("unknown strategy");
}

}  // namespace asyncwork::clients
