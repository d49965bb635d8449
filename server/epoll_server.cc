#include "server/epoll_server.h"

#include <algorithm>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "framing/datagram.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "framing/operation.h"
#include "framing/work_message.h"
#include "net/check.h"
#include "net/event_loop.h"
#include "net/framed_connection.h"
#include "net/io_watch.h"
#include "net/log.h"
#include "net/timer_queue.h"
#include "server/concurrency.h"
#include "server/socket_server.h"

namespace asyncwork::server {
namespace internal {
namespace {

// kAcceptsPerWake bounds the connections (or datagrams) taken per readable
// event, so a flood cannot starve the connections loop 0 already serves.
constexpr int kAcceptsPerWake = 64;

// kAcceptBackoff pauses accepting after an accept error (EMFILE, ENFILE),
// which would otherwise repeat at once on the level-triggered listener.
constexpr absl::Duration kAcceptBackoff = absl::Milliseconds(100);

}  // namespace

// Peer is what a loop keeps by id: a connection, or one datagram's
// exchange, each serving its handler as an AsyncStreamRequest.
class Peer : public AsyncStreamRequest {
 public:
  // Deliver sends an owed answer (from SendAt's timer, or a worker) and
  // releases the `held_bytes` that were counted for it.
  virtual void Deliver(std::string frames, size_t held_bytes) = 0;
  // Drain: the server is stopping; end once nothing is owed.
  virtual void Drain() = 0;
};

class DatagramEndpoint;
class LoopThread;

void OffloadTo(ThreadPoolPolicy& pool, LoopThread* owner, uint64_t id,
               absl::AnyInvocable<std::string()> work, size_t held_bytes);

// LoopThread is one event loop, the thread that runs it, and the
// connections it serves.
class LoopThread {
 public:
  LoopThread(EpollServer* server, std::unique_ptr<net::EventLoop> loop)
      : server_(server), loop_(std::move(loop)) {}

  // ~LoopThread destroys the connections before the loop (declared first)
  // they are registered with. The thread must have been joined.
  ~LoopThread() { peers_.clear(); }

  net::EventLoop* loop() const { return loop_.get(); }
  EpollServer& server() const { return *server_; }

  // RunThread starts the thread running the loop. StopAndJoin ends it.
  void RunThread() {
    thread_ = std::thread([this] { loop_->Run(); });
  }
  void StopAndJoin() {
    loop_->Stop();
    if (thread_.joinable()) thread_.join();
  }
  // IsLoopThread is true on the thread RunThread started, even before it
  // has entered the loop (the loop's own IsInLoopThread cannot tell then).
  bool IsLoopThread() const {
    return thread_.joinable() && thread_.get_id() == std::this_thread::get_id();
  }

  // Loop thread from here on.
  // Adopt starts serving an accepted connection.
  void Adopt(net::Socket socket, net::Address peer);
  // Receive serves one datagram's body from `from`, answered through
  // `endpoint`.
  void Receive(DatagramEndpoint* endpoint, absl::string_view body,
               const net::Address& from);
  // Deliver hands an owed answer to peer `id`, if it is still there.
  void Deliver(uint64_t id, std::string frame, size_t held_bytes);
  // Forget removes a finished peer (destroyed after this phase).
  void Forget(uint64_t id);
  // DrainAll tells every peer the server is stopping.
  void DrainAll();
  // CloseAll closes every peer with `reason`.
  void CloseAll(const absl::Status& reason);

 private:
  EpollServer* const server_;
  std::unique_ptr<net::EventLoop> loop_;  // declared first: destroyed last
  uint64_t next_id_ = 0;
  absl::flat_hash_map<uint64_t, std::unique_ptr<Peer>> peers_;
  std::thread thread_;
};

// Connection is one FramedConnection and its handler: it keeps the books
// the handler should not have to (answers owed, idleness, half-close and
// drain) and is the handler's AsyncStreamRequest.
class Connection : public Peer {
 public:
  Connection(LoopThread* owner, uint64_t id, net::Socket socket,
             net::Address peer);
  ~Connection() override;

  absl::Status Start();
  void Deliver(std::string frames, size_t held_bytes) override;
  void Drain() override;

