#include "net/dispatcher_with_send.h"

#include "absl/strings/str_cat.h"

namespace asyncwork::net {

absl::Status DispatcherWithSend::BufferedSend(absl::string_view data) {
  if (!open() || close_when_done_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "BufferedSend: the dispatcher is ", open() ? "closing" : "closed",
        "; ", data.size(), " bytes not sent"));
  }
  buffer_.append(data.data(), data.size());
  InitiateSend();
  // BufferedSend may be called outside this dispatcher's handlers (from a
  // timer, or another dispatcher), so say now that there is data to write.
  if (open()) {
    if (absl::Status watched = UpdateInterest(); !watched.ok()) {
      HandleError(watched);
    }
  }
  return absl::OkStatus();
}

void DispatcherWithSend::InitiateSend() {
  if (pending_bytes() == 0 || !connected()) return;
  absl::StatusOr<size_t> sent =
      Send(absl::string_view(buffer_).substr(sent_));
  if (!sent.ok()) return HandleError(sent.status());
  sent_ += *sent;
  if (sent_ == buffer_.size()) {
    buffer_.clear();
    sent_ = 0;
    if (close_when_done_) Close();
  } else if (sent_ >= buffer_.size() / 2) {
    buffer_.erase(0, sent_);
    sent_ = 0;
  }
}

void DispatcherWithSend::CloseWhenDone() {
  if (pending_bytes() == 0) return Close();
  close_when_done_ = true;
}

void DispatcherWithSend::Close() {
  buffer_.clear();
  sent_ = 0;
  close_when_done_ = false;
  Dispatcher::Close();
}

}  // namespace asyncwork::net
