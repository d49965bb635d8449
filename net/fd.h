// fd.h: Fd, the move-only owner of one file descriptor.
//
// Every descriptor in asyncwork lives inside an Fd from the moment a syscall
// returns it until it is closed, so none leaks and none is closed twice.
//
//   absl::StatusOr<Fd> fd = Fd::Adopt(::eventfd(0, EFD_CLOEXEC), "eventfd");
//   if (!fd.ok()) return fd.status();
//   ::write(fd->get(), ...);   // closed when `fd` goes out of scope
#ifndef ASYNCWORK_NET_FD_H_
#define ASYNCWORK_NET_FD_H_

#include <utility>

#include "absl/status/statusor.h"

namespace asyncwork::net {

class Fd {
 public:
  Fd() = default;
  // Fd takes ownership of `fd` (which may be -1 for "none").
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.Release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Close(); }

  // Adopt wraps the result of a syscall that returns a descriptor or -1 with
  // errno set; on -1 it returns the errno as a Status naming `call`.
  static absl::StatusOr<Fd> Adopt(int fd_or_minus_one, const char* call);

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Release gives up ownership without closing and returns the descriptor.
  int Release() { return std::exchange(fd_, -1); }

  // Close closes the descriptor now (if any). close(2) is never retried on
  // EINTR: on Linux the descriptor is released even then.
  void Close();

 private:
  int fd_ = -1;
};

}  // namespace asyncwork::net

#endif  // ASYNCWORK_NET_FD_H_
