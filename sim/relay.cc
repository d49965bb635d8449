#include "sim/relay.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "net/check.h"
#include "net/poller.h"
#include "sim/delivery_queue.h"

namespace asyncwork::sim {
namespace internal {

// What one read from a pipe's source came to.
enum class ReadOutcome { kRead, kWouldBlock, kEof };

// What one Pipe::Write came to.
struct Written {
  size_t bytes = 0;
  // The destination would block: wait until it is writable.
  bool blocked = false;
};

// Pipe is one direction's data: what was read and when each part is due.
// The relay owns the sockets and the events; a pipe only reads, schedules,
// holds and writes. Streams and datagrams differ only here.
class Pipe {
 public:
  virtual ~Pipe() = default;

  // Read reads once from `source` and schedules what came as written when
  // the read returned. An error is the source's failure.
  virtual absl::StatusOr<ReadOutcome> Read(net::Socket& source) = 0;
  // ScheduleEnd marks that nothing more will be read. A stream's end is
  // due after everything held; datagrams in flight are dropped.
  virtual void ScheduleEnd(absl::Time now) = 0;
  // NextDue is when the next held item is due (InfiniteFuture if none).
  virtual absl::Time NextDue() const = 0;
  // Release makes everything due by `now` ready to write.
  virtual void Release(absl::Time now) = 0;
  // HasReady is true while released data waits to be written.
  virtual bool HasReady() const = 0;
  // Write writes ready data to `dest`, for a stream at most `max_bytes` of
  // it (a datagram goes whole), until none is left, the limit is reached or
  // `dest` would block. An error is the destination's failure.
  virtual absl::StatusOr<Written> Write(net::Socket& dest,
                                        size_t max_bytes) = 0;
  // EndReached is true once the end was released and all data before it
  // was written.
  virtual bool EndReached() const = 0;
  // Discard drops everything held (a stream counts it in bytes_dropped).
  virtual void Discard() = 0;
  virtual size_t held_bytes() const = 0;
  virtual RelayDirectionStats stats() const = 0;
};

}  // namespace internal

namespace {

using internal::Pipe;
using internal::ReadOutcome;
using internal::Written;

// A stream read takes at most this much; a datagram read allows the longest
// datagram. One buffer per thread (each loop has one) serves every relay.
constexpr size_t kStreamReadBytes = size_t{64} << 10;

absl::Span<char> ScratchBuffer() {
  thread_local std::vector<char> buffer(kMaxDatagramBytes);
  return absl::MakeSpan(buffer);
}

// ReadTime is the time bytes just read count as sent: the clock read afresh
// after the read returned, not the loop's cached Now() nor a time taken
// before the read (bytes written while the reading thread was delayed
// between the two would be dated too early), so a delivery is never early.
absl::Time ReadTime() { return absl::Now(); }

// Each readiness event reads at most this many times from one side, so one
// busy connection cannot starve the others on the loop.
constexpr int kMaxReadsPerEvent = 16;

// Held buffers above this capacity are given back when they empty, so an
// idle connection does not keep the memory of its biggest burst.
constexpr size_t kKeepCapacity = size_t{256} << 10;

// InFlightBytes is what `link` carries in flight at full rate: its
// bandwidth times its latency plus jitter (0 without a cap).
size_t InFlightBytes(const LinkConfig& link) {
  if (!link.bandwidth.has_value()) return 0;
  double seconds = absl::ToDoubleSeconds(link.latency + link.jitter);
  return static_cast<size_t>(link.bandwidth->bytes_per_second() * seconds);
}

void UpdatePeak(RelayDirectionStats& stats, size_t held) {
  stats.held_bytes = held;
  stats.peak_held_bytes = std::max(stats.peak_held_bytes, held);
}

// StreamPipe keeps a stream's held bytes in one contiguous buffer, from
// begin_ on; the first ready_ of them are due. The queue holds segment
// sizes only: a stream's due times never decrease, so segments come out in
// the order their bytes sit in the buffer.
class StreamPipe final : public Pipe {
 public:
  explicit StreamPipe(const LinkConfig& config) : link_(config) {}