  // AsyncStreamRequest:
  const net::Address& peer() const override { return peer_; }
  net::EventLoop* loop() const override { return loop_; }
  void AppendToOutput(absl::FunctionRef<void(std::string*)> append) override {
    connection_.AppendToOutput(append);
  }
  void SendAt(absl::Time when, std::string frames) override;
  void Offload(absl::AnyInvocable<std::string()> work,
               size_t held_bytes) override;
  bool has_workers() const override {
    return owner_->server().hash_pool() != nullptr;
  }
  void Close(const absl::Status& reason) override {
    connection_.Close(reason);
  }

 private:
  void OnFrame(absl::string_view body);
  void OnReadEof();
  void OnClose(const absl::Status& reason);
  // Owe and Paid count answers in flight and the bytes they hold, and pause
  // or resume reading by the limits; Paid sends nothing itself.
  void Owe(size_t held_bytes);
  void Paid(size_t held_bytes);
  // MaybeFinish closes after the last owed answer once the peer has
  // half-closed or the server drains.
  void MaybeFinish();
  void ArmIdleTimer();
  void OnIdleTimer();
  void CancelTimers();

  LoopThread* const owner_;
  net::EventLoop* const loop_;
  const uint64_t id_;
  const net::Address peer_;
  const EpollServerOptions& options_;
  std::unique_ptr<AsyncStreamHandler> handler_;
  int owed_ = 0;
  size_t owed_bytes_ = 0;  // held by the answers owed
  bool read_eof_ = false;
  bool draining_ = false;
  bool paused_ = false;
  uint64_t next_timer_ = 0;
  absl::flat_hash_map<uint64_t, net::TimerId> send_timers_;
  net::TimerId idle_timer_;
  absl::Time idle_since_;
  uint64_t delivered_bytes_ = 0;  // bytes of the frames handed to OnFrame
  uint64_t sent_seen_ = 0;        // bytes_sent() at the last idle check
  // Declared last, so destroyed first: its callbacks use the members above.
  net::FramedConnection connection_;
};

Connection::Connection(LoopThread* owner, uint64_t id, net::Socket socket,
                       net::Address peer)
    : owner_(owner),
      loop_(owner->loop()),
      id_(id),
      peer_(std::move(peer)),
      options_(owner->server().options()),
      handler_(owner->server().factory()()),
      idle_since_(owner->loop()->Now()),
      connection_(
          owner->loop(), std::move(socket),
          net::FramedConnection::Options{
              .max_body_size = options_.max_frame,
              .high_water_mark = options_.high_water_mark,
              .low_water_mark = options_.low_water_mark,
              .read_size = options_.read_size},
          net::FramedConnection::Callbacks{
              .on_frame = [this](absl::string_view body) { OnFrame(body); },
              .on_read_eof = [this] { OnReadEof(); },
              .on_close =
                  [this](const absl::Status& reason) { OnClose(reason); },
              .on_drained = nullptr}) {}

Connection::~Connection() { CancelTimers(); }

absl::Status Connection::Start() {
  absl::Status started = connection_.Start();
  if (!started.ok()) return started;
  ArmIdleTimer();
  handler_->Setup(*this);
  return absl::OkStatus();
}

void Connection::OnFrame(absl::string_view body) {
  delivered_bytes_ += framing::kFrameHeaderSize + body.size();
  idle_since_ = loop_->Now();
  handler_->HandleFrame(*this, body);
}

void Connection::SendAt(absl::Time when, std::string frames) {
  uint64_t key = next_timer_++;
  const size_t held = frames.size();
  Owe(held);
  send_timers_[key] = loop_->RunAt(
      when, [this, key, held, frames = std::move(frames)]() mutable {
        send_timers_.erase(key);
        Deliver(std::move(frames), held);
      });
}

void Connection::Offload(absl::AnyInvocable<std::string()> work,
                         size_t held_bytes) {
  ThreadPoolPolicy* pool = owner_->server().hash_pool();
  if (pool == nullptr) {
    std::string frames = work();
    connection_.AppendToOutput([&](std::string* out) { out->append(frames); });
    return;
  }
  Owe(held_bytes);
  OffloadTo(*pool, owner_, id_, std::move(work), held_bytes);
}

void Connection::Deliver(std::string frames, size_t held_bytes) {
  connection_.AppendToOutput([&](std::string* out) { out->append(frames); });
  Paid(held_bytes);
}

void Connection::Owe(size_t held_bytes) {
  ++owed_;
  owed_bytes_ += held_bytes;
  // Answers held for later are output not yet queued: the same high-water
  // mark bounds them, or a client could park gigabytes in SLEEP answers
  // while the output buffer itself stays empty.
  if (!paused_ && (owed_ >= options_.max_in_flight ||
                   owed_bytes_ > options_.high_water_mark)) {
    paused_ = true;
    connection_.PauseReading();
  }
}

void Connection::Paid(size_t held_bytes) {
  --owed_;
  owed_bytes_ -= held_bytes;
  if (paused_ && owed_ < options_.max_in_flight &&
      owed_bytes_ <= options_.low_water_mark) {
    paused_ = false;
    connection_.ResumeReading();
  }
  if (owed_ == 0) {
    // Idle time counts from here: waiting for our own answers is not the
    // client being idle.
    idle_since_ = loop_->Now();
    ArmIdleTimer();
  }
  MaybeFinish();
}

void Connection::OnReadEof() {
  read_eof_ = true;
  MaybeFinish();
}

void Connection::Drain() {
  draining_ = true;
  MaybeFinish();
}

void Connection::MaybeFinish() {
  if (owed_ == 0 && (read_eof_ || draining_)) connection_.CloseAfterFlush();
}

void Connection::ArmIdleTimer() {
  if (idle_timer_.valid() || connection_.closed()) return;
  idle_timer_ = loop_->RunAt(idle_since_ + options_.idle_timeout, [this] {
    idle_timer_ = net::TimerId();
    OnIdleTimer();
  });
}

void Connection::OnIdleTimer() {
  // Re-armed by Paid once the last owed answer is sent.
  if (owed_ > 0) return;
  absl::Time now = loop_->Now();
  uint64_t sent = connection_.bytes_sent();
  if (sent != sent_seen_) {
    // Output still moving: a slow reader of a long answer is not idle.
    sent_seen_ = sent;
    idle_since_ = now;
  }
  if (now < idle_since_ + options_.idle_timeout) {
    ArmIdleTimer();
    return;
  }
  uint64_t partial = connection_.bytes_received() - delivered_bytes_;
  std::string what;
  if (connection_.output_bytes() > 0) {
    what = absl::StrCat(connection_.output_bytes(),
                        " bytes of answers unsent (the peer is not reading)");
  } else if (partial > 0) {
    what = absl::StrCat(partial, " bytes of an unfinished frame");
  } else {
    what = "no request";
  }
  connection_.Close(absl::DeadlineExceededError(
      absl::StrCat("idle timeout (", absl::FormatDuration(options_.idle_timeout),
                   "): ", what)));
}

void Connection::CancelTimers() {
  for (auto& [key, timer] : send_timers_) loop_->Cancel(timer);
  send_timers_.clear();
  if (idle_timer_.valid()) loop_->Cancel(idle_timer_);
  idle_timer_ = net::TimerId();
}

void Connection::OnClose(const absl::Status& reason) {
  if (!reason.ok()) {
    net::LogWarning(absl::StrCat("connection from ", peer_.ToString(),
                                 " closed: ", reason.message()));
  }
  CancelTimers();
  handler_->Finish(*this, reason);
  owner_->Forget(id_);
}

void LoopThread::Adopt(net::Socket socket, net::Address peer) {
  uint64_t id = next_id_++;
  auto connection =
      std::make_unique<Connection>(this, id, std::move(socket), peer);
  Connection* raw = connection.get();
  peers_.emplace(id, std::move(connection));
  absl::Status started = raw->Start();
  if (!started.ok()) {
    net::LogWarning(absl::StrCat("connection from ", peer.ToString(),
                                 " dropped: ", started.message()));
    Forget(id);
  }
}

void LoopThread::Deliver(uint64_t id, std::string frame, size_t held_bytes) {
  auto it = peers_.find(id);
  if (it != peers_.end()) it->second->Deliver(std::move(frame), held_bytes);
}

void LoopThread::Forget(uint64_t id) {
  auto it = peers_.find(id);
  if (it == peers_.end()) return;
  // Forget runs inside the peer's own callback: destroy it later.
  loop_->DeleteLater(std::move(it->second));
  peers_.erase(it);
  server_->ConnectionClosed();
}

void LoopThread::DrainAll() {
  std::vector<uint64_t> ids;
  for (const auto& [id, peer] : peers_) ids.push_back(id);
  // Draining may close a connection, which removes it from the map.
  for (uint64_t id : ids) {
    auto it = peers_.find(id);
    if (it != peers_.end()) it->second->Drain();
  }
}

void LoopThread::CloseAll(const absl::Status& reason) {
  std::vector<uint64_t> ids;
  for (const auto& [id, peer] : peers_) ids.push_back(id);
  for (uint64_t id : ids) {
    auto it = peers_.find(id);
    if (it != peers_.end()) it->second->Close(reason);
  }
}

// DatagramEndpoint is the epoll server's datagram socket, on loop 0: each
// datagram it receives becomes one Exchange, and every answer leaves
// through it.
class DatagramEndpoint {
 public:
  DatagramEndpoint(EpollServer* server, LoopThread* home, net::Socket socket)
      : server_(server),
        home_(home),
        max_datagram_(std::min(MaxDatagramSize(socket.transport()),
                               size_t{server->options().max_frame} +
                                   framing::kFrameHeaderSize)),
        buffer_(std::make_unique<char[]>(max_datagram_)),
        socket_(std::move(socket)),
        watch_(home->loop(), socket_.fd(), [this](uint32_t) { OnReadable(); }) {
  }

