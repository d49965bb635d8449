#include "net/dispatcher.h"

#include <sys/socket.h>

#include <cerrno>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "net/check.h"
#include "net/log.h"

namespace asyncwork::net {
namespace {

// GetIntOption reads one int socket option, or nullopt if the call fails.
std::optional<int> GetIntOption(int fd, int option) {
  int value = 0;
  socklen_t length = sizeof(value);
  if (::getsockopt(fd, SOL_SOCKET, option, &value, &length) != 0) {
    return std::nullopt;
  }
  return value;
}

// PendingError reads and clears the socket's pending error (SO_ERROR).
absl::Status PendingError(int fd) {
  std::optional<int> error = GetIntOption(fd, SO_ERROR);
  if (!error.has_value()) return absl::ErrnoToStatus(errno, "getsockopt(SO_ERROR)");
  if (*error != 0) return absl::ErrnoToStatus(*error, "socket error");
  return absl::OkStatus();
}

bool HasPeer(int fd) {
  struct sockaddr_storage peer;
  socklen_t length = sizeof(peer);
  return ::getpeername(fd, reinterpret_cast<struct sockaddr*>(&peer),
                       &length) == 0;
}

// The default map is created on first request and deliberately never
// destroyed: dispatchers with static storage may outlive any destructor
// order we could pick, as with absl::NoDestructor.
std::mutex default_map_mutex;
ChannelMap* default_map = nullptr;

}  // namespace

absl::StatusOr<std::unique_ptr<ChannelMap>> ChannelMap::Create(
    Backend backend) {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create(backend);
  if (!loop.ok()) return loop.status();
  return std::make_unique<ChannelMap>(Key(), *std::move(loop));
}

ChannelMap::ChannelMap(Key, std::unique_ptr<EventLoop> loop)
    : loop_(std::move(loop)) {}

ChannelMap::~ChannelMap() {
  loop_->AssertInLoopThread();
  ASYNCWORK_CHECK(bound_ == 0)
      << bound_ << " Dispatcher(s) still exist on a ChannelMap being "
      << "destroyed; destroy them first";
}

Dispatcher* ChannelMap::Find(int fd) const {
  loop_->AssertInLoopThread();
  auto it = open_.find(fd);
  return it == open_.end() ? nullptr : it->second;
}

void ChannelMap::CloseAll() {
  loop_->AssertInLoopThread();
  // Close edits open_, and an overridden Close may close other dispatchers
  // too, so work from a snapshot and skip those already gone.
  std::vector<int> fds;
  fds.reserve(open_.size());
  for (const auto& [fd, dispatcher] : open_) fds.push_back(fd);
  for (int fd : fds) {
    if (Dispatcher* dispatcher = Find(fd)) dispatcher->Close();
  }
}

void ChannelMap::Attach(int fd, Dispatcher* dispatcher) {
  bool inserted = open_.emplace(fd, dispatcher).second;
  ASYNCWORK_CHECK(inserted) << "fd " << fd << " is in the ChannelMap twice";
}

void ChannelMap::Detach(int fd) {
  size_t erased = open_.erase(fd);
  ASYNCWORK_CHECK(erased == 1) << "fd " << fd << " is not in the ChannelMap";
}

absl::StatusOr<ChannelMap*> DefaultChannelMap(std::optional<Backend> backend) {
  std::lock_guard<std::mutex> lock(default_map_mutex);
  if (default_map == nullptr) {
    absl::StatusOr<std::unique_ptr<ChannelMap>> created =
        ChannelMap::Create(backend.value_or(Backend::kEpoll));
    if (!created.ok()) return created.status();
    default_map = created->release();
  } else if (backend.has_value() && *backend != default_map->backend()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "DefaultChannelMap: the default map already runs on ",
        BackendName(default_map->backend()), ", not ", BackendName(*backend)));
  }
  return default_map;
}