  absl::StatusOr<ReadOutcome> Read(net::Socket& source) override {
    absl::Span<char> scratch = ScratchBuffer().subspan(0, kStreamReadBytes);
    absl::StatusOr<net::IoResult> read = source.Read(scratch);
    if (!read.ok()) return read.status();
    if (read->would_block) return ReadOutcome::kWouldBlock;
    if (read->eof) return ReadOutcome::kEof;
    data_.append(scratch.data(), read->bytes);
    segments_.clear();
    link_.ScheduleChunks(ReadTime(), read->bytes, kDefaultSegmentBytes,
                         &segments_);
    for (const Segment& segment : segments_) {
      queue_.Push(segment.deliver_at, Chunk{segment.bytes, false});
    }
    stats_.bytes_read += read->bytes;
    UpdatePeak(stats_, held_bytes());
    return ReadOutcome::kRead;
  }

  void ScheduleEnd(absl::Time now) override {
    queue_.Push(link_.Schedule(now, 0), Chunk{0, true});
  }

  absl::Time NextDue() const override { return queue_.NextDue(); }

  void Release(absl::Time now) override {
    queue_.PopDue(now, [this](absl::Time, Chunk chunk) {
      ready_ += chunk.bytes;
      if (chunk.end) end_released_ = true;
    });
  }

  bool HasReady() const override { return ready_ > 0; }

  absl::StatusOr<Written> Write(net::Socket& dest, size_t max_bytes) override {
    Written result;
    while (ready_ > 0 && result.bytes < max_bytes) {
      size_t want = std::min(ready_, max_bytes - result.bytes);
      absl::StatusOr<net::IoResult> written =
          dest.Write(absl::string_view(data_.data() + begin_, want));
      if (!written.ok()) return written.status();
      if (written->would_block) {
        result.blocked = true;
        break;
      }
      begin_ += written->bytes;
      ready_ -= written->bytes;
      result.bytes += written->bytes;
      ++stats_.writes;
      stats_.bytes_delivered += written->bytes;
    }
    Compact();
    UpdatePeak(stats_, held_bytes());
    return result;
  }

  bool EndReached() const override { return end_released_ && ready_ == 0; }

  void Discard() override {
    stats_.bytes_dropped += held_bytes();
    std::string().swap(data_);
    begin_ = 0;
    ready_ = 0;
    queue_ = DeliveryQueue<Chunk>();
    UpdatePeak(stats_, 0);
  }

  size_t held_bytes() const override { return data_.size() - begin_; }
  RelayDirectionStats stats() const override { return stats_; }

 private:
  struct Chunk {
    size_t bytes;
    bool end;  // the end-of-stream marker (0 bytes)
  };

  // Compact drops the written prefix: at once when nothing is held,
  // otherwise once it is at least as large as what remains, so each byte
  // moves O(1) times on average.
  void Compact() {
    if (begin_ == data_.size()) {
      if (data_.capacity() > kKeepCapacity) {
        std::string().swap(data_);
      } else {
        data_.clear();
      }
      begin_ = 0;
    } else if (begin_ >= data_.size() - begin_) {
      data_.erase(0, begin_);
      begin_ = 0;
    }
  }

  LinkDirection link_;
  std::string data_;
  size_t begin_ = 0;
  size_t ready_ = 0;
  bool end_released_ = false;
  DeliveryQueue<Chunk> queue_;
  std::vector<Segment> segments_;  // reused by every Read
  RelayDirectionStats stats_;
};

// DatagramPipe holds whole datagrams. Errors on the network side (reading
// from it, or writing to it) are the network's, not the relay's: the
// datagram is dropped and counted, as a network would drop it.
class DatagramPipe final : public Pipe {
 public:
  // `source_is_network` / `dest_is_network` say which side is the server's.
  DatagramPipe(const DatagramConfig& config, bool source_is_network)
      : model_(config), source_is_network_(source_is_network) {}