  absl::Status Start() { return watch_.EnableReading(); }
  // StopReading takes no more datagrams; answers still owed go out.
  void StopReading() { watch_.Stop(); }

  // Send sends each whole frame in `frames` to `to` as one datagram. A
  // reply the kernel will not take now is dropped, with a log line, as a
  // datagram may be.
  void Send(absl::string_view frames, const net::Address& to);

 private:
  void OnReadable();

  EpollServer* const server_;
  LoopThread* const home_;
  const size_t max_datagram_;
  std::unique_ptr<char[]> buffer_;
  net::Socket socket_;  // declared before watch_: the watch stops first
  net::IoWatch watch_;
};

// Exchange is one datagram and what its handler owes for it.
class Exchange : public Peer {
 public:
  Exchange(LoopThread* owner, DatagramEndpoint* endpoint, uint64_t id,
           net::Address peer)
      : owner_(owner),
        endpoint_(endpoint),
        id_(id),
        peer_(std::move(peer)),
        handler_(owner->server().factory()()) {}

  ~Exchange() override {
    for (auto& [key, timer] : send_timers_) owner_->loop()->Cancel(timer);
  }

  // Handle runs the handler on the datagram's body.
  void Handle(absl::string_view body) {
    handler_->Setup(*this);
    if (!closed_) handler_->HandleFrame(*this, body);
    Flush();
    MaybeFinish();
  }