ChannelMap* DefaultChannelMapIfCreated() {
  std::lock_guard<std::mutex> lock(default_map_mutex);
  return default_map;
}

absl::Status Loop(absl::Duration timeout, Backend backend, ChannelMap* map,
                  std::optional<int> count) {
  if (map == nullptr) {
    absl::StatusOr<ChannelMap*> found = DefaultChannelMap(backend);
    if (!found.ok()) return found.status();
    map = *found;
  } else if (map->backend() != backend) {
    return absl::InvalidArgumentError(
        absl::StrCat("Loop: the map runs on ", BackendName(map->backend()),
                     ", not ", BackendName(backend)));
  }
  for (int done = 0; !map->empty() && (!count.has_value() || done < *count);
       ++done) {
    if (absl::Status waited = map->loop()->RunOnce(timeout); !waited.ok()) {
      return waited;
    }
  }
  return absl::OkStatus();
}

Dispatcher::Dispatcher(ChannelMap* map) : map_(map) {
  if (map_ != nullptr) {
    AssertInLoopThread();
    map_->Bind();
  }
}

Dispatcher::~Dispatcher() {
  ASYNCWORK_CHECK(!in_handler_)
      << "Dispatcher destroyed inside its own handler; hand its owner to "
      << "EventLoop::DeleteLater instead";
  if (map_ == nullptr) return;
  Detach();
  watch_.reset();
  map_->Unbind();
}

void Dispatcher::AssertInLoopThread() const {
  if (map_ != nullptr) map_->loop()->AssertInLoopThread();
}

absl::Status Dispatcher::ResolveMap() {
  if (map_ != nullptr) return absl::OkStatus();
  absl::StatusOr<ChannelMap*> found = DefaultChannelMap();
  if (!found.ok()) return found.status();
  map_ = *found;
  AssertInLoopThread();
  map_->Bind();
  return absl::OkStatus();
}

absl::Status Dispatcher::RequireSocket(const char* call) const {
  if (socket_.valid()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      call, ": the dispatcher has no socket (CreateSocket or Set first)"));
}

// --- Handlers' defaults.

void Dispatcher::HandleRead() {
  LogWarning(absl::StrCat("Dispatcher fd ", socket_.fd(),
                          ": unhandled read event"));
}

void Dispatcher::HandleWrite() {
  LogWarning(absl::StrCat("Dispatcher fd ", socket_.fd(),
                          ": unhandled write event"));
}

void Dispatcher::HandleConnect() {}

void Dispatcher::HandleAccept() {
  absl::StatusOr<std::optional<std::pair<Socket, Address>>> accepted =
      Accept();
  if (!accepted.ok()) return HandleError(accepted.status());
  if (!accepted->has_value()) return;
  auto& [socket, peer] = **accepted;
  HandleAccepted(std::move(socket), peer);
}

void Dispatcher::HandleAccepted(Socket socket, const Address& peer) {
  LogWarning(absl::StrCat("Dispatcher fd ", socket_.fd(),
                          ": unhandled accepted connection from ",
                          peer.ToString(), "; closing it"));
}

void Dispatcher::HandleClose() { Close(); }

void Dispatcher::HandleError(const absl::Status& error) {
  LogWarning(absl::StrCat("Dispatcher fd ", socket_.fd(), ": ",
                          error.ToString(), "; closing"));
  HandleClose();
}

void Dispatcher::HandleExpt() {
  char urgent;
  absl::StatusOr<IoResult> got = RecvUrgent(absl::MakeSpan(&urgent, 1));
  LogWarning(absl::StrCat(
      "Dispatcher fd ", socket_.fd(), ": unhandled urgent data",
      got.ok() ? (got->bytes > 0 ? "; discarded one byte" : "")
               : absl::StrCat(" (", got.status().ToString(), ")")));
}

bool Dispatcher::Readable() const { return true; }

bool Dispatcher::Writable() const { return true; }

// --- Operations.

