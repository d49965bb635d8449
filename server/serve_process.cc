#include "server/serve_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "net/blocking_io.h"
#include "net/fd.h"

extern char** environ;

namespace asyncwork::server {
namespace {

constexpr absl::string_view kListeningPrefix = "listening on ";
// kMaxFirstLine bounds what is read while looking for the first line.
constexpr size_t kMaxFirstLine = 4096;
// kExitPollInterval is how often a stopping child's exit is checked.
constexpr absl::Duration kExitPollInterval = absl::Milliseconds(10);

// DescribeExit turns a waitpid status into words.
std::string DescribeExit(int status) {
  if (WIFEXITED(status))
    return absl::StrCat("exit status ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status), " (",
                        strsignal(WTERMSIG(status)), ")");
  }
  return absl::StrCat("wait status ", status);
}

// WaitForExit reaps `pid` by `deadline`: its waitpid status, or
// DeadlineExceeded with the child still running.
absl::StatusOr<int> WaitForExit(pid_t pid, absl::Time deadline) {
  while (true) {
    int status = 0;
    pid_t reaped = ::waitpid(pid, &status, WNOHANG);
    if (reaped == pid) return status;
    if (reaped < 0 && errno != EINTR)
      return absl::ErrnoToStatus(errno, "waitpid");
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("serve (pid ", pid, ") still running"));
    }
    absl::SleepFor(kExitPollInterval);
  }
}

// KillAndReap ends `pid` for certain; the status is of no interest.
void KillAndReap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// ReadFirstLine reads `fd` up to its first newline, by `deadline`.
absl::StatusOr<std::string> ReadFirstLine(int fd, absl::Time deadline) {
  std::string line;
  while (line.find('\n') == std::string::npos) {
    if (line.size() >= kMaxFirstLine) {
      return absl::InternalError("serve's first line is too long");
    }
    absl::Status ready = net::WaitReadable(fd, deadline);
    if (!ready.ok()) return ready;
    char buffer[512];
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return absl::ErrnoToStatus(errno, "read");
    }
    if (n == 0) return absl::UnavailableError("serve closed its stdout");
    line.append(buffer, static_cast<size_t>(n));
  }
  line.resize(line.find('\n'));
  return line;
}

// ParseListeningLine is the address in serve's "listening on ADDRESS".
absl::StatusOr<net::Address> ParseListeningLine(absl::string_view line) {
  absl::string_view address = line;
  if (!absl::ConsumePrefix(&address, kListeningPrefix)) {
    return absl::InternalError(absl::StrCat("serve's first line is not \"",
                                            kListeningPrefix, "ADDRESS\": \"",
                                            line, "\""));
  }
  return net::Address::Parse(address);
}

// SpawnAttributes resets what a child would otherwise inherit from the
// calling thread: its signal mask and any ignored stop signals.
class SpawnAttributes {
 public:
  SpawnAttributes() {
    posix_spawnattr_init(&attr_);
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal_number : {SIGINT, SIGTERM, SIGPIPE}) {
      sigaddset(&defaults, signal_number);
    }
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setsigdefault(&attr_, &defaults);
    posix_spawnattr_setflags(&attr_,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attr_); }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