  void Deliver(std::string frames, size_t held_bytes) override {
    out_.append(frames);
    --owed_;
    Flush();
    MaybeFinish();
  }
  void Drain() override {}  // what is owed is still sent

  const net::Address& peer() const override { return peer_; }
  net::EventLoop* loop() const override { return owner_->loop(); }
  void AppendToOutput(absl::FunctionRef<void(std::string*)> append) override {
    if (!closed_) append(&out_);
  }
  void SendAt(absl::Time when, std::string frames) override {
    uint64_t key = next_timer_++;
    ++owed_;
    send_timers_[key] = owner_->loop()->RunAt(
        when, [this, key, frames = std::move(frames)]() mutable {
          send_timers_.erase(key);
          Deliver(std::move(frames), 0);
        });
  }
  void Offload(absl::AnyInvocable<std::string()> work,
               size_t held_bytes) override;
  bool has_workers() const override {
    return owner_->server().hash_pool() != nullptr;
  }
  void Close(const absl::Status& reason) override {
    if (closed_) return;
    closed_ = true;
    if (!reason.ok()) {
      net::LogWarning(absl::StrCat("datagram from ", peer_.ToString(),
                                   " dropped: ", reason.message()));
    }
    handler_->Finish(*this, reason);
    owner_->Forget(id_);
  }

 private:
  void Flush() {
    if (!closed_ && !out_.empty()) endpoint_->Send(out_, peer_);
    out_.clear();
  }
  void MaybeFinish() {
    if (owed_ == 0) Close(absl::OkStatus());
  }

