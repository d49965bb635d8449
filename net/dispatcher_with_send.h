// dispatcher_with_send.h: DispatcherWithSend, asyncore's dispatcher_with_send.
//
// A Dispatcher whose BufferedSend never loses data to a full socket: it
// writes what the kernel takes at once and keeps the rest, which HandleWrite
// sends as the socket drains. Unlike asyncore, which wrote its buffer in
// 512-byte (later 64 KiB) slices, each write offers the whole remaining
// buffer, so a large payload costs as few send calls as the kernel allows.
//
//   class Greeter : public DispatcherWithSend {
//    public:
//     using DispatcherWithSend::DispatcherWithSend;
//     void HandleConnect() override {
//       BufferedSend(big_payload).IgnoreError();  // queued if it does not fit
//       CloseWhenDone();                          // close once all is sent
//     }
//   };
//
// Stream sockets only (TCP, Unix stream): the buffer is a byte stream, so
// datagram boundaries would not survive it. Threads and ownership are as for
// Dispatcher (see dispatcher.h): loop thread only.
#ifndef ASYNCWORK_NET_DISPATCHER_WITH_SEND_H_
#define ASYNCWORK_NET_DISPATCHER_WITH_SEND_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "net/dispatcher.h"

namespace asyncwork::net {

class DispatcherWithSend : public Dispatcher {
 public:
  // DispatcherWithSend attaches to `map` as Dispatcher does (null = the
  // default map, looked up when a socket is first given).
  explicit DispatcherWithSend(ChannelMap* map = nullptr) : Dispatcher(map) {}

  // BufferedSend (asyncore's dispatcher_with_send.send) appends `data` to
  // the output buffer and, if connected, sends as much of the buffer as the
  // kernel takes now; the rest waits for HandleWrite. Before the connect
  // completes, everything waits. A send failure goes to HandleError (which
  // closes by default), as asyncore's did. FailedPrecondition, and nothing
  // is kept, if the dispatcher is closed or CloseWhenDone was called.
  // Loop thread.
  absl::Status BufferedSend(absl::string_view data);

  // InitiateSend (initiate_send) makes one send of the whole buffer if
  // connected; errors go to HandleError. Loop thread.
  void InitiateSend();

  // CloseWhenDone (asynchat's close_when_done) closes the dispatcher once
  // the buffer is empty: at once if it already is. Loop thread.
  void CloseWhenDone();

  // pending_bytes is how much is buffered, not yet taken by the kernel.
  size_t pending_bytes() const { return buffer_.size() - sent_; }

  // Writable: true while data is pending.
  bool Writable() const override { return pending_bytes() > 0; }

  // HandleWrite: InitiateSend. A subclass that overrides it must call it.
  void HandleWrite() override { InitiateSend(); }

  // Close drops whatever is still buffered, then closes (Dispatcher::Close).
  void Close() override;

 private:
  // buffer_[sent_, size) is pending; the sent prefix is erased once it is
  // at least half the buffer, so each byte is moved O(1) times on average.
  std::string buffer_;
  size_t sent_ = 0;
  bool close_when_done_ = false;
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_DISPATCHER_WITH_SEND_H_
