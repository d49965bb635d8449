// test_util.h: helpers shared by the net/ tests (testonly).
//
//   ScopedTempDir dir;                       // removed with its contents
//   std::string path = dir.File("server.sock");
//   int before = CountOpenFds();
//   ... open and close things ...
//   EXPECT_EQ(CountOpenFds(), before);
#ifndef ASYNCWORK_NET_TEST_UTIL_H_
#define ASYNCWORK_NET_TEST_UTIL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/address.h"
#include "net/socket.h"

namespace asyncwork::net::testutil {

// kGenerousTimeout bounds every wait in a test: far longer than any healthy
// step takes on a loaded two-core machine, short enough to fail a hung test.
inline constexpr absl::Duration kGenerousTimeout = absl::Seconds(10);

// ScopedTempDir creates a fresh directory for Unix socket files and removes
// it, with the files in it, when destroyed. It lives under $TEST_TMPDIR when
// that path is short enough for sun_path (Bazel's usually is not), else
// under /tmp.
class ScopedTempDir {
 public:
  ScopedTempDir();
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }
  // File returns path()/name; nothing is created.
  std::string File(absl::string_view name) const;

 private:
  std::string path_;
};

// CountOpenFds counts this process's open descriptors (/proc/self/fd),
// not counting the one used to read the directory.
int CountOpenFds();

// ParseOrDie parses a literal address a test spells out; aborts if bad.
Address ParseOrDie(absl::string_view text);

// RefusingTcpAddress returns a 127.0.0.1 address nothing listens on: a
// port bound and closed again, so connects to it are refused.
Address RefusingTcpAddress();

// StreamPair is one connected stream connection: both ends.
struct StreamPair {
  Socket client;
  Socket server;
};

// ConnectToListener connects a new client to `listener` and accepts it,
// waiting at most kGenerousTimeout.
absl::StatusOr<StreamPair> ConnectToListener(Socket& listener);

}  // namespace asyncwork::net::testutil

#endif  // ASYNCWORK_NET_TEST_UTIL_H_
