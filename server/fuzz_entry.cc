#include "server/fuzz_entry.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "framing/frame.h"
#include "framing/fuzz_entry.h"
#include "framing/operation.h"
#include "framing/protocol_error.h"
#include "framing/work_message.h"
#include "net/address.h"
#include "net/blocking_io.h"
#include "net/check.h"
#include "net/log.h"
#include "net/socket.h"
#include "server/epoll_server.h"
#include "server/request_handler.h"
#include "server/shutdown_signal.h"

namespace asyncwork::server {
namespace {

using framing::ProtocolError;
using framing::StreamEnd;

// Small maxima make the oversize path easy to reach from short inputs; 16
// is exactly the message header, the smallest a server accepts.
constexpr size_t kMaxFrames[] = {framing::kDefaultMaxBodySize, 65536, 1000,
                                 40, 16};

// HASH costs rounds * size and SLEEP holds the connection: the fuzzer needs
// fast runs, not long hashes or sleeps. The remainders keep 0 (which HASH
// counts as 1 round and SLEEP as no delay) and small nonzero values.
constexpr uint32_t kHashRoundsModulus = 5;
constexpr uint32_t kSleepMicrosModulus = 16;

// kDatagramFrames is how many of the stream's frames are also served as
// datagrams: enough for a request, a short body and a refusal, without
// making long inputs slow.
constexpr size_t kDatagramFrames = 4;

// Every input is sent and half-closed before it is served, so the handlers
// never have to wait for the client: a wait that reaches this deadline is a
// hang, and fails the run through the status it returns.
constexpr absl::Duration kIdleTimeout = absl::Seconds(10);

// A failed oracle fails the whole run, which is what a fuzzer wants.
#define FUZZ_CHECK(condition) ASYNCWORK_CHECK(condition) << "fuzz oracle: "

bool Is(const absl::Status& status, ProtocolError error) {
  return framing::GetProtocolError(status) == error;
}

// Tame caps HASH rounds and SLEEP delays in every whole request of
// `stream` (header rewritten in place), leaving everything else as is.
void Tame(std::string* stream, size_t max_frame) {
  const framing::ReferenceStream frames =
      framing::DecodeWholeStream(*stream, max_frame);
  for (absl::string_view body : frames.bodies) {
    if (body.size() < framing::kMessageHeaderSize) continue;
    char* at = stream->data() + (body.data() - stream->data());
    framing::MessageHeader header = framing::DecodeMessageHeader(at);
    if (header.op == framing::Op::kHash) {
      header.arg %= kHashRoundsModulus;
    } else if (header.op == framing::Op::kSleep) {
      header.arg %= kSleepMicrosModulus;
    }
    framing::EncodeMessageHeader(header, at);
  }
}

// ExpectedAnswer is the whole frame a server owes for `request`.
std::string ExpectedAnswer(const framing::RequestView& request) {
  std::string frame;
  framing::AppendResponseFrame(
      framing::ResponseFor(request, framing::Perform(request)), &frame);
  return frame;
}

// CheckAnswer checks one answer's body the way a client does, besides the
// byte comparison with ExpectedAnswer.
void CheckAnswer(const framing::RequestView& request, absl::string_view body) {
  absl::StatusOr<framing::ResponseView> response = framing::ParseResponse(body);
  FUZZ_CHECK(response.ok()) << response.status();
  absl::Status verified = framing::VerifyResponse(request, *response);
  FUZZ_CHECK(verified.ok()) << verified;
}

RequestLimits Limits(size_t max_frame) {
  return {.idle_timeout = kIdleTimeout, .max_frame = max_frame};
}

void WriteAll(net::Socket& socket, absl::string_view bytes) {
  while (!bytes.empty()) {
    absl::StatusOr<net::IoResult> written = socket.Write(bytes);
    FUZZ_CHECK(written.ok()) << written.status();
    // kMaxFuzzStreamBytes is far below any socket buffer.
    FUZZ_CHECK(!written->would_block) << "the socket buffer is full";
    bytes.remove_prefix(written->bytes);
  }
}

// Received is what a client read from a connection until it ended: the
// bytes, and whether it ended in a reset rather than an end of stream. A
// Unix stream socket closed with input unread resets its peer (ECONNRESET)
// once the peer has read everything that was sent before the close.
struct Received {
  std::string bytes;
  bool reset = false;
};

// ReadToEnd reads until the server ends the connection, waiting until
// `deadline`: a server that keeps it open longer has hung.
Received ReadToEnd(net::Socket& socket, absl::Time deadline) {
  Received received;
  char buffer[16 * 1024];
  while (true) {
    absl::StatusOr<size_t> read =
        net::ReadSome(socket, absl::MakeSpan(buffer), deadline);
    if (!read.ok() &&
        absl::StrContains(read.status().message(), std::strerror(ECONNRESET))) {
      received.reset = true;
      return received;
    }
    FUZZ_CHECK(read.ok()) << read.status();
    if (*read == 0) return received;
    received.bytes.append(buffer, *read);
  }
}

// StreamExpectation is what a stream handler owes for one stream: the
// answers in order, the error that ends the stream (none for a clean end),
// and whether every answer must arrive. After a short body the handler
// still flushes what it owes; after an error inside the stream (an oversize
// length, a truncated frame) the stream has failed, and answers queued but
// not yet flushed are dropped with the connection, so only a prefix is due.
struct StreamExpectation {
  std::vector<framing::RequestView> requests;
  std::optional<ProtocolError> error;
  bool all_answers = true;
};

StreamExpectation Expect(absl::string_view stream, size_t max_frame) {
  const framing::ReferenceStream frames =
      framing::DecodeWholeStream(stream, max_frame);
  StreamExpectation expect;
  for (absl::string_view body : frames.bodies) {
    absl::StatusOr<framing::RequestView> request = framing::ParseRequest(body);
    if (!request.ok()) {
      FUZZ_CHECK(body.size() < framing::kMessageHeaderSize);
      expect.error = ProtocolError::kShortBody;
      return expect;
    }
    expect.requests.push_back(*request);
  }
  if (frames.end == StreamEnd::kTooLarge) {
    expect.error = ProtocolError::kFrameTooLarge;
    expect.all_answers = false;
  } else if (frames.end == StreamEnd::kTruncated) {
    expect.error = ProtocolError::kTruncatedFrame;
    expect.all_answers = false;
  }
  return expect;
}

// CountEnd tallies how a served stream ended.
void CountEnd(const StreamExpectation& expect, RequestFuzzCounts& counts) {
  if (!expect.error.has_value()) {
    ++counts.streams_clean;
  } else if (*expect.error == ProtocolError::kShortBody) {
    ++counts.streams_short_body;
  } else if (*expect.error == ProtocolError::kFrameTooLarge) {
    ++counts.streams_too_large;
  } else {
    ++counts.streams_truncated;
  }
}

// AnswerFrames splits what a server sent into whole frames: it sends whole
// answers only, so a partial frame at the end fails the check.
std::vector<absl::string_view> AnswerFrames(const Received& received) {
  const framing::ReferenceStream answers =
      framing::DecodeWholeStream(received.bytes, framing::kDefaultMaxBodySize);
  FUZZ_CHECK(answers.end == StreamEnd::kClean) << "a partial answer frame";
  std::vector<absl::string_view> frames;
  for (absl::string_view body : answers.bodies) {
    frames.emplace_back(body.data() - framing::kFrameHeaderSize,
                        framing::kFrameHeaderSize + body.size());
  }
  return frames;
}

// CheckAnswerCount checks that no more answers came than requests were
// made, and all of them when `all` are due; and that a connection reset
// only ever follows input the server stopped reading because of an error.
void CheckAnswerCount(const StreamExpectation& expect, size_t answers,
                      bool all, const Received& received) {
  FUZZ_CHECK(answers <= expect.requests.size())
      << answers << " answers to " << expect.requests.size() << " requests";
  if (all) {
    FUZZ_CHECK(answers == expect.requests.size())
        << answers << " answers to " << expect.requests.size() << " requests";
  }
  FUZZ_CHECK(!received.reset || expect.error.has_value())
      << "a reset after a well-formed stream";
}

// CheckStream serves `stream` with WorkStreamHandler over a Unix stream
// socket pair and checks the handler's status and the answers: each the
// answer owed, in order.
void CheckStream(absl::string_view stream, size_t max_frame,
                 const ShutdownSignal* signal, RequestFuzzCounts& counts) {
  const StreamExpectation expect = Expect(stream, max_frame);

  absl::StatusOr<std::pair<net::Socket, net::Socket>> pair =
      net::Socket::CreatePair(net::Transport::kUnixStream);
  FUZZ_CHECK(pair.ok()) << pair.status();
  net::Socket& client = pair->first;
  WriteAll(client, stream);
  absl::Status shut = client.ShutdownWrite();
  FUZZ_CHECK(shut.ok()) << shut;
  absl::Status served;
  {
    StreamRequest request(std::move(pair->second), net::Address(),
                          Limits(max_frame), signal);
    WorkStreamHandler handler;
    served = RunHandler(handler, request);
  }  // closes the server's end, as the servers do after Finish
  const Received received = ReadToEnd(client, absl::Now() + kIdleTimeout);

  if (expect.error.has_value()) {
    FUZZ_CHECK(Is(served, *expect.error))
        << served << " where " << framing::ProtocolErrorName(*expect.error)
        << " was due";
  } else {
    FUZZ_CHECK(served.ok()) << served;
  }
  const std::vector<absl::string_view> answers = AnswerFrames(received);
  CheckAnswerCount(expect, answers.size(), expect.all_answers, received);
  for (size_t i = 0; i < answers.size(); ++i) {
    const framing::RequestView& request = expect.requests[i];
    FUZZ_CHECK(answers[i] == ExpectedAnswer(request))
        << "answer " << i << " differs";
    CheckAnswer(request, answers[i].substr(framing::kFrameHeaderSize));
    if (request.op == framing::Op::kSleep) ++counts.sleeps;
  }
  counts.stream_answers += answers.size();
  if (received.reset) ++counts.resets;
  CountEnd(expect, counts);
  if (signal != nullptr) ++counts.streams_drained;
}

// EpollServerFor returns the epoll server for frames up to
// kMaxFrames[`max_frame_index`], HASH on worker threads or not: started on
// first use on an abstract Unix name, stopped at exit. Its log lines (one
// per malformed stream) are turned off: a fuzzer makes millions.
EpollServer& EpollServerFor(size_t max_frame_index, bool hash_on_workers) {
  static std::array<std::array<std::unique_ptr<EpollServer>, 2>,
                    std::size(kMaxFrames)>
      servers;
  std::unique_ptr<EpollServer>& server =
      servers[max_frame_index][hash_on_workers ? 1 : 0];
  if (server == nullptr) {
    net::SetMinLogSeverity(net::LogSeverity::kError);
    absl::StatusOr<net::Address> address = net::Address::Parse(
        absl::StrCat("unix:@asyncwork-request-fuzz-", ::getpid(), "-epoll-",
                     max_frame_index, hash_on_workers ? "-workers" : ""));
    FUZZ_CHECK(address.ok()) << address.status();
    EpollServerOptions options;
    options.max_frame = static_cast<uint32_t>(kMaxFrames[max_frame_index]);
    options.hash_on_workers = hash_on_workers;
    options.idle_timeout = kIdleTimeout;
    absl::StatusOr<std::unique_ptr<EpollServer>> started =
        EpollServer::Start(*address, options);
    FUZZ_CHECK(started.ok()) << started.status();
    server = *std::move(started);
  }
  return *server;
}

// CheckEpollStream sends `stream` to the epoll server on one connection,
// half-closes, and reads until the server closes. The epoll server answers
// a SLEEP when it is due, after later requests, so the answers are
// compared as a multiset: each must be one owed and not yet given; all are
// due for a well-formed stream. On a malformed one the server closes the
// connection, and answers still waiting (SLEEPs) go with it.
void CheckEpollStream(absl::string_view stream, size_t max_frame_index,
                      bool hash_on_workers, RequestFuzzCounts& counts) {
  const StreamExpectation expect =
      Expect(stream, kMaxFrames[max_frame_index]);
  EpollServer& server = EpollServerFor(max_frame_index, hash_on_workers);
  const absl::Time deadline = absl::Now() + kIdleTimeout;
  absl::StatusOr<net::Socket> client =
      net::ConnectBlocking(server.address(), deadline);
  FUZZ_CHECK(client.ok()) << client.status();
  WriteAll(*client, stream);
  absl::Status shut = client->ShutdownWrite();
  FUZZ_CHECK(shut.ok()) << shut;
  const Received received = ReadToEnd(*client, deadline);

  const std::vector<absl::string_view> answers = AnswerFrames(received);
  CheckAnswerCount(expect, answers.size(), !expect.error.has_value(),
                   received);
  std::vector<std::string> owed;
  for (const framing::RequestView& request : expect.requests) {
    owed.push_back(ExpectedAnswer(request));
  }
  std::vector<bool> given(owed.size(), false);
  for (absl::string_view answer : answers) {
    size_t i = 0;
    while (i < owed.size() && (given[i] || owed[i] != answer)) ++i;
    FUZZ_CHECK(i < owed.size()) << "an answer not owed, or given twice";
    given[i] = true;
    CheckAnswer(expect.requests[i], answer.substr(framing::kFrameHeaderSize));
  }
  counts.epoll_answers += answers.size();
  if (received.reset) ++counts.resets;
  ++counts.epoll_streams;
}

// DatagramSockets is the server's socket and a named client socket to
// answer, made once per process (a Unix datagram reply needs a named
// peer).
struct DatagramSockets {
  net::Socket server;
  net::Socket client;
  net::Address client_address;
};

DatagramSockets MakeDatagramSockets() {
  absl::StatusOr<net::Address> address = net::Address::Parse(
      absl::StrCat("unixgram:@asyncwork-request-fuzz-", ::getpid()));
  FUZZ_CHECK(address.ok()) << address.status();
  absl::StatusOr<net::Socket> client = net::Socket::Listen(*address);
  FUZZ_CHECK(client.ok()) << client.status();
  absl::StatusOr<net::Socket> server =
      net::Socket::Create(AF_UNIX, net::Transport::kUnixDatagram);
  FUZZ_CHECK(server.ok()) << server.status();
  return {.server = std::move(*server),
          .client = std::move(*client),
          .client_address = *address};
}

DatagramSockets& Datagrams() {
  static DatagramSockets sockets = MakeDatagramSockets();
  return sockets;
}

// ReceiveReply returns the datagram waiting on `socket`, if any. A reply is
// queued before Reply returns, so none waiting means none was sent.
std::optional<std::string> ReceiveReply(net::Socket& socket) {
  std::string reply(kMaxFuzzStreamBytes + 64, '\0');
  absl::StatusOr<net::IoResult> received =
      socket.RecvFrom(absl::MakeSpan(reply));
  FUZZ_CHECK(received.ok()) << received.status();
  if (received->would_block) return std::nullopt;
  FUZZ_CHECK(!received->truncated);
  reply.resize(received->bytes);
  return reply;
}

// ExpectedDatagramError is why `datagram` is not one frame, or nullopt if it
// is: its length must cover exactly the bytes after the header.
std::optional<ProtocolError> ExpectedDatagramError(absl::string_view datagram,
                                                   size_t max_frame) {
  if (datagram.size() < framing::kFrameHeaderSize) {
    return ProtocolError::kTruncatedFrame;
  }
  const framing::ReferenceStream frames =
      framing::DecodeWholeStream(datagram, max_frame);
  if (frames.bodies.empty() && frames.end == StreamEnd::kTooLarge) {
    return ProtocolError::kFrameTooLarge;
  }
  if (frames.bodies.size() == 1 && frames.end == StreamEnd::kClean) {
    return std::nullopt;
  }
  return ProtocolError::kDatagramLengthMismatch;
}

// CheckDatagram serves `datagram` with WorkDatagramHandler and checks the
// one reply, or the error and the absence of a reply.
void CheckDatagram(absl::string_view datagram, size_t max_frame,
                   RequestFuzzCounts& counts) {
  DatagramSockets& sockets = Datagrams();
  DatagramRequest request(std::string(datagram), sockets.client_address,
                          absl::Now(), &sockets.server, Limits(max_frame),
                          nullptr);
  WorkDatagramHandler handler;
  const absl::Status served = RunHandler(handler, request);
  const std::optional<std::string> reply = ReceiveReply(sockets.client);

  std::optional<ProtocolError> error =
      ExpectedDatagramError(datagram, max_frame);
  std::optional<framing::RequestView> work;
  if (!error.has_value()) {
    absl::StatusOr<framing::RequestView> parsed =
        framing::ParseRequest(datagram.substr(framing::kFrameHeaderSize));
    if (parsed.ok()) {
      work = *parsed;
    } else {
      error = ProtocolError::kShortBody;
    }
  }
  if (error.has_value()) {
    FUZZ_CHECK(Is(served, *error)) << served << " where "
                                   << framing::ProtocolErrorName(*error)
                                   << " was due";
    FUZZ_CHECK(!reply.has_value()) << "a reply to a malformed datagram";
    ++counts.datagrams_refused;
    return;
  }
  FUZZ_CHECK(served.ok()) << served;
  FUZZ_CHECK(reply.has_value()) << "no reply";
  FUZZ_CHECK(*reply == ExpectedAnswer(*work)) << "the reply differs";
  CheckAnswer(*work, absl::string_view(*reply).substr(framing::kFrameHeaderSize));
  FUZZ_CHECK(!ReceiveReply(sockets.client).has_value()) << "a second reply";
  ++counts.datagram_answers;
}

// DrainingSignal is a shutdown signal that is already draining: the server
// must still answer every whole frame that has arrived.
const ShutdownSignal* DrainingSignal() {
  static const absl::StatusOr<ShutdownSignal> signal = [] {
    absl::StatusOr<ShutdownSignal> made = ShutdownSignal::Create();
    if (made.ok()) made->Drain();
    return made;
  }();
  FUZZ_CHECK(signal.ok()) << signal.status();
  return &*signal;
}

}  // namespace

void FuzzRequestHandling(const uint8_t* data, size_t size,
                         RequestFuzzCounts* counts) {
  if (size == 0) return;
  const uint8_t config = data[0];
  const size_t max_frame_index = config % std::size(kMaxFrames);
  const size_t max_frame = kMaxFrames[max_frame_index];
  const bool draining = (config / std::size(kMaxFrames)) % 2 == 1;
  const bool hash_on_workers = (config / std::size(kMaxFrames)) % 4 >= 2;
  std::string stream(reinterpret_cast<const char*>(data + 1),
                     std::min(size - 1, kMaxFuzzStreamBytes));
  Tame(&stream, max_frame);

  RequestFuzzCounts unused;
  RequestFuzzCounts& tally = counts != nullptr ? *counts : unused;
  CheckStream(stream, max_frame, draining ? DrainingSignal() : nullptr, tally);
  CheckEpollStream(stream, max_frame_index, hash_on_workers, tally);

  const framing::ReferenceStream frames =
      framing::DecodeWholeStream(stream, max_frame);
  for (size_t i = 0; i < std::min(frames.bodies.size(), kDatagramFrames); ++i) {
    const absl::string_view body = frames.bodies[i];
    CheckDatagram(absl::string_view(body.data() - framing::kFrameHeaderSize,
                                    framing::kFrameHeaderSize + body.size()),
                  max_frame, tally);
  }
  CheckDatagram(stream, max_frame, tally);
}

}  // namespace asyncwork::server
