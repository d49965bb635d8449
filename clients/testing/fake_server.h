// fake_server.h: FakeServer, a small work server for the clients' tests
// (testonly), with knobs that make it misbehave on purpose.
//
// A thread per connection reads requests with blocking I/O, answers each
// with framing::Perform (holding a SLEEP's answer for its delay), and can
// instead close the connection at random, close it after a number of
// answers, answer out of order, answer wrongly, or never answer at all:
//
//   FakeServerOptions options;
//   options.close_probability = 0.05;      // the "closes at random" server
//   absl::StatusOr<std::unique_ptr<FakeServer>> server =
//       FakeServer::Start(options);
//   config.server = (*server)->address();
//   ...
//   (*server)->Stop();                      // or let the destructor do it
//
// Every wait inside is bounded (short polls re-checking a stop flag), so
// Stop returns promptly even with clients still connected. Counters may be
// read from any thread.
#ifndef ASYNCWORK_CLIENTS_TESTING_FAKE_SERVER_H_
#define ASYNCWORK_CLIENTS_TESTING_FAKE_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "net/address.h"
#include "net/socket.h"

namespace asyncwork::clients::testing {

struct FakeServerOptions {
  // Where to listen: loopback TCP on a free port unless set (a Unix path
  // works too).
  std::string listen = "127.0.0.1:0";
  // The chance, for each request read, that the server closes the
  // connection instead of answering it (and any later request on it).
  double close_probability = 0;
  // When non-zero, close each connection once it has answered this many
  // requests.
  uint64_t close_after = 0;
  // Read every request and answer none (for deadline tests).
  bool never_answer = false;
  // Answer with the last byte of every result flipped (for verification
  // tests); an empty result is left alone.
  bool corrupt_answers = false;
  // Answer with an id no request had (its top bit flipped).
  bool wrong_ids = false;
  // Answer out of order: hold each odd answer back until the next answer
  // has been sent, or until no request has come for a moment.
  bool swap_pairs = false;
  // Seeds the random closes.
  uint64_t seed = 1;
};

class FakeServer {
  struct Key {
    explicit Key() = default;
  };

 public:
  // Start listens and starts accepting on a thread of its own.
  static absl::StatusOr<std::unique_ptr<FakeServer>> Start(
      const FakeServerOptions& options = {});

  // Use Start; the Key keeps this constructor private to it.
  FakeServer(Key, const FakeServerOptions& options, net::Socket listener,
             const net::Address& address);

  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;
  // ~FakeServer stops the server (see Stop).
  ~FakeServer();

  // address returns where clients connect (the real port).
  const net::Address& address() const { return address_; }

  // Stop closes the listener and every connection and joins every thread.
  // Idempotent. Call it from the thread that started the server.
  void Stop();

  // answered counts requests answered; closed_early counts connections the
  // server closed on purpose (close_probability or close_after);
  // accepted counts connections accepted.
  uint64_t answered() const { return answered_.load(); }
  uint64_t closed_early() const { return closed_early_.load(); }
  uint64_t accepted() const { return accepted_.load(); }

 private:
  void AcceptLoop();
  void Serve(net::Socket connection, uint64_t seed);

  const FakeServerOptions options_;
  net::Socket listener_;
  const net::Address address_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> closed_early_{0};
  std::atomic<uint64_t> accepted_{0};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> connections_;  // guarded by mutex_
};

}  // namespace asyncwork::clients::testing

#endif  // ASYNCWORK_CLIENTS_TESTING_FAKE_SERVER_H_
