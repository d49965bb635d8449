// dispatcher.h: Dispatcher and ChannelMap, Python's asyncore model in C++.
//
// A Dispatcher wraps one non-blocking socket and turns its readiness into
// calls of overridable handlers, exactly where asyncore's `dispatcher` did:
//
//   asyncore               here
//   handle_read            HandleRead       connected socket readable
//   handle_write           HandleWrite      socket writable and Writable()
//   handle_connect         HandleConnect    first event of a connecting socket,
//                                           once SO_ERROR says it connected
//   handle_accept          HandleAccept     listening socket readable
//   handle_accepted        HandleAccepted   called by the default HandleAccept
//   handle_close           HandleClose      Recv found end of stream, or a
//                                           hang-up while not reading
//   handle_error           HandleError      a failed connect, a socket error
//   handle_expt            HandleExpt       urgent (out-of-band) data
//   readable / writable    Readable / Writable
//   create_socket          CreateSocket     set_socket   Set
//   connect bind listen    Connect Bind Listen
//   accept send recv close Accept Send Recv Close
//   socket_map             ChannelMap (DefaultChannelMap is the global one)
//   loop(timeout, use_poll, map, count)   Loop(timeout, backend, map, count)
//
// A ChannelMap is asyncore's map: the set of open dispatchers that one
// EventLoop (see event_loop.h) drives. Loop runs that loop until the map is
// empty, as asyncore's `while map:` did. Timers, which asyncore lacked, are
// the loop's: map->loop()->RunAfter(absl::Seconds(1), ...).
//
//   class EchoHandler : public DispatcherWithSend {   // dispatcher_with_send.h
//    public:
//     using DispatcherWithSend::DispatcherWithSend;
//     void HandleRead() override {
//       char buffer[8192];
//       absl::StatusOr<IoResult> got = Recv(absl::MakeSpan(buffer));
//       if (!got.ok()) return HandleError(got.status());
//       BufferedSend(absl::string_view(buffer, got->bytes)).IgnoreError();
//     }
//   };
//   class EchoServer : public Dispatcher {
//    public:
//     using Dispatcher::Dispatcher;
//     void HandleAccepted(Socket socket, const Address& peer) override {
//       auto handler = std::make_unique<EchoHandler>(map());
//       if (handler->Set(std::move(socket)).ok()) {
//         handlers_.push_back(std::move(handler));
//       }
//     }
//     std::vector<std::unique_ptr<EchoHandler>> handlers_;
//   };
//   absl::StatusOr<std::unique_ptr<ChannelMap>> map = ChannelMap::Create();
//   EchoServer server(map->get());
//   absl::StatusOr<Socket> listener = Socket::Listen(address);
//   absl::Status set = server.Set(*std::move(listener));  // accepting()
//   absl::Status looped = Loop(absl::Seconds(30), Backend::kEpoll, map->get());
//
// Where this differs from asyncore, on purpose:
//  - No O(n) pass. asyncore asked every channel readable()/writable() on
//    every iteration. Here Readable() and Writable() are asked only after
//    that dispatcher's own handlers ran, when its state changes through its
//    own operations (Set, Connect, Listen, ...), or when UpdateInterest is
//    called; the answer becomes the IoWatch's interest, which the poller
//    keeps. So a change of state driven from outside this dispatcher's
//    handlers (a timer, another dispatcher's handler) that changes what
//    Readable() or Writable() would answer must be followed by
//    UpdateInterest().
//  - No event after close. Close() stops the watch at once: no handler of a
//    closed registration runs, not even one for an event the poller already
//    returned in this iteration (Close in HandleRead means no HandleWrite),
//    and a new socket on a reused fd number never gets the old one's events.
//  - Connect is never assumed complete at the first event: SO_ERROR decides
//    between HandleConnect and HandleError(connect status).
//  - No hidden global: the default map exists only once something asks for
//    it (a Dispatcher constructed with a null map that is given a socket,
//    DefaultChannelMap, or Loop with a null map).
//  - Timers, through map->loop().
//  - Level-triggered only, as asyncore's select and poll were.
//
// Ownership. The user owns every Dispatcher (by value or unique_ptr); the
// map only points at the open ones, from Set/CreateSocket until Close. A
// ChannelMap must outlive every Dispatcher constructed on it (its destructor
// aborts otherwise); the default map is never destroyed. A handler may
// Close its own dispatcher (the map stops referring to it at once) and may
// destroy any other dispatcher, but not its own: hand its owner to
// map()->loop()->DeleteLater(std::move(owner)) instead, which destroys it
// after the current phase.
//
// Threads. A Dispatcher, its ChannelMap and Loop belong to the map's loop
// thread (see event_loop.h); each method says so as "Loop thread".
// Handlers must not throw.
#ifndef ASYNCWORK_NET_DISPATCHER_H_
#define ASYNCWORK_NET_DISPATCHER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "net/address.h"
#include "net/event_loop.h"
#include "net/io_watch.h"
#include "net/poller.h"
#include "net/socket.h"