absl::Status Dispatcher::CreateSocket(int family, Transport transport) {
  absl::StatusOr<Socket> socket = Socket::Create(family, transport);
  if (!socket.ok()) return socket.status();
  return Set(*std::move(socket));
}

absl::Status Dispatcher::Set(Socket socket) {
  if (!socket.valid()) {
    return absl::InvalidArgumentError(
        "Dispatcher::Set: the socket holds no descriptor");
  }
  if (absl::Status resolved = ResolveMap(); !resolved.ok()) return resolved;
  AssertInLoopThread();
  Detach();
  socket_ = std::move(socket);
  ++epoch_;
  // asyncore's dispatcher(sock) treated a socket with a peer as connected;
  // recognising a listener too lets Socket::Listen's result be Set as is.
  accepting_ = socket_.is_stream() &&
               GetIntOption(socket_.fd(), SO_ACCEPTCONN).value_or(0) != 0;
  connected_ = !accepting_ && HasPeer(socket_.fd());
  map_->Attach(socket_.fd(), this);
  RetireWatch();
  watch_ = std::make_unique<IoWatch>(
      map_->loop(), socket_.fd(), [this](uint32_t ready) { OnReady(ready); });
  if (absl::Status watched = UpdateInterest(); !watched.ok()) {
    Detach();
    return watched;
  }
  return absl::OkStatus();
}

absl::Status Dispatcher::Bind(const Address& address) {
  AssertInLoopThread();
  if (absl::Status has = RequireSocket("bind"); !has.ok()) return has;
  return socket_.Bind(address);
}

absl::Status Dispatcher::Listen(int backlog) {
  AssertInLoopThread();
  if (absl::Status has = RequireSocket("listen"); !has.ok()) return has;
  if (absl::Status listening = socket_.StartListening(backlog);
      !listening.ok()) {
    return listening;
  }
  accepting_ = true;
  connected_ = connecting_ = false;
  return UpdateInterest();
}

absl::Status Dispatcher::Connect(const Address& address) {
  AssertInLoopThread();
  if (absl::Status has = RequireSocket("connect"); !has.ok()) return has;
  connected_ = false;
  if (absl::Status started = socket_.StartConnect(address); !started.ok()) {
    return started;
  }
  // Even a connect that completed at once (Unix stream) is reported from the
  // loop, so HandleConnect always runs in the same place.
  connecting_ = true;
  return UpdateInterest();
}

absl::StatusOr<std::optional<std::pair<Socket, Address>>> Dispatcher::Accept() {
  AssertInLoopThread();
  if (!accepting_) {
    return absl::FailedPreconditionError(
        "accept: the dispatcher is not listening");
  }
  Address peer;
  absl::StatusOr<std::optional<Socket>> accepted = socket_.Accept(&peer);
  if (!accepted.ok()) return accepted.status();
  if (!accepted->has_value()) return std::nullopt;
  return std::make_optional(std::make_pair(std::move(**accepted), peer));
}

absl::StatusOr<size_t> Dispatcher::Send(absl::string_view data) {
  AssertInLoopThread();
  if (absl::Status has = RequireSocket("send"); !has.ok()) return has;
  absl::StatusOr<IoResult> sent = socket_.Write(data);
  if (!sent.ok()) return sent.status();
  return sent->bytes;
}

absl::StatusOr<IoResult> Dispatcher::Recv(absl::Span<char> buffer) {
  AssertInLoopThread();
  if (absl::Status has = RequireSocket("recv"); !has.ok()) return has;
  absl::StatusOr<IoResult> got = socket_.Read(buffer);
  if (got.ok() && got->eof) HandleClose();
  return got;
}

