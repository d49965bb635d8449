// A server in a //server:serve child process: it serves, Stop ends and
// reaps it, and a start that fails says why.
#include "server/serve_process.h"

#include <signal.h>
#include <sys/types.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "framing/work_message.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/address.h"
#include "net/blocking_io.h"
#include "server/test_client.h"

namespace asyncwork::server {
namespace {

using ::testing::HasSubstr;

net::Address Loopback() { return *net::Address::Parse("127.0.0.1:0"); }

std::string ServeBinary() {
  absl::StatusOr<std::string> binary = ServeBinaryInRunfiles();
  EXPECT_TRUE(binary.ok()) << binary.status();
  return binary.ok() ? *binary : "";
}

TEST(ServeProcessTest, ServesEachKindUntilStopped) {
  for (ServerKind kind : kAllServerKinds) {
    SCOPED_TRACE(ServerKindName(kind));
    absl::StatusOr<std::unique_ptr<RunningServer>> server =
        StartServeProcess(ServeBinary(), kind, Loopback());
    ASSERT_TRUE(server.ok()) << server.status();
    net::Address address = (*server)->address();
    EXPECT_NE(address.ToString(), "127.0.0.1:0");
    {
      absl::StatusOr<testing::TestClient> client =
          testing::TestClient::Connect(address);
      ASSERT_TRUE(client.ok()) << client.status();
      absl::StatusOr<std::string> result = client->Call(
          {.id = 7, .op = framing::Op::kReverse, .data = "abc"});
      ASSERT_TRUE(result.ok()) << result.status();
      EXPECT_EQ(*result, "cba");
    }
    EXPECT_TRUE((*server)->Stop().ok());
    // Stopped means gone: nothing listens there any more.
    EXPECT_FALSE(
        net::ConnectBlocking(address, testing::GenerousDeadline()).ok());
    // A second Stop has nothing left to do.
    EXPECT_TRUE((*server)->Stop().ok());
  }
}

TEST(ServeProcessTest, AServeThatExitsAtOnceReportsItsExitStatus) {
  ServeProcessOptions options;
  options.extra_args = {"--threads=0"};
  absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServeProcess(
      ServeBinary(), ServerKind::kEpoll, Loopback(), options);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.status().message(), HasSubstr("exit status 2"));
}

TEST(ServeProcessTest, AMissingBinaryIsASpawnError) {
  absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServeProcess(
      "/nonexistent/serve", ServerKind::kEpoll, Loopback());
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::IsNotFound(server.status())) << server.status();
  EXPECT_THAT(server.status().message(), HasSubstr("posix_spawn"));
}

TEST(ServeProcessTest, AServeThatNeverListensTimesOutAndIsKilled) {
  // The stand-in ignores its flags and sleeps a minute without a word.
  const char* srcdir = std::getenv("TEST_SRCDIR");
  ASSERT_NE(srcdir, nullptr);
  std::string silent =
      absl::StrCat(srcdir, "/asyncwork/server/testdata/silent_serve.sh");
  ServeProcessOptions options;
  options.start_timeout = absl::Milliseconds(200);
  absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<RunningServer>> server = StartServeProcess(
      silent, ServerKind::kEpoll, Loopback(), options);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(server.status())) << server.status();
  // Killed, not waited for: well inside the stand-in's minute.
  EXPECT_LT(absl::Now() - start, testing::kGenerous);
  // And reaped: its pid names no process any more.
  std::ifstream pid_file(
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/silent_serve.pid"));
  pid_t pid = 0;
  ASSERT_TRUE(pid_file >> pid);
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

}  // namespace
}  // namespace asyncwork::server
