#include "server/fuzz_entry.h"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
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
#include "net/check.h"
#include "net/socket.h"
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

// ReadToEnd reads until the end of stream, which the peer has already sent:
// it has closed, so every read returns bytes or the end at once.
std::string ReadToEnd(net::Socket& socket) {
  std::string bytes;
  char buffer[16 * 1024];
  while (true) {
    absl::StatusOr<net::IoResult> read = socket.Read(absl::MakeSpan(buffer));
    FUZZ_CHECK(read.ok()) << read.status();
    FUZZ_CHECK(!read->would_block) << "no end of stream after the close";
    if (read->eof) return bytes;
    bytes.append(buffer, read->bytes);
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

// CheckStream serves `stream` with WorkStreamHandler over a Unix stream
// socket pair and checks the answers and the handler's status.
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
  const std::string output = ReadToEnd(client);

  if (expect.error.has_value()) {
    FUZZ_CHECK(Is(served, *expect.error))
        << served << " where " << framing::ProtocolErrorName(*expect.error)
        << " was due";
  } else {
    FUZZ_CHECK(served.ok()) << served;
  }

  // The server sends whole frames only, each the answer owed, in order.
  const framing::ReferenceStream answers =
      framing::DecodeWholeStream(output, framing::kDefaultMaxBodySize);
  FUZZ_CHECK(answers.end == StreamEnd::kClean) << "a partial answer frame";
  FUZZ_CHECK(answers.bodies.size() <= expect.requests.size())
      << answers.bodies.size() << " answers to " << expect.requests.size()
      << " requests";
  if (expect.all_answers) {
    FUZZ_CHECK(answers.bodies.size() == expect.requests.size())
        << answers.bodies.size() << " answers to " << expect.requests.size()
        << " requests";
  }
  size_t offset = 0;
  for (size_t i = 0; i < answers.bodies.size(); ++i) {
    const framing::RequestView& request = expect.requests[i];
    const std::string expected = ExpectedAnswer(request);
    FUZZ_CHECK(absl::string_view(output).substr(offset, expected.size()) ==
               expected)
        << "answer " << i << " differs";
    offset += expected.size();
    CheckAnswer(request, answers.bodies[i]);
    if (request.op == framing::Op::kSleep) ++counts.sleeps;
  }
  counts.stream_answers += answers.bodies.size();
  if (!expect.error.has_value()) {
    ++counts.streams_clean;
  } else if (*expect.error == ProtocolError::kShortBody) {
    ++counts.streams_short_body;
  } else if (*expect.error == ProtocolError::kFrameTooLarge) {
    ++counts.streams_too_large;
  } else {
    ++counts.streams_truncated;
  }
  if (signal != nullptr) ++counts.streams_drained;
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
  const size_t max_frame = kMaxFrames[config % std::size(kMaxFrames)];
  const bool draining = (config / std::size(kMaxFrames)) % 2 == 1;
  std::string stream(reinterpret_cast<const char*>(data + 1),
                     std::min(size - 1, kMaxFuzzStreamBytes));
  Tame(&stream, max_frame);

  RequestFuzzCounts unused;
  RequestFuzzCounts& tally = counts != nullptr ? *counts : unused;
  CheckStream(stream, max_frame, draining ? DrainingSignal() : nullptr, tally);

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
