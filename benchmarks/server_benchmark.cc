// server_benchmark: what each server kind does with the same work.
//
//   tools/bazel run //benchmarks:server_benchmark
//
// BM_EchoPingPong/<kind>: one connection, one 64-byte ECHO in flight, from a
// minimal blocking client (blocking write, blocking read: two syscalls a
// request, like sockperf's ping-pong). items_per_second is round trips.
//
// BM_Pipelined/<kind>: 64 connections × 16 ECHOs in flight each, driven by
// one event-loop client thread; the epoll server with one loop and with two
// (the loops argument means nothing to the other kinds). server_cpu_us is the CPU the server spent
// per request (the process's CPU minus the client thread's; not for the
// forking kind, whose children are charged to no one until they exit). The
// blocking kind is left out: it serves one connection at a time, and the
// other 63 would wait for ever. The pool kind runs 64 threads so that every
// connection has one.
//
// BM_ManyConnections/epoll/<n>: n connections held open by a client in a
// child process (so that the server process holds only its own
// descriptors), each with one ECHO in flight. Reports work per second, p99
// latency, and the server's memory per connection (its RSS growth from
// before the connections to after each has done a round trip, divided by
// n).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "clients/cpu_time.h"
#include "clients/latency_histogram.h"
#include "framing/frame.h"
#include "framing/work_message.h"
#include "net/address.h"
#include "net/blocking_io.h"
#include "net/event_loop.h"
#include "net/fd.h"
#include "net/framed_connection.h"
#include "net/socket.h"
#include "server/server.h"

