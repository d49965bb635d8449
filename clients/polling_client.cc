#include "clients/polling_client.h"

#include <sched.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "clients/call_result.h"
#include "clients/run_context.h"
#include "framing/frame.h"
#include "net/socket.h"

namespace asyncwork::clients {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

// Slot is one place for a waiting request, with its own connection.
struct Slot {
  std::optional<net::Socket> socket;
  framing::FrameDecoder decoder;
  std::string out;
  size_t out_sent = 0;
  bool busy = false;
  uint64_t index = 0;
  absl::Time due;
  absl::Time deadline;
  absl::Time freed_at;
};

class PollingRun {
 public:
  explicit PollingRun(RunContext* run)
      : run_(*run),
        plan_(run->plan()),
        slots_(static_cast<size_t>(run->config().in_flight)) {
    for (Slot& slot : slots_) slot.freed_at = plan_.start();
  }

  void Run() {
    size_t busy = 0;
    absl::Time now = absl::Now();
    while (busy > 0 || !plan_.Done(now)) {
      bool progress = false;
      busy = 0;
      for (Slot& slot : slots_) {
        if (!slot.busy && !plan_.Done(now) && plan_.NextSendTime() <= now) {
          Begin(slot, now);
          progress = true;
        }
        if (slot.busy && Poll(slot, now)) progress = true;
        if (slot.busy) ++busy;
      }
      if (!progress) Idle();
      now = absl::Now();
      run_.ShowProgress(now);
    }
  }

 private:
  // Begin takes the next request into `slot`, connecting if needed.
  void Begin(Slot& slot, absl::Time now) {
    slot.index = plan_.Take();
    slot.due = plan_.DueAt(slot.index, slot.freed_at);
    slot.deadline = now + plan_.deadline();
    slot.busy = true;
    run_.stats().RecordStarted();
    if (!slot.socket.has_value()) {
      absl::StatusOr<net::Socket> socket = run_.dialer().Dial(slot.deadline);
      if (!socket.ok()) {
        End(slot, ConnectFailure(socket.status()));
        return;
      }
      slot.socket = std::move(*socket);
      slot.decoder = framing::FrameDecoder();
    }
    slot.out.clear();
    slot.out_sent = 0;
    plan_.AppendRequestFrame(slot.index, &slot.out);
  }

  // Poll moves `slot`'s request along without waiting: writes what is left
  // of it, reads whatever has arrived, and checks its deadline. Returns
  // whether anything happened.
  bool Poll(Slot& slot, absl::Time now) {
    bool progress = false;
    if (slot.out_sent < slot.out.size()) {
      absl::StatusOr<net::IoResult> wrote =
          slot.socket->Write(absl::string_view(slot.out).substr(slot.out_sent));
      if (!wrote.ok()) return End(slot, IoFailure(wrote.status()));
      slot.out_sent += wrote->bytes;
      progress = wrote->bytes > 0;
    }
    // Read even before the whole request is out: a server that closes or
    // answers early must be noticed.
    absl::StatusOr<net::IoResult> read =
        slot.socket->Read(slot.decoder.PrepareAppend(kReadChunk));
    if (!read.ok()) return End(slot, IoFailure(read.status()));
    if (read->eof) {
      absl::Status truncated = slot.decoder.CheckEndOfStream();
      return End(slot, ConnectionClosed(truncated.ok()
                                            ? absl::string_view("end of stream")
                                            : truncated.message()));
    }
    if (read->bytes > 0) {
      slot.decoder.CommitAppend(read->bytes);
      absl::StatusOr<std::optional<absl::string_view>> body =
          slot.decoder.Next();
      if (!body.ok()) {
        return End(slot, ConnectionClosed(body.status().message()));
      }
      if (body->has_value()) {
        return End(slot, CheckResponseBody(plan_.Request(slot.index), **body));
      }
      progress = true;
    }
    if (now >= slot.deadline) {
      return End(slot, DeadlineExceeded(plan_.deadline()));
    }
    return progress;
  }

  // End records the slot's request and frees the slot; a failed request's
  // connection is closed, since a late answer may still come on it. Returns
  // true (something happened) for Poll's convenience.
  bool End(Slot& slot, const CallResult& result) {
    absl::Time now = absl::Now();
    RecordCall(slot.index, slot.due, result, now, &run_.stats());
    slot.busy = false;
    slot.freed_at = now;
    if (!result.ok()) slot.socket.reset();
    return true;
  }

  void Idle() {
    if (run_.config().poll_interval > absl::ZeroDuration()) {
      absl::SleepFor(run_.config().poll_interval);
    } else {
      sched_yield();
    }
  }

  RunContext& run_;
  WorkPlan& plan_;
  std::vector<Slot> slots_;
};

}  // namespace

absl::StatusOr<RunStats> RunPolling(const RunConfig& config) {
  absl::StatusOr<std::unique_ptr<RunContext>> started =
      RunContext::Start(config, RunContext::kBlocking);
  if (!started.ok()) return started.status();
  PollingRun(started->get()).Run();
  return (*started)->Finish();
}

}  // namespace asyncwork::clients
