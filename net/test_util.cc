#include "net/test_util.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "net/blocking_io.h"
#include "net/check.h"

namespace asyncwork::net::testing {
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
  // opendir holds one descriptor while listing; it is not the caller's. An
  // empty listing means /proc/self/fd could not be read, and a count of -1
  // before and after would hide every leak.
  std::vector<std::string> fds = Entries("/proc/self/fd");
  ASYNCWORK_CHECK(!fds.empty()) << "cannot list /proc/self/fd";
  return static_cast<int>(fds.size()) - 1;
}

Address ParseOrDie(absl::string_view text) {
  absl::StatusOr<Address> address = Address::Parse(text);
  ASYNCWORK_CHECK(address.ok()) << address.status();
  return *address;
}

Socket ListenOrDie(absl::string_view address) {
  absl::StatusOr<Socket> listener = Socket::Listen(ParseOrDie(address));
  ASYNCWORK_CHECK(listener.ok()) << listener.status();
  return *std::move(listener);
}

Address AddressOf(const Socket& socket) {
  absl::StatusOr<Address> address = socket.LocalAddress();
  ASYNCWORK_CHECK(address.ok()) << address.status();
  return *address;
}

Address RefusingTcpAddress() {
  // The listener closes on return, leaving the port unbound.
  return AddressOf(ListenOrDie("127.0.0.1:0"));
}

std::pair<Socket, Socket> SocketPairOrDie(Transport transport) {
  absl::StatusOr<std::pair<Socket, Socket>> pair =
      Socket::CreatePair(transport);
  ASYNCWORK_CHECK(pair.ok()) << pair.status();
  return *std::move(pair);
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

StreamPair TcpPairOrDie() {
  Socket listener = ListenOrDie("127.0.0.1:0");
  absl::StatusOr<StreamPair> pair = ConnectToListener(listener);
  ASYNCWORK_CHECK(pair.ok()) << pair.status();
  return *std::move(pair);
}

}  // namespace asyncwork::net::testing