namespace asyncwork::server {
namespace {

constexpr size_t kPayload = 64;
constexpr absl::Duration kTimeout = absl::Seconds(30);

std::unique_ptr<RunningServer> StartOrSkip(benchmark::State& state,
                                           ServerKind kind,
                                           const ServerOptions& options) {
  absl::StatusOr<std::unique_ptr<RunningServer>> server =
      StartServer(kind, *net::Address::Parse("127.0.0.1:0"), options);
  if (!server.ok()) {
    state.SkipWithError(server.status().ToString().c_str());
    return nullptr;
  }
  return std::move(*server);
}

std::string EchoFrame(uint64_t id) {
  std::string frame;
  framing::AppendRequestFrame(
      {.id = id, .op = framing::Op::kEcho, .data = std::string(kPayload, 'e')},
      &frame);
  return frame;
}

// BlockingSocket connects and clears O_NONBLOCK, so each send and receive
// is one blocking syscall.
absl::StatusOr<net::Socket> BlockingSocket(const net::Address& address) {
  absl::StatusOr<net::Socket> socket =
      net::ConnectBlocking(address, absl::Now() + kTimeout);
  if (!socket.ok()) return socket.status();
  absl::Status nodelay = socket->SetNoDelay(true);
  if (!nodelay.ok()) return nodelay;
  int flags = ::fcntl(socket->fd(), F_GETFL);
  if (flags < 0 || ::fcntl(socket->fd(), F_SETFL, flags & ~O_NONBLOCK) < 0) {
    return absl::ErrnoToStatus(errno, "fcntl");
  }
  return socket;
}

bool ReadFully(int fd, char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::read(fd, data, size);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void BM_EchoPingPong(benchmark::State& state, ServerKind kind) {
  std::unique_ptr<RunningServer> server = StartOrSkip(state, kind, {});
  if (server == nullptr) return;
  absl::StatusOr<net::Socket> socket = BlockingSocket(server->address());
  if (!socket.ok()) {
    state.SkipWithError(socket.status().ToString().c_str());
    return;
  }
  const std::string request = EchoFrame(1);
  // The answer has the request's size: same header, same 64 bytes.
  std::string answer(request.size(), '\0');
  for (auto _ : state) {
    if (::write(socket->fd(), request.data(), request.size()) !=
            static_cast<ssize_t>(request.size()) ||
        !ReadFully(socket->fd(), answer.data(), answer.size())) {
      state.SkipWithError("the round trip failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  socket->Close();
  (void)server->Stop();
}

// LoadClient drives `connections` connections with `depth` 64-byte ECHOs in
// flight each, from one EventLoop on the calling thread, and records each
// round trip's latency.
class LoadClient {
 public:
  static absl::StatusOr<std::unique_ptr<LoadClient>> Connect(
      const net::Address& address, int connections, int depth) {
    absl::StatusOr<std::unique_ptr<net::EventLoop>> loop =
        net::EventLoop::Create();
    if (!loop.ok()) return loop.status();
    auto client = std::unique_ptr<LoadClient>(
        new LoadClient(std::move(*loop), depth));
    for (int i = 0; i < connections; ++i) {
      absl::StatusOr<net::Socket> socket =
          net::ConnectBlocking(address, absl::Now() + kTimeout);
      if (!socket.ok()) return socket.status();
      if (address.transport() == net::Transport::kTcp) {
        (void)socket->SetNoDelay(true);
      }
      absl::Status added = client->Add(std::move(*socket));
      if (!added.ok()) return added;
    }
    return client;
  }

  // Run sends requests until `answers` more have come back, and returns
  // the error that ended it early, if any.
  absl::Status Run(uint64_t answers) {
    target_ += answers;
    for (auto& lane : lanes_) {
      while (lane->sent_at.size() < static_cast<size_t>(depth_) && Wanted()) {
        Send(*lane);
      }
    }
    absl::Time deadline = absl::Now() + kTimeout;
    while (answered_ < target_ && error_.ok() && absl::Now() < deadline) {
      absl::Status ran = loop_->RunOnce(absl::Milliseconds(100));
      if (!ran.ok()) return ran;
    }
    if (!error_.ok()) return error_;
    if (answered_ < target_) {
      return absl::DeadlineExceededError("answers stopped coming");
    }
    return absl::OkStatus();
  }

  const clients::LatencyHistogram& latency() const { return latency_; }

  ~LoadClient() {
    for (auto& lane : lanes_) lane->connection.reset();
  }

 private:
  struct Lane {
    std::unique_ptr<net::FramedConnection> connection;
    std::deque<absl::Time> sent_at;  // ECHOs are answered in order
  };

  LoadClient(std::unique_ptr<net::EventLoop> loop, int depth)
      : loop_(std::move(loop)), depth_(depth), request_(EchoFrame(7)) {}

  bool Wanted() const { return issued_ < target_; }

  absl::Status Add(net::Socket socket) {
    auto lane = std::make_unique<Lane>();
    Lane* raw = lane.get();
    lane->connection = std::make_unique<net::FramedConnection>(
        loop_.get(), std::move(socket), net::FramedConnection::Options(),
        net::FramedConnection::Callbacks{
            .on_frame = [this, raw](absl::string_view) { OnAnswer(*raw); },
            .on_read_eof = nullptr,
            .on_close =
                [this](const absl::Status& reason) {
                  if (error_.ok()) {
                    error_ = reason.ok() ? absl::UnavailableError(
                                               "the server closed a connection")
                                         : reason;
                  }
                },
            .on_drained = nullptr});
    absl::Status started = lane->connection->Start();
    lanes_.push_back(std::move(lane));
    return started;
  }

  void Send(Lane& lane) {
    lane.connection->AppendToOutput(
        [this](std::string* out) { out->append(request_); });
    lane.sent_at.push_back(absl::Now());
    ++issued_;
  }

  void OnAnswer(Lane& lane) {
    latency_.Record(absl::Now() - lane.sent_at.front());
    lane.sent_at.pop_front();
    ++answered_;
    if (Wanted()) Send(lane);
  }

  std::unique_ptr<net::EventLoop> loop_;
  const int depth_;
  const std::string request_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  uint64_t target_ = 0;
  uint64_t issued_ = 0;
  uint64_t answered_ = 0;
  absl::Status error_;
  clients::LatencyHistogram latency_;
};

void BM_Pipelined(benchmark::State& state, ServerKind kind) {
  const int connections = static_cast<int>(state.range(0));
  const int depth = static_cast<int>(state.range(1));
  ServerOptions options;
  options.pool_size = connections;
  options.threads = static_cast<int>(state.range(2));
  std::unique_ptr<RunningServer> server = StartOrSkip(state, kind, options);
  if (server == nullptr) return;
  absl::StatusOr<std::unique_ptr<LoadClient>> client =
      LoadClient::Connect(server->address(), connections, depth);
  if (!client.ok()) {
    state.SkipWithError(client.status().ToString().c_str());
    return;
  }
  const uint64_t batch = uint64_t(connections) * depth * 4;
  absl::Duration process_cpu = clients::ProcessCpuTime();
  absl::Duration client_cpu = clients::ThreadCpuTime();
  for (auto _ : state) {
    absl::Status ran = (*client)->Run(batch);
    if (!ran.ok()) {
      state.SkipWithError(ran.ToString().c_str());
      break;
    }
  }
  uint64_t requests = state.iterations() * batch;
  absl::Duration server_cpu = (clients::ProcessCpuTime() - process_cpu) -
                              (clients::ThreadCpuTime() - client_cpu);
  state.SetItemsProcessed(requests);
  if (kind != ServerKind::kForking && requests > 0) {
    state.counters["server_cpu_us"] =
        absl::ToDoubleMicroseconds(server_cpu) / requests;
  }
  state.counters["p99_us"] =
      absl::ToDoubleMicroseconds((*client)->latency().ValueAtPercentile(99));
  client->reset();
  (void)server->Stop();
}

// RssBytes reads this process's resident set size.
int64_t RssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    int64_t kib = 0;
    std::vector<std::string> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() >= 2 && absl::SimpleAtoi(fields[1], &kib)) {
      return kib * 1024;
    }
  }
  return 0;
}

// ChildClient runs in a forked child: it connects `connections` times, does
// one round trip on each, reports "ready", waits for the go, runs `rounds`
// answers per connection, and reports "<requests> <seconds> <p99_us>".
[[noreturn]] void ChildClient(int from_parent, int to_parent,
                              const net::Address& address, int connections,
                              int rounds) {
  auto report = [to_parent](const std::string& line) {
    (void)!::write(to_parent, line.data(), line.size());
  };
  absl::StatusOr<std::unique_ptr<LoadClient>> client =
      LoadClient::Connect(address, connections, 1);
  absl::Status status = client.ok() ? (*client)->Run(connections)
                                    : client.status();
  if (!status.ok()) {
    report(absl::StrCat("error ", status.ToString(), "\n"));
    ::_exit(1);
  }
  report("ready\n");
  char go;
  if (::read(from_parent, &go, 1) != 1) ::_exit(1);
  absl::Time start = absl::Now();
  uint64_t requests = uint64_t(connections) * rounds;
  status = (*client)->Run(requests);
  absl::Duration elapsed = absl::Now() - start;
  if (!status.ok()) {
    report(absl::StrCat("error ", status.ToString(), "\n"));
    ::_exit(1);
  }
  report(absl::StrCat(requests, " ", absl::ToDoubleSeconds(elapsed), " ",
                      absl::ToDoubleMicroseconds(
                          (*client)->latency().ValueAtPercentile(99)),
                      "\n"));
  ::_exit(0);
}

std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  return line;
}

void BM_ManyConnections(benchmark::State& state) {
  const int connections = static_cast<int>(state.range(0));
  const int rounds = 5;
  for (auto _ : state) {
    ServerOptions options;
    options.max_connections = connections + 16;
    std::unique_ptr<RunningServer> server =
        StartOrSkip(state, ServerKind::kEpoll, options);
    if (server == nullptr) return;
    int64_t rss_before = RssBytes();
    int down[2], up[2];
    if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0) {
      state.SkipWithError("pipe");
      return;
    }
    net::Fd down_read(down[0]), down_write(down[1]), up_read(up[0]),
        up_write(up[1]);
    pid_t child = ::fork();
    if (child == 0) {
      ChildClient(down_read.get(), up_write.get(), server->address(),
                  connections, rounds);
    }
    up_write.Close();
    down_read.Close();
    std::string ready = ReadLine(up_read.get());
    int64_t rss_after = RssBytes();
    if (ready == "ready") {
      (void)!::write(down_write.get(), "g", 1);
    }
    std::string result = ready == "ready" ? ReadLine(up_read.get()) : ready;
    int status = 0;
    ::waitpid(child, &status, 0);
    std::vector<std::string> fields = absl::StrSplit(result, ' ');
    double requests = 0, seconds = 0, p99 = 0;
    if (fields.size() != 3 || !absl::SimpleAtod(fields[0], &requests) ||
        !absl::SimpleAtod(fields[1], &seconds) ||
        !absl::SimpleAtod(fields[2], &p99) || seconds <= 0) {
      state.SkipWithError(absl::StrCat("client: ", result).c_str());
      return;
    }
    state.counters["requests_per_second"] = requests / seconds;
    state.counters["p99_us"] = p99;
    state.counters["server_bytes_per_conn"] =
        double(rss_after - rss_before) / connections;
    (void)server->Stop();
  }
}

void RegisterAll() {
  for (ServerKind kind : kAllServerKinds) {
    std::string name(ServerKindName(kind));
    benchmark::RegisterBenchmark(("BM_EchoPingPong/" + name).c_str(),
                                 BM_EchoPingPong, kind)
        ->UseRealTime();
    if (kind != ServerKind::kBlocking) {
      auto* pipelined =
          benchmark::RegisterBenchmark(("BM_Pipelined/" + name).c_str(),
                                       BM_Pipelined, kind)
              ->ArgNames({"connections", "depth", "loops"})
              ->Args({64, 16, 1})
              ->UseRealTime();
      if (kind == ServerKind::kEpoll) pipelined->Args({64, 16, 2});
    }
  }
  benchmark::RegisterBenchmark("BM_ManyConnections/epoll", BM_ManyConnections)
      ->Arg(10000)
      ->Arg(200)
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace
}  // namespace asyncwork::server

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  asyncwork::server::RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