absl::StatusOr<IoResult> Dispatcher::RecvUrgent(absl::Span<char> buffer) {
  AssertInLoopThread();
  if (absl::Status has = RequireSocket("recv(MSG_OOB)"); !has.ok()) return has;
  ssize_t got;
  do {
    got = ::recv(socket_.fd(), buffer.data(), buffer.size(),
                 MSG_OOB | MSG_DONTWAIT);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return IoResult::WouldBlock();
    return absl::ErrnoToStatus(errno, "recv(MSG_OOB)");
  }
  return IoResult::Transferred(static_cast<size_t>(got));
}

void Dispatcher::Close() {
  AssertInLoopThread();
  Detach();
}

void Dispatcher::Detach() {
  connected_ = connecting_ = accepting_ = false;
  if (!socket_.valid()) return;
  ++epoch_;
  // Stopping the watch retires its token, so an event the poller already
  // returned for this socket is dropped even later in this iteration.
  if (watch_ != nullptr) watch_->Stop();
  map_->Detach(socket_.fd());
  socket_.Close();
}

void Dispatcher::RetireWatch() {
  if (watch_ == nullptr) return;
  watch_->Stop();
  // An IoWatch may not be destroyed by its own running handler.
  if (in_handler_) {
    map_->loop()->DeleteLater(std::move(watch_));
  } else {
    watch_.reset();
  }
}

absl::Status Dispatcher::UpdateInterest() {
  AssertInLoopThread();
  if (!socket_.valid() || watch_ == nullptr) return absl::OkStatus();
  return watch_->Watch(ComputeInterest());
}

uint32_t Dispatcher::interest() const {
  return watch_ == nullptr ? 0 : watch_->interest();
}

uint32_t Dispatcher::ComputeInterest() const {
  if (!socket_.valid()) return 0;
  // asyncore's poll loop: a listener is never watched for writing, and
  // priority (urgent data) goes with reading.
  if (accepting_) return Readable() ? kReadable : 0;
  if (connecting_) return kWritable;
  // An idle stream socket (neither connecting, connected nor listening)
  // would report a hang-up at once; there is nothing to watch yet.
  if (!connected_ && socket_.is_stream()) return 0;
  uint32_t interest = 0;
  if (Readable()) interest |= kReadable | kPriority;
  if (Writable()) interest |= kWritable;
  return interest;
}

void Dispatcher::OnReady(uint32_t ready) {
  in_handler_ = true;
  Deliver(ready, epoch_);
  // Re-ask Readable()/Writable() now, since this dispatcher's handlers just
  // ran; nothing else is re-asked, which keeps an iteration O(ready).
  if (absl::Status watched = UpdateInterest(); !watched.ok()) {
    HandleError(watched);
  }
  in_handler_ = false;
}

void Dispatcher::Deliver(uint32_t ready, uint64_t epoch) {
  if (accepting_) {
    if (ready & (kReadable | kHangup)) return HandleAccept();
    if (ready & kError) return HandleError(PendingError(socket_.fd()));
    return;
  }
  if (connecting_) {
    absl::Status connected = socket_.FinishConnect();
    // A wake-up before the handshake ended (only possible without an error
    // bit) is not an outcome: keep waiting.
    if (absl::IsFailedPrecondition(connected) &&
        (ready & (kError | kHangup)) == 0) {
      return;
    }
    connecting_ = false;
    if (!connected.ok()) return HandleError(connected);
    connected_ = true;
    HandleConnect();
    if (!Current(epoch)) return;
  }
  if (ready & kError) {
    absl::Status error = PendingError(socket_.fd());
    if (!error.ok()) return HandleError(error);
  }
  if (ready & kReadable) {
    HandleRead();
  } else if (ready & kHangup) {
    // Readable() was false, or a read would have been offered alongside:
    // nobody will read the end of stream, so report the hang-up itself.
    return HandleClose();
  }
  // A handler above may have closed the socket, replaced it, or changed
  // what Writable() says; the events in `ready` belong to the old state.
  if (Current(epoch) && (ready & kWritable) && Writable()) HandleWrite();
  if (Current(epoch) && (ready & kPriority)) HandleExpt();
}

}  // namespace asyncwork::net
