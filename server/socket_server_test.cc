// BaseServer's socketserver behaviours, and the concurrency policies.
#include "server/socket_server.h"

#include <dirent.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "framing/protocol_error.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"
#include "server/concurrency.h"
#include "server/request_handler.h"
#include "server/test_client.h"

namespace asyncwork::server {
namespace {

using framing::Op;
using testing::DatagramTestClient;
using testing::kGenerous;
using testing::TestClient;

net::Address Loopback() { return *net::Address::Parse("127.0.0.1:0"); }

// Serving runs ServeForever on a thread and shuts it down when destroyed.
class Serving {
 public:
  explicit Serving(BaseServer* server)
      : server_(server), thread_([this] { status_ = server_->ServeForever(); }) {
    absl::Time deadline = testing::GenerousDeadline();
    while (!server_->serving() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
  ~Serving() { Stop(); }

  void Stop() {
    if (!thread_.joinable()) return;
    EXPECT_TRUE(server_->Shutdown().ok());
    thread_.join();
    EXPECT_TRUE(status_.ok()) << status_;
  }

 private:
  BaseServer* server_;
  absl::Status status_;
  std::thread thread_;
};

// Recording overrides every hook so tests can see what the server did.
class RecordingServer : public StreamServer {
 public:
  using StreamServer::StreamServer;

  bool VerifyRequest(const net::Address& peer) override {
    ++verified;
    return accept;
  }
  void HandleError(const absl::Status& error,
                   const net::Address& peer) override {
    std::lock_guard<std::mutex> lock(mutex);
    errors.push_back(error);
    StreamServer::HandleError(error, peer);
  }
  void HandleTimeout() override { ++timeouts; }

  int fd() const { return fileno(); }

  std::vector<absl::Status> Errors() {
    std::lock_guard<std::mutex> lock(mutex);
    return errors;
  }

  bool accept = true;
  std::atomic<int> verified{0};
  std::atomic<int> timeouts{0};
  std::mutex mutex;
  std::vector<absl::Status> errors;
};

std::unique_ptr<RecordingServer> OpenRecording(
    std::unique_ptr<ConcurrencyPolicy> policy, ServerConfig config = {},
    StreamHandlerFactory factory = MakeWorkStreamHandler) {
  auto server = std::make_unique<RecordingServer>(
      Loopback(), std::move(factory), std::move(policy), config);
  absl::Status opened = server->Open();
  EXPECT_TRUE(opened.ok()) << opened;
  return server;
}

framing::RequestView Echo(uint64_t id, absl::string_view data = "ping") {
  return {.id = id, .op = Op::kEcho, .data = data};
}

TEST(BaseServer, ShutdownFromAnotherThreadReturnsPromptly) {
  auto server = OpenRecording(std::make_unique<SynchronousPolicy>());
  std::thread serving([&] {
    // No poll interval at all: only a wake-up can end this.
    EXPECT_TRUE(server->ServeForever(absl::InfiniteDuration()).ok());
  });
  absl::Time deadline = testing::GenerousDeadline();
  while (!server->serving() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  absl::Time start = absl::Now();
  EXPECT_TRUE(server->Shutdown().ok());
  EXPECT_LT(absl::Now() - start, kGenerous / 2);
  EXPECT_FALSE(server->serving());
  serving.join();
}

// A handler that tries to shut its own server down from the serving thread.
class ShutdownSelf : public StreamRequestHandler {
 public:
  ShutdownSelf(BaseServer** server, absl::Status* seen)
      : server_(server), seen_(seen) {}
  absl::Status Handle(StreamRequest& request) override {
    *seen_ = (*server_)->Shutdown();
    (*server_)->RequestShutdown();
    return absl::OkStatus();
  }

 private:
  BaseServer** server_;
  absl::Status* seen_;
};

TEST(BaseServer, ShutdownFromTheServingThreadReturnsAnError) {
  BaseServer* self = nullptr;
  absl::Status seen;
  auto server = OpenRecording(std::make_unique<SynchronousPolicy>(), {}, [&] {
    return std::make_unique<ShutdownSelf>(&self, &seen);
  });
  self = server.get();
  std::thread client([&] {
    absl::StatusOr<TestClient> connected =
        TestClient::Connect(server->server_address());
    EXPECT_TRUE(connected.ok());
  });
  // Runs on this thread; returns because the handler asked without waiting.
  EXPECT_TRUE(server->ServeForever().ok());
  client.join();
  EXPECT_TRUE(absl::IsFailedPrecondition(seen)) << seen;
  EXPECT_NE(seen.message().find("RequestShutdown"), std::string::npos);
}

TEST(BaseServer, ShutdownBeforeServeForeverMakesItReturnAtOnce) {
  auto server = OpenRecording(std::make_unique<SynchronousPolicy>());
  EXPECT_TRUE(server->Shutdown().ok());
  EXPECT_TRUE(server->ServeForever().ok());
  EXPECT_FALSE(server->serving());
}

TEST(BaseServer, ServeForeverRefusesASecondCallerAndAClosedServer) {
  auto server = OpenRecording(std::make_unique<SynchronousPolicy>());
  {
    Serving serving(server.get());
    EXPECT_TRUE(absl::IsFailedPrecondition(server->ServeForever()));
  }
  server->ServerClose();
  EXPECT_TRUE(absl::IsFailedPrecondition(server->ServeForever()));
  EXPECT_TRUE(absl::IsFailedPrecondition(server->HandleRequest()));
}

TEST(BaseServer, HandleRequestTimeoutCallsHandleTimeout) {
  auto server = OpenRecording(std::make_unique<SynchronousPolicy>(),
                              {.timeout = absl::Milliseconds(50)});
  EXPECT_TRUE(server->HandleRequest().ok());
  EXPECT_EQ(server->timeouts.load(), 1);
  EXPECT_EQ(server->verified.load(), 0);
}

// ServeOneByHandleRequest runs one request through `server` on this thread
// (so a forking policy forks a single-threaded process): the client's
// request is already queued when the server accepts it.
void ServeOneByHandleRequest(BaseServer& server, uint64_t id) {
  absl::StatusOr<TestClient> client =
      TestClient::Connect(server.server_address());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->Send(Echo(id)).ok());
  ASSERT_TRUE(client->ShutdownWrite().ok());
  ASSERT_TRUE(server.HandleRequest().ok());
  absl::StatusOr<std::optional<std::string>> body = client->ReceiveBody();
  ASSERT_TRUE(body.ok() && body->has_value()) << body.status();
  EXPECT_TRUE(testing::VerifiedResult(Echo(id), **body).ok());
  EXPECT_TRUE(client->ExpectClosed().ok());
}

TEST(BaseServer, HandleRequestServesOneConnection) {
  auto server = OpenRecording(std::make_unique<SynchronousPolicy>(),
                              {.timeout = kGenerous});
  ServeOneByHandleRequest(*server, 1);
  EXPECT_EQ(server->timeouts.load(), 0);
  EXPECT_EQ(server->verified.load(), 1);
}

TEST(BaseServer, VerifyRequestRejectingClosesTheConnection) {
  std::atomic<int> handlers{0};
  auto server = OpenRecording(std::make_unique<SynchronousPolicy>(),
                              {.timeout = kGenerous}, [&] {
                                ++handlers;
                                return MakeWorkStreamHandler();
                              });
  server->accept = false;
  absl::StatusOr<TestClient> client =
      TestClient::Connect(server->server_address());
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->Send(Echo(1)).ok());
  EXPECT_TRUE(server->HandleRequest().ok());
  EXPECT_TRUE(client->ExpectClosed().ok());
  EXPECT_EQ(server->verified.load(), 1);
  EXPECT_EQ(handlers.load(), 0);
}

TEST(BaseServer, HandleErrorIsCalledAndServingGoesOn) {
  auto server = OpenRecording(std::make_unique<ThreadingPolicy>());
  Serving serving(server.get());
  absl::StatusOr<TestClient> good =
      TestClient::Connect(server->server_address());
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(good->Call(Echo(1)).ok());

  absl::StatusOr<TestClient> bad =
      TestClient::Connect(server->server_address());
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE(bad->SendBytes(std::string(4, '\xff')).ok());
  EXPECT_TRUE(bad->ExpectClosed().ok());

  EXPECT_TRUE(good->Call(Echo(2)).ok());
  std::vector<absl::Status> errors = server->Errors();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(framing::GetProtocolError(errors[0]),
            framing::ProtocolError::kFrameTooLarge)
      << errors[0];
}

TEST(BaseServer, AllowReuseAddressSetsTheSocketOption) {
  for (bool allow : {true, false}) {
    auto server = OpenRecording(std::make_unique<SynchronousPolicy>(),
                                {.allow_reuse_address = allow});
    int value = -1;
    socklen_t length = sizeof value;
    ASSERT_EQ(::getsockopt(server->fd(), SOL_SOCKET, SO_REUSEADDR, &value,
                           &length),
              0);
    EXPECT_EQ(value != 0, allow);
  }
}

TEST(BaseServer, RefusesAnAddressOfTheWrongKind) {
  absl::StatusOr<std::unique_ptr<StreamServer>> stream = StreamServer::Create(
      *net::Address::Parse("udp://127.0.0.1:0"), MakeWorkStreamHandler,
      std::make_unique<SynchronousPolicy>(), {});
  EXPECT_TRUE(absl::IsInvalidArgument(stream.status())) << stream.status();
  absl::StatusOr<std::unique_ptr<DatagramServer>> datagram =
      DatagramServer::Create(Loopback(), MakeWorkDatagramHandler,
                             std::make_unique<SynchronousPolicy>(), {});
  EXPECT_TRUE(absl::IsInvalidArgument(datagram.status()));
}

// NotAnsweredWithin returns true if no frame arrives within `wait`.
bool NotAnsweredWithin(TestClient& client, absl::Duration wait) {
  return absl::IsDeadlineExceeded(
      client.ReceiveBody(absl::Now() + wait).status());
}

// ExpectBound checks that `server` serves `bound` connections at once: with
// that many open, one more is not served until one of them closes. Every
// client is closed again on return.
void ExpectBound(BaseServer& server, int bound) {
  std::vector<TestClient> open;
  for (int i = 0; i < bound; ++i) {
    open.push_back(*TestClient::Connect(server.server_address()));
    ASSERT_TRUE(open.back().Call(Echo(i)).ok());
  }
  TestClient extra = *TestClient::Connect(server.server_address());
  ASSERT_TRUE(extra.Send(Echo(bound)).ok());
  EXPECT_TRUE(NotAnsweredWithin(extra, absl::Milliseconds(300)));
  open.erase(open.begin());  // frees a thread (child): extra is served
  absl::StatusOr<std::optional<std::string>> answer = extra.ReceiveBody();
  ASSERT_TRUE(answer.ok() && answer->has_value()) << answer.status();
}

TEST(ThreadingPolicy, BoundsItsThreadsAndKeepsNoFinishedOnes) {
  auto policy = std::make_unique<ThreadingPolicy>(
      ThreadingPolicy::Options{.max_threads = 2});
  ThreadingPolicy* threading = policy.get();
  auto server = OpenRecording(std::move(policy));
  Serving serving(server.get());
  const net::Address& address = server->server_address();
  ExpectBound(*server, 2);
  EXPECT_LE(threading->threads_held(), 2u);

  for (int i = 0; i < 30; ++i) {
    absl::StatusOr<TestClient> brief = TestClient::Connect(address);
    ASSERT_TRUE(brief.ok());
    ASSERT_TRUE(brief->Call(Echo(100 + i)).ok());
  }
  // Finished threads are joined as the server goes: never more held than
  // the bound, however many connections came and went.
  EXPECT_LE(threading->threads_held(), 2u);
}

TEST(ThreadingPolicy, ServerCloseWaitsOnlyWhenBlockOnClose) {
  for (bool daemon : {false, true}) {
    SCOPED_TRACE(daemon ? "daemon_threads" : "block_on_close");
    auto server = OpenRecording(std::make_unique<ThreadingPolicy>(
        ThreadingPolicy::Options{.daemon_threads = daemon}));
    std::optional<TestClient> client;
    {
      Serving serving(server.get());
      client.emplace(*TestClient::Connect(server->server_address()));
      ASSERT_TRUE(client->Call(Echo(1)).ok());
    }
    std::atomic<bool> client_closed{false};
    std::thread closer([&] {
      absl::SleepFor(absl::Milliseconds(200));
      client_closed = true;
      client.reset();
    });
    server->ServerClose();
    // Only a blocking close had to wait for the handler, which ends when
    // its client goes.
    EXPECT_EQ(client_closed.load(), !daemon);
    closer.join();
  }
}

TEST(ThreadPoolPolicy, ServesPoolSizeConnectionsAtOnce) {
  auto server = OpenRecording(std::make_unique<ThreadPoolPolicy>(
      ThreadPoolPolicy::Options{.pool_size = 2, .max_queued = 1}));
  Serving serving(server.get());
  ExpectBound(*server, 2);
}

struct ProcessState {
  pid_t pid;
  pid_t parent;
  char state;
};

// ChildrenOf lists the processes whose parent is `parent`, from /proc.
std::vector<ProcessState> ChildrenOf(pid_t parent) {
  std::vector<ProcessState> children;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return children;
  while (const struct dirent* entry = ::readdir(proc)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    std::ifstream file(absl::StrCat("/proc/", pid, "/stat"));
    std::string stat((std::istreambuf_iterator<char>(file)),
                     std::istreambuf_iterator<char>());
    // "pid (comm) S ppid ...": comm may hold spaces and parentheses.
    size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 4 > stat.size()) continue;
    char state = stat[close + 2];
    int ppid = std::atoi(stat.c_str() + close + 4);
    if (ppid == parent) children.push_back({pid, ppid, state});
  }
  ::closedir(proc);
  return children;
}

TEST(ForkingPolicy, ReapsItsOwnChildrenOnlyAndLeavesNoZombies) {
  // A child that is not the server's: the server must not reap it.
  pid_t foreign = ::fork();
  ASSERT_GE(foreign, 0);
  if (foreign == 0) ::_exit(7);

  auto policy = std::make_unique<ForkingPolicy>();
  ForkingPolicy* forking = policy.get();
  auto server = OpenRecording(std::move(policy),
                              {.timeout = absl::Milliseconds(20)});
  for (int i = 0; i < 5; ++i) ServeOneByHandleRequest(*server, i);
  // Each exited child is reaped while the server waits.
  absl::Time deadline = testing::GenerousDeadline();
  while (!forking->child_pids().empty() && absl::Now() < deadline) {
    ASSERT_TRUE(server->HandleRequest().ok());
  }
  EXPECT_TRUE(forking->child_pids().empty());
  server->ServerClose();

  for (const ProcessState& child : ChildrenOf(::getpid())) {
    if (child.pid == foreign) continue;
    ADD_FAILURE() << "child " << child.pid << " left in state " << child.state;
  }
  int status = 0;
  ASSERT_EQ(::waitpid(foreign, &status, 0), foreign);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}

TEST(ForkingPolicy, KillsAChildThatOutlivesKillAfter) {
  ForkingPolicy policy(ForkingPolicy::Options{
      .kill_after = absl::Milliseconds(100)});
  // A child that never ends on its own.
  policy.Process([] { for (;;) ::pause(); }, {});
  ASSERT_EQ(policy.child_pids().size(), 1u);
  absl::Time start = absl::Now();
  policy.Close(/*wait=*/true);
  EXPECT_TRUE(policy.child_pids().empty());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(100));
  EXPECT_LT(absl::Now() - start, kGenerous);
  for (const ProcessState& child : ChildrenOf(::getpid())) {
    ADD_FAILURE() << "child " << child.pid << " left in state " << child.state;
  }
}

TEST(StreamServer, RemovesItsUnixSocketFileOnCloseButNotInAChild) {
  char dir[] = "/tmp/asyncwork-server-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = absl::StrCat(dir, "/s.sock");
  auto policy = std::make_unique<ForkingPolicy>();
  ForkingPolicy* forking = policy.get();
  auto server = std::make_unique<RecordingServer>(
      *net::Address::Parse("unix:" + path), MakeWorkStreamHandler,
      std::move(policy), ServerConfig{.timeout = kGenerous});
  ASSERT_TRUE(server->Open().ok());
  EXPECT_EQ(::access(path.c_str(), F_OK), 0);
  // The child that served this request exits; the file must survive it...
  ServeOneByHandleRequest(*server, 1);
  forking->Close(/*wait=*/true);
  EXPECT_TRUE(forking->child_pids().empty());
  EXPECT_EQ(::access(path.c_str(), F_OK), 0);
  server->ServerClose();
  EXPECT_TRUE(server->Errors().empty());
  // ...and go with the server's own close.
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
  ::rmdir(dir);
}

// CountingHandler counts the requests it served in memory the test reads.
class CountingHandler : public WorkStreamHandler {
 public:
  explicit CountingHandler(int* counter) : counter_(counter) {}
  absl::Status Handle(StreamRequest& request) override {
    ++*counter_;
    return WorkStreamHandler::Handle(request);
  }

