#include "clients/testing/fake_server.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "framing/frame.h"
#include "framing/operation.h"
#include "framing/work_message.h"
#include "net/blocking_io.h"

namespace asyncwork::clients::testing {
namespace {

// kPollSlice is how long any wait lasts before re-checking the stop flag.
constexpr absl::Duration kPollSlice = absl::Milliseconds(20);
// kWriteDeadline bounds one answer's write to a client that stopped reading.
constexpr absl::Duration kWriteDeadline = absl::Seconds(5);

}  // namespace

absl::StatusOr<std::unique_ptr<FakeServer>> FakeServer::Start(
    const FakeServerOptions& options) {
  absl::StatusOr<net::Address> requested = net::Address::Parse(options.listen);
  if (!requested.ok()) return requested.status();
  absl::StatusOr<net::Socket> listener = net::Socket::Listen(*requested);
  if (!listener.ok()) return listener.status();
  absl::StatusOr<net::Address> bound = listener->LocalAddress();
  if (!bound.ok()) return bound.status();
  auto server = std::make_unique<FakeServer>(Key(), options,
                                             *std::move(listener), *bound);
  server->acceptor_ = std::thread([raw = server.get()] { raw->AcceptLoop(); });
  return server;
}

FakeServer::FakeServer(Key, const FakeServerOptions& options,
                       net::Socket listener, const net::Address& address)
    : options_(options), listener_(std::move(listener)), address_(address) {}

FakeServer::~FakeServer() { Stop(); }

void FakeServer::Stop() {
  stopping_.store(true);
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    connections.swap(connections_);
  }
  for (std::thread& thread : connections) thread.join();
  listener_.Close();
}

void FakeServer::AcceptLoop() {
  uint64_t connection_number = 0;
  while (!stopping_.load()) {
    absl::StatusOr<net::Socket> connection =
        net::AcceptBlocking(listener_, absl::Now() + kPollSlice);
    if (!connection.ok()) continue;
    accepted_.fetch_add(1);
    // Answers go out one write each; Nagle would hold the second of two
    // pipelined answers for the client's delayed ACK.
    if (address_.transport() == net::Transport::kTcp) {
      (void)connection->SetNoDelay(true);
    }
    // Each connection draws its closes from its own seed, so a run repeats
    // whichever thread gets scheduled first.
    uint64_t seed = options_.seed * 1000003 + connection_number++;
    std::lock_guard<std::mutex> lock(mutex_);
    connections_.emplace_back(
        [this, seed, socket = *std::move(connection)]() mutable {
          Serve(std::move(socket), seed);
        });
  }
}

void FakeServer::Serve(net::Socket connection, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  framing::FrameDecoder decoder;
  uint64_t answered_here = 0;
  std::string answer;
  // swap_pairs: an answer held back until the next one has gone out.
  std::string held;
  // Send writes one answer; false means the connection is done, by error or
  // by close_after.
  auto send = [&](const std::string& frame) {
    if (!net::WriteAll(connection, frame, absl::Now() + kWriteDeadline).ok()) {
      return false;
    }
    answered_.fetch_add(1);
    if (options_.close_after > 0 && ++answered_here >= options_.close_after) {
      closed_early_.fetch_add(1);
      return false;
    }
    return true;
  };
  while (!stopping_.load()) {
    absl::StatusOr<std::optional<absl::string_view>> body = decoder.Next();
    if (!body.ok()) return;
    if (!body->has_value()) {
      absl::StatusOr<size_t> got = net::ReadSome(
          connection, decoder.PrepareAppend(64 * 1024), absl::Now() + kPollSlice);
      if (absl::IsDeadlineExceeded(got.status())) {
        // Nothing more came: a held answer goes out alone.
        if (!held.empty() && !send(held)) return;
        held.clear();
        continue;
      }
      if (!got.ok() || *got == 0) return;
      decoder.CommitAppend(*got);
      continue;
    }
    absl::Time read_at = absl::Now();
    absl::StatusOr<framing::RequestView> request =
        framing::ParseRequest(**body);
    if (!request.ok()) return;
    if (options_.never_answer) continue;
    if (options_.close_probability > 0 &&
        uniform(random) < options_.close_probability) {
      closed_early_.fetch_add(1);
      return;
    }
    framing::Outcome outcome = framing::Perform(*request);
    answer.clear();
    framing::AppendResponseFrame(framing::ResponseFor(*request, outcome),
                                 &answer);
    if (options_.corrupt_answers && !outcome.result().empty()) {
      answer.back() = static_cast<char>(answer.back() ^ 0x5a);
    }
    if (options_.wrong_ids) {
      // The id's top byte, just after the 4-byte frame length.
      answer[framing::kFrameHeaderSize] ^= static_cast<char>(0x80);
    }
    absl::Time send_at = outcome.NotBefore(read_at);
    while (absl::Now() < send_at) {
      if (stopping_.load()) return;
      absl::SleepFor(std::min(kPollSlice, send_at - absl::Now()));
    }
    if (options_.swap_pairs && held.empty()) {
      held.swap(answer);
      continue;
    }
    if (!send(answer)) return;
    if (!held.empty() && !send(held)) return;
    held.clear();
  }
}

}  // namespace asyncwork::clients::testing
