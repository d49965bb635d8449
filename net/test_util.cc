#include "net/test_util.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "net/blocking_io.h"
#include "net/check.h"

namespace asyncwork::net::testutil {
namespace {

// Room left in sun_path (107 bytes) for a socket name under the directory.
constexpr size_t kMaxBaseLength = 60;

std::vector<std::string> Entries(const std::string& path) {
  std::vector<std::string> names;
  DIR* dir = ::opendir(path.c_str());
  if (dir == nullptr) return names;
  while (const struct dirent* entry = ::readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") != 0 &&
        std::strcmp(entry->d_name, "..") != 0) {
      names.emplace_back(entry->d_name);
    }
  }
  ::closedir(dir);
  return names;
}

}  // namespace

ScopedTempDir::ScopedTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  if (base == nullptr || std::strlen(base) > kMaxBaseLength) base = "/tmp";
  std::string name = absl::StrCat(base, "/asyncwork-net-XXXXXX");
  ASYNCWORK_CHECK(::mkdtemp(name.data()) != nullptr)
      << "mkdtemp " << name << ": " << std::strerror(errno);
  path_ = name;
}

ScopedTempDir::~ScopedTempDir() {
  for (const std::string& name : Entries(path_)) {
    ::unlink(File(name).c_str());
  }
  ::rmdir(path_.c_str());
}

std::string ScopedTempDir::File(absl::string_view name) const {
  return absl::StrCat(path_, "/", name);
}

int CountOpenFds() {
  // opendir holds one descriptor while listing; it is not the caller's.
  return static_cast<int>(Entries("/proc/self/fd").size()) - 1;
}

Address ParseOrDie(absl::string_view text) {
  absl::StatusOr<Address> address = Address::Parse(text);
  ASYNCWORK_CHECK(address.ok()) << address.status();
  return *address;
}

Address RefusingTcpAddress() {
  absl::StatusOr<Socket> placeholder =
      Socket::Listen(ParseOrDie("127.0.0.1:0"));
  ASYNCWORK_CHECK(placeholder.ok()) << placeholder.status();
  absl::StatusOr<Address> address = placeholder->LocalAddress();
  ASYNCWORK_CHECK(address.ok()) << address.status();
  return *address;  // `placeholder` closes here
}

absl::StatusOr<StreamPair> ConnectToListener(Socket& listener) {
  absl::Time deadline = absl::Now() + kGenerousTimeout;
  absl::StatusOr<Address> address = listener.LocalAddress();
  if (!address.ok()) return address.status();
  absl::StatusOr<Socket> client = ConnectBlocking(*address, deadline);
  if (!client.ok()) return client.status();
  absl::StatusOr<Socket> server = AcceptBlocking(listener, deadline);
  if (!server.ok()) return server.status();
  return StreamPair{*std::move(client), *std::move(server)};
}

}  // namespace asyncwork::net::testutil
