#include "net/fd.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "gtest/gtest.h"

namespace asyncwork::net {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

TEST(Fd, ClosesOnDestruction) {
  int raw = ::eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(raw, 0);
  { Fd fd(raw); EXPECT_TRUE(IsOpen(raw)); }
  EXPECT_FALSE(IsOpen(raw));
}

TEST(Fd, MoveTransfersOwnershipOnce) {
  Fd a(::eventfd(0, EFD_CLOEXEC));
  int raw = a.get();
  Fd b(std::move(a));
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.get(), raw);
  Fd c;
  c = std::move(b);
  EXPECT_EQ(c.get(), raw);
  EXPECT_TRUE(IsOpen(raw));
  c.Close();
  EXPECT_FALSE(IsOpen(raw));
  c.Close();  // a second Close is a no-op, not a double close
}

TEST(Fd, MoveAssignClosesPreviousDescriptor) {
  Fd a(::eventfd(0, EFD_CLOEXEC));
  Fd b(::eventfd(0, EFD_CLOEXEC));
  int old = a.get();
  a = std::move(b);
  EXPECT_FALSE(IsOpen(old));
}

TEST(Fd, AdoptReportsErrnoWithCall) {
  errno = EMFILE;
  absl::StatusOr<Fd> fd = Fd::Adopt(-1, "socket");
  ASSERT_FALSE(fd.ok());
  EXPECT_NE(fd.status().message().find("socket"), absl::string_view::npos);
  EXPECT_NE(fd.status().message().find("Too many open files"),
            absl::string_view::npos);
}

TEST(Fd, ReleaseKeepsDescriptorOpen) {
  Fd a(::eventfd(0, EFD_CLOEXEC));
  int raw = a.Release();
  EXPECT_FALSE(a.valid());
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
}

}  // namespace
}  // namespace asyncwork::net