  absl::StatusOr<ReadOutcome> Read(net::Socket& source) override {
    absl::Span<char> scratch = ScratchBuffer();
    absl::StatusOr<net::IoResult> read = source.Read(scratch);
    if (!read.ok()) {
      // A pending ICMP error is cleared by the read that reports it, so
      // reading on makes progress.
      if (!source_is_network_) return read.status();
      ++stats_.datagrams_dropped;
      return ReadOutcome::kRead;
    }
    if (read->would_block) return ReadOutcome::kWouldBlock;
    if (read->truncated) {
      ++stats_.datagrams_dropped;
      return ReadOutcome::kRead;
    }
    ++stats_.datagrams_read;
    stats_.bytes_read += read->bytes;
    for (const Delivery& delivery : model_.OnSend(ReadTime(), read->bytes)) {
      queue_.Push(delivery.at, std::string(scratch.data(), read->bytes));
      held_ += read->bytes;
    }
    UpdatePeak(stats_, held_);
    return ReadOutcome::kRead;
  }

  void ScheduleEnd(absl::Time) override {
    Discard();
    ended_ = true;
  }

  absl::Time NextDue() const override { return queue_.NextDue(); }

  void Release(absl::Time now) override {
    queue_.PopDue(now, [this](absl::Time, std::string datagram) {
      ready_.push_back(std::move(datagram));
    });
  }

  bool HasReady() const override { return !ready_.empty(); }

  absl::StatusOr<Written> Write(net::Socket& dest, size_t) override {
    Written result;
    while (!ready_.empty()) {
      absl::StatusOr<net::IoResult> written = dest.Write(ready_.front());
      if (written.ok() && written->would_block) {
        result.blocked = true;
        return result;
      }
      if (written.ok()) {
        result.bytes += written->bytes;
        ++stats_.writes;
        ++stats_.datagrams_delivered;
        stats_.bytes_delivered += written->bytes;
      } else if (source_is_network_) {
        // The client side refused: its owner closed it.
        return written.status();
      } else {
        ++stats_.datagrams_dropped;
      }
      held_ -= ready_.front().size();
      ready_.pop_front();
    }
    UpdatePeak(stats_, held_);
    return result;
  }

  bool EndReached() const override { return ended_; }

  void Discard() override {
    queue_ = DeliveryQueue<std::string>();
    ready_.clear();
    held_ = 0;
    UpdatePeak(stats_, 0);
  }

  size_t held_bytes() const override { return held_; }

  RelayDirectionStats stats() const override {
    RelayDirectionStats stats = stats_;
    stats.datagrams_lost = model_.stats().lost;
    stats.datagrams_duplicated = model_.stats().duplicated;
    stats.datagrams_reordered = model_.stats().reordered;
    return stats;
  }