namespace asyncwork::net {

class Dispatcher;

// ChannelMap is asyncore's socket map: the open dispatchers one EventLoop
// drives. It owns the loop; it does not own the dispatchers.
class ChannelMap {
  struct Key {
    explicit Key() = default;
  };

 public:
  // Create makes an empty map with its own EventLoop on `backend` (asyncore
  // chose select or poll per loop() call; here the map chooses once). Fails
  // only if the kernel refuses the loop's descriptors.
  static absl::StatusOr<std::unique_ptr<ChannelMap>> Create(
      Backend backend = Backend::kEpoll);

  // Use Create; the Key keeps this constructor private to it.
  ChannelMap(Key, std::unique_ptr<EventLoop> loop);

  // ~ChannelMap aborts if a Dispatcher constructed on this map still
  // exists: destroy the dispatchers first. Loop thread.
  ~ChannelMap();

  ChannelMap(const ChannelMap&) = delete;
  ChannelMap& operator=(const ChannelMap&) = delete;

  // loop is the EventLoop that drives this map, for timers (RunAfter,
  // RunEvery), Post and DeleteLater. Owned by the map.
  EventLoop* loop() const { return loop_.get(); }
  Backend backend() const { return loop_->backend(); }

  // size is the number of open dispatchers (asyncore's len(map)); empty is
  // size() == 0, which ends Loop. Loop thread.
  size_t size() const { return open_.size(); }
  bool empty() const { return open_.empty(); }

  // Find returns the open dispatcher whose socket is `fd` (asyncore's
  // map[fd]), or nullptr. Loop thread.
  Dispatcher* Find(int fd) const;

  // CloseAll calls Close() on every open dispatcher (asyncore's close_all),
  // leaving the map empty. Loop thread.
  void CloseAll();

 private:
  friend class Dispatcher;

  void Bind() { ++bound_; }
  void Unbind() { --bound_; }
  void Attach(int fd, Dispatcher* dispatcher);
  void Detach(int fd);

  std::unique_ptr<EventLoop> loop_;
  absl::flat_hash_map<int, Dispatcher*> open_;  // by fd, not owned
  size_t bound_ = 0;  // dispatchers constructed on this map, open or not
};

// DefaultChannelMap returns the process's default map (asyncore's global
// socket_map), creating it on the first call: on `backend` if given, else on
// epoll. A later call that names a different backend than the one the map
// was created on fails with FailedPrecondition; call it once with the
// backend you want before anything else uses the default map. The map is
// never destroyed. The first call may come from any thread; that thread is
// then the map's loop thread (see event_loop.h).
absl::StatusOr<ChannelMap*> DefaultChannelMap(
    std::optional<Backend> backend = std::nullopt);

// DefaultChannelMapIfCreated returns the default map, or nullptr if nothing
// has asked for it yet. Never creates it. Any thread.
ChannelMap* DefaultChannelMapIfCreated();

// Loop is asyncore's loop(timeout=30.0, use_poll=False, map=None,
// count=None): it runs `map`'s loop one iteration at a time, each waiting at
// most `timeout` for an event (a due timer ends the wait sooner), while the
// map has an open dispatcher, and at most `count` iterations if `count` is
// given (zero or negative runs none). A null `map` is DefaultChannelMap
// (created on `backend` if it does not exist yet). InvalidArgument if `map`
// runs on a backend other than `backend` (asyncore switched per call; a map
// chooses its backend at Create). Timers alone do not keep Loop running, as
// asyncore had none. Returns the first failure of the poller's wait, else
// OK. Loop thread; not from inside a handler.
absl::Status Loop(absl::Duration timeout = absl::Seconds(30),
                  Backend backend = Backend::kEpoll,
                  ChannelMap* map = nullptr,
                  std::optional<int> count = std::nullopt);

// Dispatcher: one socket and its handlers. Subclass it and override the
// handlers you need. Not copyable or movable (the loop refers to it).
class Dispatcher {
 public:
  // Dispatcher attaches to `map` (not owned; it must outlive this object).
  // A null `map` means DefaultChannelMap(), looked up (and created if need
  // be) only when the dispatcher is first given a socket, so a dispatcher
  // that never opens one never creates the default map. Loop thread of
  // `map`.
  explicit Dispatcher(ChannelMap* map = nullptr);