  LoopThread* const owner_;
  DatagramEndpoint* const endpoint_;
  const uint64_t id_;
  const net::Address peer_;
  std::unique_ptr<AsyncStreamHandler> handler_;
  std::string out_;
  int owed_ = 0;
  bool closed_ = false;
  uint64_t next_timer_ = 0;
  absl::flat_hash_map<uint64_t, net::TimerId> send_timers_;
};

// OffloadTo runs `work` on `pool` and hands the frames it returns to peer
// `id` on `owner`'s loop, found by id because the peer may be gone by then.
void OffloadTo(ThreadPoolPolicy& pool, LoopThread* owner, uint64_t id,
               absl::AnyInvocable<std::string()> work, size_t held_bytes) {
  pool.Process(
      [owner, id, held_bytes, work = std::move(work)]() mutable {
        owner->loop()->Post([owner, id, held_bytes, frames = work()]() mutable {
          owner->Deliver(id, std::move(frames), held_bytes);
        });
      },
      {});
}

void Exchange::Offload(absl::AnyInvocable<std::string()> work,
                       size_t held_bytes) {
  ThreadPoolPolicy* pool = owner_->server().hash_pool();
  if (pool == nullptr) {
    out_.append(work());
    return;
  }
  ++owed_;
  OffloadTo(*pool, owner_, id_, std::move(work), held_bytes);
}

void LoopThread::Receive(DatagramEndpoint* endpoint, absl::string_view body,
                         const net::Address& from) {
  if (!server_->TryOpenConnection()) {
    net::LogWarning(absl::StrCat(
        "datagram from ", from.ToString(), " dropped: ",
        server_->connections(), " requests in progress, the limit (max_connections=",
        server_->options().max_connections, ")"));
    return;
  }
  uint64_t id = next_id_++;
  auto exchange = std::make_unique<Exchange>(this, endpoint, id, from);
  Exchange* raw = exchange.get();
  peers_.emplace(id, std::move(exchange));
  raw->Handle(body);
}

void DatagramEndpoint::OnReadable() {
  for (int i = 0; i < kAcceptsPerWake; ++i) {
    net::Address from;
    absl::StatusOr<net::IoResult> received =
        socket_.RecvFrom(absl::MakeSpan(buffer_.get(), max_datagram_), &from);
    if (!received.ok()) {
      net::LogWarning(absl::StrCat("receiving on ",
                                   server_->address().ToString(), ": ",
                                   received.status().message()));
      return;
    }
    if (received->would_block) return;
    if (received->truncated) {
      net::LogWarning(absl::StrCat(
          "datagram from ", from.ToString(),
          " dropped: longer than the largest accepted (", max_datagram_,
          " bytes)"));
      continue;
    }
    absl::StatusOr<absl::string_view> body = framing::DecodeDatagram(
        absl::string_view(buffer_.get(), received->bytes),
        server_->options().max_frame);
    if (!body.ok()) {
      net::LogWarning(absl::StrCat("datagram from ", from.ToString(),
                                   " dropped: ", body.status().message()));
      continue;
    }
    home_->Receive(this, *body, from);
  }
}

void DatagramEndpoint::Send(absl::string_view frames, const net::Address& to) {
  while (frames.size() >= framing::kFrameHeaderSize) {
    const auto* header = reinterpret_cast<const unsigned char*>(frames.data());
    size_t size = framing::kFrameHeaderSize +
                  (size_t{header[0]} << 24 | size_t{header[1]} << 16 |
                   size_t{header[2]} << 8 | size_t{header[3]});
    if (size > frames.size()) break;
    absl::StatusOr<net::IoResult> sent =
        socket_.SendTo(frames.substr(0, size), to);
    if (!sent.ok() || sent->would_block) {
      net::LogWarning(absl::StrCat(
          "reply to ", to.ToString(), " dropped: ",
          sent.ok() ? "the send queue is full" : sent.status().message()));
    }
    frames.remove_prefix(size);
  }
}

// Acceptor takes new connections on loop 0 and deals them out.
class Acceptor {
 public:
  Acceptor(EpollServer* server, net::EventLoop* loop, net::Socket listener)
      : server_(server),
        loop_(loop),
        listener_(std::move(listener)),
        watch_(loop, listener_.fd(), [this](uint32_t) { OnReadable(); }) {}

  ~Acceptor() {
    if (backoff_.valid()) loop_->Cancel(backoff_);
  }

  absl::Status Start() { return watch_.EnableReading(); }

 private:
  void OnReadable();