 private:
  int* counter_;
};

TEST(ForkingPolicy, LosesTheStateItsHandlersChange) {
  // Threads share the server's memory; children change only their copy.
  for (bool fork : {false, true}) {
    SCOPED_TRACE(fork ? "forking" : "threading");
    int counter = 0;
    std::unique_ptr<ConcurrencyPolicy> policy;
    if (fork) {
      policy = std::make_unique<ForkingPolicy>();
    } else {
      policy = std::make_unique<ThreadingPolicy>();
    }
    auto server = OpenRecording(std::move(policy), {.timeout = kGenerous},
                                [&counter] {
                                  return std::make_unique<CountingHandler>(
                                      &counter);
                                });
    for (int i = 0; i < 3; ++i) ServeOneByHandleRequest(*server, i);
    server->ServerClose();  // waits for the threads or children
    EXPECT_EQ(counter, fork ? 0 : 3);
  }
}

TEST(ForkingPolicy, MaxChildrenHoldsBackTheNextConnection) {
  auto server = OpenRecording(
      std::make_unique<ForkingPolicy>(ForkingPolicy::Options{.max_children = 1}));
  Serving serving(server.get());
  ExpectBound(*server, 1);
}

// RecordingDatagramServer records HandleError.
class RecordingDatagramServer : public DatagramServer {
 public:
  using DatagramServer::DatagramServer;
  void HandleError(const absl::Status& error,
                   const net::Address& peer) override {
    errors.push_back(error);
  }
  std::vector<absl::Status> errors;
};

TEST(DatagramServer, TakesDatagramsAsLargeAsTheSocketAllows) {
  EXPECT_EQ(MaxDatagramSize(net::Transport::kUdp), 65535u);
  EXPECT_GT(MaxDatagramSize(net::Transport::kUnixDatagram), 65535u);
  RecordingDatagramServer server(
      testing::UniqueAbstractAddress(net::Transport::kUnixDatagram),
      MakeWorkDatagramHandler, std::make_unique<SynchronousPolicy>(),
      {.timeout = kGenerous});
  ASSERT_TRUE(server.Open().ok());
  absl::StatusOr<DatagramTestClient> client =
      DatagramTestClient::Create(server.server_address());
  ASSERT_TRUE(client.ok());
  std::string data(100000, 'u');  // beyond UDP's limit; fine for unixgram
  framing::RequestView request{.id = 1, .op = Op::kReverse, .data = data};
  ASSERT_TRUE(client->Send(request).ok());
  ASSERT_TRUE(server.HandleRequest().ok());
  absl::StatusOr<std::string> body = client->ReceiveBody();
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(testing::VerifiedResult(request, *body).ok());
  EXPECT_TRUE(server.errors.empty());
}

TEST(DatagramServer, DropsMalformedDatagramsAndGoesOn) {
  RecordingDatagramServer server(*net::Address::Parse("udp://127.0.0.1:0"),
                                 MakeWorkDatagramHandler,
                                 std::make_unique<SynchronousPolicy>(),
                                 {.timeout = kGenerous});
  ASSERT_TRUE(server.Open().ok());
  absl::StatusOr<DatagramTestClient> client =
      DatagramTestClient::Create(server.server_address());
  ASSERT_TRUE(client.ok());
  // The length says 100; the datagram carries 3 body bytes.
  ASSERT_TRUE(client->SendBytes(std::string("\0\0\0\x64" "abc", 7)).ok());
  ASSERT_TRUE(server.HandleRequest().ok());
  ASSERT_EQ(server.errors.size(), 1u);
  EXPECT_EQ(framing::GetProtocolError(server.errors[0]),
            framing::ProtocolError::kDatagramLengthMismatch);
  framing::RequestView request = Echo(2);
  ASSERT_TRUE(client->Send(request).ok());
  ASSERT_TRUE(server.HandleRequest().ok());
  absl::StatusOr<std::string> body = client->ReceiveBody();
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_TRUE(testing::VerifiedResult(request, *body).ok());
}

// StopDuring sends `sleep` on an open connection of a threading server,
// stops the server with `drain_timeout`, and reports what came of it.
struct StopOutcome {
  std::optional<TestClient> client;
  std::vector<absl::Status> errors;
  absl::Duration stop_took;
};

StopOutcome StopDuring(const framing::RequestView& sleep,
                       absl::Duration drain_timeout) {
  StopOutcome outcome;
  auto server = OpenRecording(std::make_unique<ThreadingPolicy>());
  std::thread serving([&] { EXPECT_TRUE(server->ServeForever().ok()); });
  outcome.client.emplace(*TestClient::Connect(server->server_address()));
  EXPECT_TRUE(outcome.client->Call(Echo(1)).ok());
  EXPECT_TRUE(outcome.client->Send(sleep).ok());
  absl::SleepFor(absl::Milliseconds(50));
  absl::Time start = absl::Now();
  EXPECT_TRUE(server->Stop(drain_timeout).ok());
  outcome.stop_took = absl::Now() - start;
  serving.join();
  outcome.errors = server->Errors();
  return outcome;
}

TEST(BaseServerStop, AnswersOwedRequestsThenCloses) {
  framing::RequestView sleep{.id = 2, .op = Op::kSleep, .arg = 300000};
  StopOutcome outcome = StopDuring(sleep, kGenerous);
  absl::StatusOr<std::optional<std::string>> body =
      outcome.client->ReceiveBody();
  ASSERT_TRUE(body.ok() && body->has_value()) << body.status();
  EXPECT_TRUE(testing::VerifiedResult(sleep, **body).ok());
  EXPECT_TRUE(outcome.client->ExpectClosed().ok());
  EXPECT_TRUE(outcome.errors.empty());
}

TEST(BaseServerStop, AbortsWaitsAfterTheDrainTimeout) {
  // A minute's SLEEP: Stop must not wait for it.
  StopOutcome outcome = StopDuring(
      {.id = 2, .op = Op::kSleep, .arg = 60'000'000}, absl::Milliseconds(100));
  EXPECT_LT(outcome.stop_took, kGenerous);
  EXPECT_TRUE(outcome.client->ExpectClosed().ok());
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_TRUE(absl::IsCancelled(outcome.errors[0])) << outcome.errors[0];
}

}  // namespace
}  // namespace asyncwork::server
