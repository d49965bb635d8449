// fuzz_entry.h: one fuzzing entry point for the server's request handling.
//
// FuzzRequestHandling treats its input as the bytes a client sends on one
// connection, half-closing after the last byte, and serves them two ways:
// with WorkStreamHandler exactly as the socketserver family does (a Unix
// stream socket pair, a FramedStream, RunHandler's Setup/Handle/Finish),
// and through a running EpollServer (a Unix stream connection, its
// FramedConnection and WorkAsyncHandler); each time it reads back
// everything the server sent until it closed. It also hands each of the
// first few frames, and the whole input, to WorkDatagramHandler as one
// datagram, as the datagram servers do. The answers are compared with a
// plain reference (framing's DecodeWholeStream, Perform, and the client's
// VerifyResponse); any disagreement, an error that names the wrong cause,
// or a wait that runs into its deadline aborts.
// It runs under libFuzzer (request_fuzzer.cc, --config=fuzz) and under
// fuzz_smoke_test.cc in every `bazel test`.
//
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     asyncwork::server::FuzzRequestHandling(data, size);
//     return 0;
//   }
//
// Threads: one caller at a time. It keeps, per process, one datagram
// socket pair and up to ten epoll servers (one per frame limit, with HASH
// on workers or not), started on first use and stopped at exit, and turns
// net/log.h's lines below errors off.
#ifndef ASYNCWORK_SERVER_FUZZ_ENTRY_H_
#define ASYNCWORK_SERVER_FUZZ_ENTRY_H_

#include <cstddef>
#include <cstdint>

namespace asyncwork::server {

// RequestFuzzCounts tallies what the inputs reached, so a driver can tell
// that its inputs exercise every path (not only that nothing crashed).
struct RequestFuzzCounts {
  size_t streams_clean = 0;       // streams served to their end: Handle OK
  size_t streams_short_body = 0;  // ended by a body under 16 bytes
  size_t streams_too_large = 0;   // ended by an oversize length
  size_t streams_truncated = 0;   // ended inside a frame
  size_t streams_drained = 0;     // served with the shutdown signal draining
  size_t stream_answers = 0;      // answers read back from stream handlers
  size_t sleeps = 0;              // SLEEP requests answered on a stream
  size_t epoll_streams = 0;       // streams served by the epoll server
  size_t epoll_answers = 0;       // answers read back from it
  size_t resets = 0;  // connections reset: closed by a server with input unread
  size_t datagram_answers = 0;    // datagrams answered
  size_t datagrams_refused = 0;   // datagrams dropped with an error
};

// FuzzRequestHandling runs every check above on `data` (`size` bytes) and
// aborts on the first one that fails. The first byte selects the largest
// frame the servers accept, whether the stream handler's server is
// draining, and whether the epoll server runs HASH on workers; the rest is
// the stream, of which at most kMaxFuzzStreamBytes are used. Before serving,
// HASH rounds are capped at 4 and SLEEP delays at 15 microseconds in the
// stream's well-formed requests, so an input costs microseconds, not
// minutes. When `counts` is not null it is added to.
void FuzzRequestHandling(const uint8_t* data, size_t size,
                         RequestFuzzCounts* counts = nullptr);

// kMaxFuzzStreamBytes bounds the stream, so that neither direction can
// fill a socket buffer while the other end is not reading.
inline constexpr size_t kMaxFuzzStreamBytes = 32 * 1024;

}  // namespace asyncwork::server

#endif  // ASYNCWORK_SERVER_FUZZ_ENTRY_H_