 private:
  DatagramDirection model_;
  const bool source_is_network_;
  DeliveryQueue<std::string> queue_;
  std::deque<std::string> ready_;
  size_t held_ = 0;
  bool ended_ = false;
  RelayDirectionStats stats_;
};

// Closes `socket` so that a TCP peer sees a reset rather than an orderly
// end of stream.
void CloseAbortively(net::Socket& socket) {
  if (socket.valid() && socket.transport() == net::Transport::kTcp) {
    struct linger abort_on_close = {1, 0};
    // Best effort: if it fails the peer sees an orderly close instead.
    ::setsockopt(socket.fd(), SOL_SOCKET, SO_LINGER, &abort_on_close,
                 sizeof(abort_on_close));
  }
  socket.Close();
}

// kMaxDrainReads bounds how long an orderly close reads what a peer still
// sends; each read takes up to kStreamReadBytes.
constexpr int kMaxDrainReads = 64;

// CloseOrderly closes `socket` so its peer sees end of stream even though
// the relay may not have read everything the peer sent: a TCP or Unix
// stream socket closed with unread bytes would reset its peer instead.
void CloseOrderly(net::Socket& socket) {
  if (!socket.valid()) return;
  // Best effort throughout: a peer that is already gone needs neither.
  socket.ShutdownWrite().IgnoreError();
  absl::Span<char> scratch = ScratchBuffer().subspan(0, kStreamReadBytes);
  for (int i = 0; i < kMaxDrainReads; ++i) {
    absl::StatusOr<net::IoResult> read = socket.Read(scratch);
    if (!read.ok() || read->would_block || read->eof) break;
  }
  socket.Close();
}

}  // namespace

std::unique_ptr<ShapedRelay> ShapedRelay::ForStream(
    net::EventLoop* loop, net::Socket client, net::Socket server,
    const LinkProfile& profile, const RelayOptions& options,
    const FaultPlan& faults) {
  auto relay = std::make_unique<ShapedRelay>(
      Key(), loop, std::move(client), std::move(server),
      std::make_unique<StreamPipe>(profile.client_to_server),
      std::make_unique<StreamPipe>(profile.server_to_client));
  relay->faults_ = faults;
  if (faults.close_after_bytes.has_value()) {
    relay->fault_budget_ = faults.close_after_bytes;
  } else if (faults.reset_after_bytes.has_value()) {
    relay->fault_budget_ = faults.reset_after_bytes;
  } else if (faults.stall_after_bytes.has_value()) {
    relay->fault_budget_ = faults.stall_after_bytes;
  }
  relay->dirs_[kClient].cap =
      options.max_held_bytes + InFlightBytes(profile.client_to_server);
  relay->dirs_[kServer].cap =
      options.max_held_bytes + InFlightBytes(profile.server_to_client);
  return relay;
}

std::unique_ptr<ShapedRelay> ShapedRelay::ForDatagrams(
    net::EventLoop* loop, net::Socket client, net::Socket server,
    const DatagramProfile& profile, const RelayOptions& options) {
  auto relay = std::make_unique<ShapedRelay>(
      Key(), loop, std::move(client), std::move(server),
      std::make_unique<DatagramPipe>(profile.client_to_server,
                                     /*source_is_network=*/false),
      std::make_unique<DatagramPipe>(profile.server_to_client,
                                     /*source_is_network=*/true));
  relay->dirs_[kClient].cap =
      options.max_held_bytes + InFlightBytes(profile.client_to_server.link);
  relay->dirs_[kServer].cap =
      options.max_held_bytes + InFlightBytes(profile.server_to_client.link);
  return relay;
}

ShapedRelay::ShapedRelay(Key, net::EventLoop* loop, net::Socket client,
                         net::Socket server,
                         std::unique_ptr<internal::Pipe> to_server,
                         std::unique_ptr<internal::Pipe> to_client)
    : loop_(loop), sockets_{std::move(client), std::move(server)} {
  dirs_[kClient].pipe = std::move(to_server);
  dirs_[kServer].pipe = std::move(to_client);
  for (int side : {kClient, kServer}) {
    watches_[side] = std::make_unique<net::IoWatch>(
        loop_, sockets_[side].fd(),
        [this, side](uint32_t ready) { OnReady(side, ready); });
  }
}

ShapedRelay::~ShapedRelay() {
  loop_->AssertInLoopThread();
  StopEverything();
}

const char* ShapedRelay::SideName(int side) {
  return side == kClient ? "client side" : "server side";
}

absl::Status ShapedRelay::Start(ClosedCallback on_closed) {
  loop_->AssertInLoopThread();
  ASYNCWORK_CHECK(!started_) << "ShapedRelay::Start called twice";
  started_ = true;
  on_closed_ = std::move(on_closed);
  if (HasFaults(faults_)) {
    // Even without a delay the hold lasts until the loop's next turn, so a
    // fault due at once (after 0 bytes) fires there, not inside Start.
    holding_ = true;
    hold_timer_ = loop_->RunAfter(faults_.connect_delay, [this] {
      hold_timer_ = net::TimerId();
      OnHoldOver();
    });
    return absl::OkStatus();
  }
  for (int side : {kClient, kServer}) {
    absl::Status watched = watches_[side]->EnableReading();
    if (!watched.ok()) {
      on_closed_ = nullptr;
      StopEverything();
      return watched;
    }
  }
  return absl::OkStatus();
}

void ShapedRelay::OnHoldOver() {
  holding_ = false;
  // Settle sets each side's interest.
  Settle();
}

RelayStats ShapedRelay::stats() const {
  loop_->AssertInLoopThread();
  RelayStats stats{dirs_[kClient].pipe->stats(), dirs_[kServer].pipe->stats()};
  stats.client_to_server.bytes_dropped += dropped_while_stalled_[kClient];
  stats.server_to_client.bytes_dropped += dropped_while_stalled_[kServer];
  return stats;
}

void ShapedRelay::OnReady(int side, uint32_t ready) {
  // Errors and hang-ups are reported whatever the interest; the read or
  // write they wake up reports what happened.
  constexpr uint32_t kTrouble = net::kError | net::kHangup;
  Direction& incoming = dirs_[Other(side)];
  if ((ready & (net::kWritable | kTrouble)) != 0 && incoming.blocked) {
    incoming.blocked = false;
    Flush(Other(side));
  }
  if (stalled_) {
    if ((ready & (net::kReadable | kTrouble)) != 0) DropFrom(side);
    Settle();
    return;
  }
  if ((ready & (net::kReadable | kTrouble)) != 0 && dirs_[side].reading) {
    ReadFrom(side);
  }
  Settle();
}

void ShapedRelay::OnTimer(int direction) {
  dirs_[direction].timer = net::TimerId();
  dirs_[direction].armed_for = absl::InfiniteFuture();
  Settle();
}

void ShapedRelay::ReadFrom(int side) {
  Direction& dir = dirs_[side];
  for (int i = 0; i < kMaxReadsPerEvent && dir.reading &&
                  dir.pipe->held_bytes() < dir.cap;
       ++i) {
    absl::StatusOr<ReadOutcome> read = dir.pipe->Read(sockets_[side]);
    if (!read.ok()) {
      Fail(side, read.status());
      return;
    }
    if (*read == ReadOutcome::kWouldBlock) return;
    if (*read == ReadOutcome::kEof) {
      dir.reading = false;
      dir.eof = true;
      dir.end = End::kEnding;
      dir.pipe->ScheduleEnd(absl::Now());
      return;
    }
  }
}

void ShapedRelay::DropFrom(int side) {
  Direction& dir = dirs_[side];
  absl::Span<char> scratch = ScratchBuffer().subspan(0, kStreamReadBytes);
  for (int i = 0; i < kMaxReadsPerEvent; ++i) {
    absl::StatusOr<net::IoResult> read = sockets_[side].Read(scratch);
    if (read.ok() && read->would_block) return;
    if (read.ok() && !read->eof) {
      // Not through the pipe: nothing is scheduled, so count here.
      dropped_while_stalled_[side] += read->bytes;
      continue;
    }
    // The side ended or failed: the stall is over for both.
    dir.reading = false;
    Close(absl::AbortedError(absl::StrCat(
              "fault: stalled after ", *faults_.stall_after_bytes,
              " bytes until the ", SideName(side),
              read.ok() ? " closed" : absl::StrCat(" failed: ",
                                                   read.status().message()))),
          Closing::kOrderly);
    return;
  }
}

bool ShapedRelay::Counted(int direction) const {
  switch (faults_.direction) {
    case FaultDirection::kBoth:
      return true;
    case FaultDirection::kToServer:
      return direction == kClient;
    case FaultDirection::kToClient:
      return direction == kServer;
  }
  return true;
}

void ShapedRelay::Flush(int direction) {
  Direction& dir = dirs_[direction];
  int dest = Other(direction);
  const bool counted = Counted(direction);
  uint64_t limit = std::numeric_limits<uint64_t>::max();
  if (counted && fault_budget_.has_value()) limit = *fault_budget_;
  const bool sliced = counted && faults_.slice_bytes > 0;
  absl::Time now = absl::Now();
  if (sliced) {
    // The timer (ArmTimer) comes back for the next slice.
    if (now < dir.next_slice_at) return;
    limit = std::min<uint64_t>(limit, faults_.slice_bytes);
  }
  if (limit == 0) return;
  absl::StatusOr<Written> written = dir.pipe->Write(
      sockets_[dest],
      static_cast<size_t>(
          std::min<uint64_t>(limit, std::numeric_limits<size_t>::max())));
  if (!written.ok()) {
    Fail(dest, written.status());
    return;
  }
  dir.blocked = written->blocked;
  if (counted && fault_budget_.has_value()) *fault_budget_ -= written->bytes;
  if (sliced && written->bytes > 0) dir.next_slice_at = now + kSliceGap;
}

void ShapedRelay::Fail(int side, const absl::Status& status) {
  if (failure_.ok()) {
    failure_ = absl::Status(status.code(),
                            absl::StrCat(SideName(side), ": ", status.message()));
  }
  // What the failed side sent still arrives, followed by the failure.
  Direction& outgoing = dirs_[side];
  outgoing.reading = false;
  outgoing.eof = false;
  if (outgoing.end == End::kOpen) {
    outgoing.end = End::kEnding;
    outgoing.pipe->ScheduleEnd(absl::Now());
  }
  // What was on its way to the failed side has nowhere to go.
  Direction& incoming = dirs_[Other(side)];
  incoming.reading = false;
  incoming.blocked = false;
  incoming.end = End::kEnded;
  incoming.pipe->Discard();
}

void ShapedRelay::Settle() {
  if (closed_ || holding_) return;
  if (stalled_) {
    SettleStalled();
    return;
  }
  absl::Time now = absl::Now();
  for (int direction : {kClient, kServer}) {
    Direction& dir = dirs_[direction];
    if (dir.end == End::kEnded) continue;
    dir.pipe->Release(now);
    if (dir.pipe->HasReady() && !dir.blocked) Flush(direction);
  }
  if (fault_budget_.has_value() && *fault_budget_ == 0) {
    FireFault();
    return;
  }
  for (int direction : {kClient, kServer}) {
    Direction& dir = dirs_[direction];
    if (dir.end != End::kEnding || !dir.pipe->EndReached()) continue;
    dir.end = End::kEnded;
    if (dir.eof) {
      absl::Status shut = sockets_[Other(direction)].ShutdownWrite();
      if (!shut.ok()) Fail(Other(direction), shut);
    }
  }
  if (dirs_[kClient].end == End::kEnded && dirs_[kServer].end == End::kEnded) {
    Close(failure_, failure_.ok() ? Closing::kPlain : Closing::kAbort);
    return;
  }
  for (int side : {kClient, kServer}) {
    ArmTimer(side);
    const Direction& outgoing = dirs_[side];
    const Direction& incoming = dirs_[Other(side)];
    uint32_t interest = 0;
    if (outgoing.reading && outgoing.pipe->held_bytes() < outgoing.cap) {
      interest |= net::kReadable;
    }
    if (incoming.blocked && incoming.end != End::kEnded) {
      interest |= net::kWritable;
    }
    absl::Status watched = watches_[side]->Watch(interest);
    if (!watched.ok()) {
      Close(watched, Closing::kAbort);
      return;
    }
  }
}

void ShapedRelay::FireFault() {
  fault_fired_ = true;
  fault_budget_.reset();
  if (faults_.close_after_bytes.has_value()) {
    Close(absl::AbortedError(absl::StrCat("fault: closed after ",
                                          *faults_.close_after_bytes,
                                          " bytes")),
          Closing::kOrderly);
    return;
  }
  if (faults_.reset_after_bytes.has_value()) {
    Close(absl::AbortedError(absl::StrCat("fault: reset after ",
                                          *faults_.reset_after_bytes,
                                          " bytes")),
          Closing::kAbort);
    return;
  }
  stalled_ = true;
  for (int direction : {kClient, kServer}) {
    Direction& dir = dirs_[direction];
    dir.pipe->Discard();
    dir.blocked = false;
    // A side that had already ended is not read again: its end of stream
    // would read as its closing.
    dir.reading = dir.end == End::kOpen;
    if (dir.timer.valid()) loop_->Cancel(dir.timer);
    dir.timer = net::TimerId();
    dir.armed_for = absl::InfiniteFuture();
  }
  SettleStalled();
}

void ShapedRelay::SettleStalled() {
  if (!dirs_[kClient].reading && !dirs_[kServer].reading) {
    // Both sides had ended before the stall: nothing can end it later.
    Close(absl::AbortedError(absl::StrCat("fault: stalled after ",
                                          *faults_.stall_after_bytes,
                                          " bytes with both sides ended")),
          Closing::kOrderly);
    return;
  }
  for (int side : {kClient, kServer}) {
    absl::Status watched =
        watches_[side]->Watch(dirs_[side].reading ? net::kReadable : 0);
    if (!watched.ok()) {
      Close(watched, Closing::kAbort);
      return;
    }
  }
}

void ShapedRelay::ArmTimer(int direction) {
  Direction& dir = dirs_[direction];
  absl::Time due = absl::InfiniteFuture();
  if (dir.end != End::kEnded) {
    due = dir.pipe->NextDue();
    // Data held back only by slicing is due with the next slice.
    if (faults_.slice_bytes > 0 && Counted(direction) &&
        dir.pipe->HasReady() && !dir.blocked) {
      due = std::min(due, dir.next_slice_at);
    }
  }
  if (due == dir.armed_for) return;
  if (dir.timer.valid()) loop_->Cancel(dir.timer);
  dir.timer = net::TimerId();
  dir.armed_for = due;
  if (due != absl::InfiniteFuture()) {
    dir.timer = loop_->RunAt(due, [this, direction] { OnTimer(direction); });
  }
}

void ShapedRelay::StopEverything() {
  if (hold_timer_.valid()) loop_->Cancel(hold_timer_);
  hold_timer_ = net::TimerId();
  for (int side : {kClient, kServer}) {
    watches_[side]->Stop();
    if (dirs_[side].timer.valid()) loop_->Cancel(dirs_[side].timer);
    dirs_[side].timer = net::TimerId();
    dirs_[side].armed_for = absl::InfiniteFuture();
  }
  closed_ = true;
}

void ShapedRelay::Close(absl::Status status, Closing how) {
  StopEverything();
  for (net::Socket& socket : sockets_) {
    switch (how) {
      case Closing::kPlain:
        socket.Close();
        break;
      case Closing::kOrderly:
        CloseOrderly(socket);
        break;
      case Closing::kAbort:
        CloseAbortively(socket);
        break;
    }
  }
  // Moved out first: the callback may hand this relay to DeleteLater.
  ClosedCallback on_closed = std::move(on_closed_);
  on_closed_ = nullptr;
  if (on_closed) on_closed(std::move(status));
}

RelaySet::RelaySet(net::EventLoop* loop, ClosedHook on_closed)
    : loop_(loop), on_closed_(std::move(on_closed)) {}

RelaySet::~RelaySet() {
  loop_->AssertInLoopThread();
  relays_.clear();
}

absl::Status RelaySet::Start(std::unique_ptr<ShapedRelay> relay) {
  loop_->AssertInLoopThread();
  uint64_t id = next_id_++;
  ShapedRelay* started = relay.get();
  relays_.emplace(id, std::move(relay));
  absl::Status status = started->Start(
      [this, id](absl::Status status) { OnClosed(id, status); });
  if (!status.ok()) relays_.erase(id);
  return status;
}

void RelaySet::OnClosed(uint64_t id, const absl::Status& status) {
  auto it = relays_.find(id);
  ASYNCWORK_CHECK(it != relays_.end()) << "a relay closed twice";
  // The relay is inside its own callback; the loop destroys it afterwards.
  loop_->DeleteLater(std::move(it->second));
  relays_.erase(it);
  if (on_closed_) on_closed_(status);
}

RelayStats RelaySet::TotalStats() const {
  RelayStats total;
  auto add = [](RelayDirectionStats& sum, const RelayDirectionStats& one) {
    sum.bytes_read += one.bytes_read;
    sum.bytes_delivered += one.bytes_delivered;
    sum.writes += one.writes;
    sum.bytes_dropped += one.bytes_dropped;
    sum.datagrams_read += one.datagrams_read;
    sum.datagrams_delivered += one.datagrams_delivered;
    sum.datagrams_lost += one.datagrams_lost;
    sum.datagrams_duplicated += one.datagrams_duplicated;
    sum.datagrams_reordered += one.datagrams_reordered;
    sum.datagrams_dropped += one.datagrams_dropped;
    sum.held_bytes += one.held_bytes;
    sum.peak_held_bytes = std::max(sum.peak_held_bytes, one.peak_held_bytes);
  };
  for (const auto& [id, relay] : relays_) {
    RelayStats stats = relay->stats();
    add(total.client_to_server, stats.client_to_server);
    add(total.server_to_client, stats.server_to_client);
  }
  return total;
}

}  // namespace asyncwork::sim
