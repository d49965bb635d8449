#include "net/fd.h"

#include <unistd.h>

#include <cerrno>

namespace asyncwork::net {

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.Release();
  }
  return *this;
}

absl::StatusOr<Fd> Fd::Adopt(int fd_or_minus_one, const char* call) {
  if (fd_or_minus_one < 0) return absl::ErrnoToStatus(errno, call);
  return Fd(fd_or_minus_one);
}

void Fd::Close() {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

}  // namespace asyncwork::net