  // ~Dispatcher closes the socket (without calling HandleClose). Aborts if
  // called from inside this dispatcher's own handler; use DeleteLater.
  virtual ~Dispatcher();

  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // --- Handlers. The loop calls them on the loop thread; a subclass may
  // also call them. Each may call any operation below, Close included.

  // HandleRead (handle_read): a connected or datagram socket is readable
  // (a hang-up counts, so Recv then finds the end of stream). Typically
  // calls Recv.
  // Default: logs an unhandled-event warning.
  virtual void HandleRead();

  // HandleWrite (handle_write): the socket is writable and Writable() is
  // true; also right after HandleConnect. Default: logs a warning.
  virtual void HandleWrite();

  // HandleConnect (handle_connect): a Connect completed, as confirmed by
  // SO_ERROR at the socket's first event; runs once per Connect, before
  // any HandleRead or HandleWrite of that connection. Default: nothing
  // (asyncore logged a warning).
  virtual void HandleConnect();

  // HandleAccept (handle_accept): a listening socket is readable. Default:
  // Accept() once and hand the result to HandleAccepted; an accept error
  // goes to HandleError.
  virtual void HandleAccept();

  // HandleAccepted (handle_accepted): the default HandleAccept took
  // `socket` (now owned by the callee) from `peer`. Default: logs a warning
  // and closes the socket.
  virtual void HandleAccepted(Socket socket, const Address& peer);

  // HandleClose (handle_close): the peer closed the connection: Recv read
  // end of stream, or the socket hung up while Readable() was false.
  // Default: Close().
  virtual void HandleClose();

  // HandleError (handle_error): something failed: the status of a failed
  // connect (ECONNREFUSED, ...; HandleConnect is not called), a socket
  // error reported by the poller (from SO_ERROR), an accept error, or a
  // failed UpdateInterest after a handler. Default, as asyncore: logs a
  // warning with `error`, then HandleClose().
  virtual void HandleError(const absl::Status& error);

  // HandleExpt (handle_expt): urgent (TCP out-of-band) data arrived; read
  // it with RecvUrgent. Default: logs a warning and discards the urgent
  // byte, so the event does not repeat for ever.
  virtual void HandleExpt();

  // Readable (readable): whether to watch for reading. Default true. Asked
  // only as described at the top of this file.
  virtual bool Readable() const;

  // Writable (writable): whether to watch for writing. Default true. A
  // connecting socket is watched for writing whatever this returns, since
  // that is how the connect's end shows.
  virtual bool Writable() const;

  // --- Operations. Loop thread.

  // CreateSocket (create_socket): makes a new non-blocking socket and Sets
  // it. `family` is AF_INET, AF_INET6 or AF_UNIX and must suit `transport`.
  absl::Status CreateSocket(int family, Transport transport);

  // Set (set_socket; also asyncore's dispatcher(sock)): takes ownership of
  // `socket`, closing any socket this dispatcher had (without HandleClose),
  // and adds it to the map. A socket that has a peer counts as connected,
  // one that listens as accepting (so a Socket from Socket::Listen or from
  // Accept can be Set directly); any other stream socket is idle until
  // Connect or Listen. Datagram sockets are watched at once. InvalidArgument
  // for an empty socket; a failure to find the default map or to watch the
  // socket closes it and returns the error.
  absl::Status Set(Socket socket);

  // Bind (bind) binds the socket to `address`.
  absl::Status Bind(const Address& address);

  // Listen (listen) marks the socket as accepting connections; from then on
  // a readable event is HandleAccept.
  absl::Status Listen(int backlog = Socket::kDefaultBacklog);

