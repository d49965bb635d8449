#include "net/poller.h"

#include <time.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "net/epoll_poller.h"
#include "net/poll_poller.h"
#include "net/select_poller.h"

namespace asyncwork::net {

absl::StatusOr<Backend> ParseBackend(absl::string_view name) {
  for (Backend backend : kAllBackends) {
    if (name == BackendName(backend)) return backend;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown poller backend \"", name, "\"; expected epoll, poll or select"));
}

absl::string_view BackendName(Backend backend) {
  switch (backend) {
    case Backend::kEpoll:
      return "epoll";
    case Backend::kPoll:
      return "poll";
    case Backend::kSelect:
      return "select";
  }
  return "unknown";
}

std::string EventsToString(uint32_t events) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {kReadable, "readable"}, {kWritable, "writable"}, {kPriority, "priority"},
      {kError, "error"},       {kHangup, "hangup"}};
  std::vector<const char*> names;
  for (const auto& [bit, name] : kNames) {
    if (events & bit) names.push_back(name);
  }
  return names.empty() ? "none" : absl::StrJoin(names, "|");
}

absl::StatusOr<std::unique_ptr<Poller>> MakePoller(Backend backend) {
  switch (backend) {
    case Backend::kEpoll: {
      absl::StatusOr<std::unique_ptr<EpollPoller>> poller = EpollPoller::Create();
      if (!poller.ok()) return poller.status();
      return std::unique_ptr<Poller>(*std::move(poller));
    }
    case Backend::kPoll:
      return std::make_unique<PollPoller>();
    case Backend::kSelect:
      return std::make_unique<SelectPoller>();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown poller backend ", static_cast<int>(backend)));
}

namespace internal {

bool ToWaitTimespec(absl::Duration timeout, timespec* out) {
  if (timeout == absl::InfiniteDuration()) return false;
  *out = absl::ToTimespec(std::max(timeout, absl::ZeroDuration()));
  return true;
}

}  // namespace internal

}  // namespace asyncwork::net