  EpollServer* const server_;
  net::EventLoop* const loop_;
  net::Socket listener_;  // declared before watch_: the watch stops first
  net::IoWatch watch_;
  size_t next_loop_ = 0;
  net::TimerId backoff_;
};

void Acceptor::OnReadable() {
  for (int i = 0; i < kAcceptsPerWake; ++i) {
    net::Address peer;
    absl::StatusOr<std::optional<net::Socket>> accepted =
        listener_.Accept(&peer);
    if (!accepted.ok()) {
      net::LogWarning(absl::StrCat("accepting on ",
                                   server_->address().ToString(), ": ",
                                   accepted.status().message(),
                                   "; pausing accepts briefly"));
      watch_.Stop();
      backoff_ = loop_->RunAfter(kAcceptBackoff, [this] {
        backoff_ = net::TimerId();
        absl::Status resumed = watch_.EnableReading();
        if (!resumed.ok()) net::LogError(resumed.ToString());
      });
      return;
    }
    if (!accepted->has_value()) return;
    net::Socket socket = std::move(**accepted);
    if (!server_->TryOpenConnection()) {
      net::LogWarning(absl::StrCat(
          "connection from ", peer.ToString(), " closed: ",
          server_->connections(), " connections open, the limit (max_connections=",
          server_->options().max_connections, ")"));
      continue;
    }
    if (socket.transport() == net::Transport::kTcp) {
      (void)socket.SetNoDelay(true);
    }
    LoopThread* target = &server_->loop(next_loop_++ % server_->loop_count());
    if (target->loop() == loop_) {
      target->Adopt(std::move(socket), peer);
    } else {
      target->loop()->Post(
          [target, socket = std::move(socket), peer]() mutable {
            target->Adopt(std::move(socket), peer);
          });
    }
  }
}

}  // namespace internal

namespace {

// EncodedAnswer performs `request` and returns its answer's frame.
std::string EncodedAnswer(const framing::RequestView& request,
                          const framing::Outcome& outcome) {
  std::string frame;
  framing::AppendResponseFrame(framing::ResponseFor(request, outcome), &frame);
  return frame;
}

absl::Status CheckOptions(const EpollServerOptions& options) {
  if (options.threads < 1 || options.hash_workers < 1 ||
      options.max_connections < 1 || options.max_in_flight < 1 ||
      options.read_size < 1 || options.max_frame < framing::kMessageHeaderSize ||
      options.high_water_mark < 1 ||
      options.low_water_mark > options.high_water_mark ||
      options.idle_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "epoll server options out of range: threads=", options.threads,
        " hash_workers=", options.hash_workers,
        " max_connections=", options.max_connections,
        " max_in_flight=", options.max_in_flight,
        " read_size=", options.read_size, " max_frame=", options.max_frame,
        " high_water_mark=", options.high_water_mark,
        " low_water_mark=", options.low_water_mark,
        " idle_timeout=", absl::FormatDuration(options.idle_timeout)));
  }
  return absl::OkStatus();
}

}  // namespace

void WorkAsyncHandler::HandleFrame(AsyncStreamRequest& request,
                                   absl::string_view body) {
  absl::StatusOr<framing::RequestView> work = framing::ParseRequest(body);
  if (!work.ok()) {
    request.Close(work.status());
    return;
  }
  if (work->op == framing::Op::kHash && request.has_workers()) {
    // The body is gone once this returns: the job owns a copy of the data.
    framing::RequestView header = *work;
    header.data = {};
    request.Offload(
        [header, data = std::string(work->data)] {
          framing::RequestView copy = header;
          copy.data = data;
          return EncodedAnswer(copy, framing::Perform(copy));
        },
        work->data.size());
    return;
  }
  framing::Outcome outcome = framing::Perform(*work);
  if (outcome.delay() > absl::ZeroDuration()) {
    // The answer borrows the body: encode it now and hold the frame. The
    // clock is read now, not the loop's cached time, so it is never early.
    request.SendAt(outcome.NotBefore(absl::Now()),
                   EncodedAnswer(*work, outcome));
    return;
  }
  request.AppendToOutput([&](std::string* out) {
    framing::AppendResponseFrame(framing::ResponseFor(*work, outcome), out);
  });
}

std::unique_ptr<AsyncStreamHandler> MakeWorkAsyncHandler() {
  return std::make_unique<WorkAsyncHandler>();
}

EpollServer::EpollServer(net::Address address,
                         const EpollServerOptions& options,
                         AsyncStreamHandlerFactory factory)
    : address_(std::move(address)),
      options_(options),
      factory_(std::move(factory)) {}

EpollServer::~EpollServer() {
  if (started_) (void)Stop(absl::ZeroDuration());
}