  // Connect (connect) starts a non-blocking connect to `address`. OK means
  // in progress: HandleConnect or HandleError follows at the socket's first
  // event (asyncore called handle_connect at once for a connect that
  // completed immediately; here it always comes from the loop). An
  // immediate failure is returned and no handler runs.
  absl::Status Connect(const Address& address);

  // Accept (accept) takes one pending connection and its peer address;
  // nullopt when none is pending. FailedPrecondition if not accepting.
  absl::StatusOr<std::optional<std::pair<Socket, Address>>> Accept();

  // Send (send) writes what the kernel takes of `data` and returns how many
  // bytes that was; 0 means it would block. An error (EPIPE, ECONNRESET,
  // ...) is returned; pass it to HandleError to close. (asyncore turned
  // those errors into handle_close and lost the reason.)
  absl::StatusOr<size_t> Send(absl::string_view data);

  // Recv (recv) reads up to `buffer.size()` bytes. A result with `eof` set
  // means the peer closed the stream: HandleClose has run already (so the
  // dispatcher is usually closed by the time Recv returns), as in asyncore;
  // `would_block` means nothing was there. Either way `bytes` is 0. Errors
  // are returned, as for Send.
  absl::StatusOr<IoResult> Recv(absl::Span<char> buffer);

  // RecvUrgent reads urgent (TCP out-of-band) data, for HandleExpt;
  // `would_block` if the urgent byte has not arrived yet.
  absl::StatusOr<IoResult> RecvUrgent(absl::Span<char> buffer);

  // Close (close) stops watching the socket, removes this dispatcher from
  // the map and closes the socket. No handler of this socket runs after it.
  // Idempotent. A subclass that overrides it must call Dispatcher::Close.
  virtual void Close();

  // UpdateInterest asks Readable() and Writable() again and watches what
  // they say. Call it after a change of state made outside this
  // dispatcher's handlers (see the top of this file); the loop calls it
  // after each of this dispatcher's events. Fails only if the poller
  // refuses the socket (select and fd >= FD_SETSIZE); the socket stays open.
  absl::Status UpdateInterest();

  // --- State.

  // socket is the owned socket (empty when closed), for options such as
  // SetNoDelay or LocalAddress. Never close its fd directly; use Close.
  Socket& socket() { return socket_; }
  const Socket& socket() const { return socket_; }
  // open: has a socket (is in the map).
  bool open() const { return socket_.valid(); }
  bool connected() const { return connected_; }
  bool connecting() const { return connecting_; }
  bool accepting() const { return accepting_; }
  // interest is what the loop watches for now (kReadable | kWritable |
  // kPriority bits; 0 when closed, idle, or neither readable nor writable).
  uint32_t interest() const;
  // map is the map this dispatcher belongs to; nullptr for a dispatcher
  // constructed with a null map that has not opened a socket yet.
  ChannelMap* map() const { return map_; }
  // loop is map()->loop(), or nullptr when map() is.
  EventLoop* loop() const { return map_ == nullptr ? nullptr : map_->loop(); }

 private:
  absl::Status ResolveMap();
  void AssertInLoopThread() const;
  absl::Status RequireSocket(const char* call) const;
  // ComputeInterest turns the state and Readable()/Writable() into bits.
  uint32_t ComputeInterest() const;
  // Detach is Close without the virtual call: stop, unmap, close.
  void Detach();
  // RetireWatch drops the current IoWatch, later if its handler is running.
  void RetireWatch();
  // OnReady is the IoWatch handler: asyncore's readwrite().
  void OnReady(uint32_t ready);
  void Deliver(uint32_t ready, uint64_t epoch);
  // Current reports whether the socket of `epoch` is still the open one.
  bool Current(uint64_t epoch) const {
    return epoch_ == epoch && socket_.valid();
  }

  ChannelMap* map_;  // not owned; nullptr until the default map is resolved
  Socket socket_;
  std::unique_ptr<IoWatch> watch_;  // on socket_'s fd, or a stopped old one
  // epoch_ counts socket changes (Set, Close), so a handler sequence can
  // tell that the socket it started with is gone.
  uint64_t epoch_ = 0;
  bool connected_ = false;
  bool connecting_ = false;
  bool accepting_ = false;
  bool in_handler_ = false;  // inside OnReady
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_DISPATCHER_H_