// StdoutToPipe makes the child's stdout the write end of a pipe.
class StdoutToPipe {
 public:
  explicit StdoutToPipe(int write_end) {
    posix_spawn_file_actions_init(&actions_);
    posix_spawn_file_actions_adddup2(&actions_, write_end, STDOUT_FILENO);
  }
  ~StdoutToPipe() { posix_spawn_file_actions_destroy(&actions_); }
  StdoutToPipe(const StdoutToPipe&) = delete;
  StdoutToPipe& operator=(const StdoutToPipe&) = delete;
  const posix_spawn_file_actions_t* get() const { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

// ServeProcess owns the child: Stop (or the destructor) ends and reaps it.
class ServeProcess : public RunningServer {
 public:
  ServeProcess(net::Address address, pid_t pid, net::Fd stdout_pipe,
               absl::Duration stop_timeout)
      : RunningServer(std::move(address)),
        pid_(pid),
        stdout_pipe_(std::move(stdout_pipe)),
        stop_timeout_(stop_timeout) {}
  ~ServeProcess() override { (void)Stop(); }

  absl::Status Stop() override {
    if (pid_ < 0) return absl::OkStatus();
    pid_t pid = std::exchange(pid_, -1);
    if (::kill(pid, SIGTERM) != 0) {
      absl::Status error = absl::ErrnoToStatus(errno, "kill");
      KillAndReap(pid);
      return error;
    }
    absl::StatusOr<int> status = WaitForExit(pid, absl::Now() + stop_timeout_);
    if (!status.ok()) {
      KillAndReap(pid);
      return absl::Status(status.status().code(),
                          absl::StrCat(status.status().message(), " ",
                                       absl::FormatDuration(stop_timeout_),
                                       " after SIGTERM; killed it"));
    }
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      return absl::InternalError(
          absl::StrCat("serve (pid ", pid, ") ", DescribeExit(*status)));
    }
    return absl::OkStatus();
  }

 private:
  pid_t pid_;
  // Held open so a stray later line on serve's stdout never meets EPIPE.
  net::Fd stdout_pipe_;
  absl::Duration stop_timeout_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RunningServer>> StartServeProcess(
    const std::string& serve_binary, ServerKind kind,
    const net::Address& listen, const ServeProcessOptions& options) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return absl::ErrnoToStatus(errno, "pipe2");
  net::Fd read_end(ends[0]);
  net::Fd write_end(ends[1]);

  std::vector<std::string> args = {
      serve_binary, absl::StrCat("--kind=", ServerKindName(kind)),
      absl::StrCat("--listen=", listen.ToString())};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  SpawnAttributes attributes;
  StdoutToPipe file_actions(write_end.get());
  pid_t pid = -1;
  int error = ::posix_spawn(&pid, serve_binary.c_str(), file_actions.get(),
                            attributes.get(), argv.data(), environ);
  if (error != 0) {
    return absl::ErrnoToStatus(error,
                               absl::StrCat("posix_spawn ", serve_binary));
  }
  // Only the child writes now: its exit ends our reads.
  write_end.Close();

  absl::StatusOr<std::string> line =
      ReadFirstLine(read_end.get(), absl::Now() + options.start_timeout);
  absl::StatusOr<net::Address> address =
      line.ok() ? ParseListeningLine(*line)
                : absl::StatusOr<net::Address>(line.status());
  if (!address.ok()) {
    // A child that exited says so (its end of the pipe closes just before
    // it can be reaped, hence the second); one still running is killed.
    absl::Duration grace = absl::IsDeadlineExceeded(address.status())
                               ? absl::ZeroDuration()
                               : absl::Seconds(1);
    absl::StatusOr<int> status = WaitForExit(pid, absl::Now() + grace);
    std::string exited =
        status.ok() ? absl::StrCat("; serve ", DescribeExit(*status)) : "";
    if (!status.ok()) KillAndReap(pid);
    return absl::Status(address.status().code(),
                        absl::StrCat("starting ", serve_binary, ": ",
                                     address.status().message(), exited));
  }
  return std::make_unique<ServeProcess>(
      *std::move(address), pid, std::move(read_end), options.stop_timeout);
}

absl::StatusOr<std::unique_ptr<RunningServer>> StartServerBesideBusyThreads(
    ServerKind kind, const net::Address& listen) {
  if (kind != ServerKind::kForking) {
    return StartServer(kind, listen, ServerOptions());
  }
  absl::StatusOr<std::string> serve = ServeBinaryInRunfiles();
  if (!serve.ok()) return serve.status();
  return StartServeProcess(*serve, kind, listen);
}

absl::StatusOr<std::string> ServeBinaryInRunfiles() {
  std::vector<std::string> roots;
  for (const char* variable : {"TEST_SRCDIR", "RUNFILES_DIR"}) {
    if (const char* value = std::getenv(variable); value && *value) {
      roots.push_back(value);
    }
  }
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n > 0)
    roots.push_back(absl::StrCat(absl::string_view(self, n), ".runfiles"));
  for (const std::string& root : roots) {
    std::string path = absl::StrCat(root, "/asyncwork/server/serve");
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return absl::NotFoundError(
      "//server:serve is not in this binary's runfiles (add it to data)");
}

}  // namespace asyncwork::server