absl::StatusOr<std::unique_ptr<EpollServer>> EpollServer::Start(
    const net::Address& listen, const EpollServerOptions& options,
    AsyncStreamHandlerFactory factory) {
  if (!factory) {
    return absl::InvalidArgumentError("the epoll server needs a handler factory");
  }
  absl::Status valid = CheckOptions(options);
  if (!valid.ok()) return valid;
  absl::StatusOr<net::Socket> listener =
      net::Socket::Listen(listen, options.request_queue_size);
  if (!listener.ok()) return listener.status();
  absl::StatusOr<net::Address> bound = listener->LocalAddress();
  if (!bound.ok()) return bound.status();
  std::unique_ptr<EpollServer> server(
      new EpollServer(*bound, options, std::move(factory)));
  if (options.hash_on_workers) {
    server->hash_pool_ = std::make_unique<ThreadPoolPolicy>(
        ThreadPoolPolicy::Options{.pool_size = options.hash_workers});
  }
  for (int i = 0; i < options.threads; ++i) {
    absl::StatusOr<std::unique_ptr<net::EventLoop>> loop =
        net::EventLoop::Create(options.backend);
    if (!loop.ok()) return loop.status();
    server->loops_.push_back(std::make_unique<internal::LoopThread>(
        server.get(), std::move(*loop)));
  }
  // Registered before any loop runs, which EventLoop allows from here.
  absl::Status accepting;
  if (listen.is_stream()) {
    server->acceptor_ = std::make_unique<internal::Acceptor>(
        server.get(), server->loops_[0]->loop(), std::move(*listener));
    accepting = server->acceptor_->Start();
  } else {
    server->endpoint_ = std::make_unique<internal::DatagramEndpoint>(
        server.get(), server->loops_[0].get(), std::move(*listener));
    accepting = server->endpoint_->Start();
  }
  if (!accepting.ok()) return accepting;
  for (auto& loop : server->loops_) loop->RunThread();
  server->started_ = true;
  return server;
}

bool EpollServer::TryOpenConnection() {
  // Only loop 0's acceptor opens, so load-then-add cannot overshoot.
  if (open_.load() >= static_cast<size_t>(options_.max_connections)) {
    return false;
  }
  open_.fetch_add(1);
  return true;
}

void EpollServer::ConnectionClosed() {
  if (open_.fetch_sub(1) == 1) {
    // Taking the lock orders this with Stop's check of the count.
    { std::lock_guard<std::mutex> lock(mutex_); }
    all_closed_.notify_all();
  }
}

void EpollServer::RunOnEach(
    const std::function<void(internal::LoopThread&)>& task) {
  for (auto& loop : loops_) {
    ASYNCWORK_CHECK(!loop->IsLoopThread())
        << "EpollServer::Stop called from one of its loops";
    std::promise<void> done;
    loop->loop()->Post([&] {
      task(*loop);
      done.set_value();
    });
    done.get_future().wait();
  }
}

absl::Status EpollServer::Stop(absl::Duration drain_timeout) {
  if (stopped_ || !started_) return absl::OkStatus();
  stopped_ = true;
  // No new connections or datagrams; both live on loop 0. The endpoint
  // stays, to send the answers still owed.
  loops_[0]->loop()->Post([this] {
    acceptor_.reset();
    if (endpoint_ != nullptr) endpoint_->StopReading();
  });
  RunOnEach([](internal::LoopThread& loop) { loop.DrainAll(); });
  {
    std::unique_lock<std::mutex> lock(mutex_);
    all_closed_.wait_for(
        lock,
        absl::ToChronoNanoseconds(std::min(drain_timeout, absl::Hours(24))),
        [this] { return open_.load() == 0; });
  }
  if (open_.load() > 0) {
    net::LogWarning(absl::StrCat(
        "stopping ", address_.ToString(), ": ", open_.load(),
        " connections still owed answers after ",
        absl::FormatDuration(drain_timeout), "; closing them"));
    absl::Status reason =
        absl::CancelledError("server stopping: the drain timeout passed");
    RunOnEach([&](internal::LoopThread& loop) { loop.CloseAll(reason); });
  }
  // Jobs still queued finish; their answers find their connections gone.
  if (hash_pool_ != nullptr) hash_pool_->Close(/*wait=*/true);
  for (auto& loop : loops_) loop->StopAndJoin();
  return absl::OkStatus();
}

}  // namespace asyncwork::server
