// frame.h: the length-prefixed frames of PROTOCOL.md, encoded and decoded.
//
// On a stream every frame is a 4-byte big-endian body length and then the
// body. The encoder appends frames to a caller-owned std::string; the decoder
// takes bytes however they arrive (split anywhere, many frames per read or one
// frame over many reads) and hands back each complete body as a view into its
// own buffer, without copying it.
//
//   std::string wire;
//   AppendFrame("hello", &wire);
//
//   FrameDecoder decoder;                       // max body 16 MiB
//   absl::Span<char> room = decoder.PrepareAppend(64 * 1024);
//   ssize_t n = ::read(fd, room.data(), room.size());
//   if (n > 0) decoder.CommitAppend(n);
//   while (true) {
//     absl::StatusOr<std::optional<absl::string_view>> body = decoder.Next();
//     if (!body.ok()) { /* close: body.status().message() */ break; }
//     if (!body->has_value()) break;            // need more bytes
//     Handle(**body);                           // valid until the next call
//   }
//   // on end of stream: decoder.CheckEndOfStream() reports a truncated frame
#ifndef ASYNCWORK_FRAMING_FRAME_H_
#define ASYNCWORK_FRAMING_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace asyncwork::framing {

// kFrameHeaderSize is the size of the length field in front of every body.
inline constexpr size_t kFrameHeaderSize = 4;
// kDefaultMaxBodySize is a receiver's maximum body size unless configured
// smaller: 16 MiB. A body of exactly this size is allowed.
inline constexpr size_t kDefaultMaxBodySize = size_t{16} << 20;
// kMaxEncodableBodySize is the largest body a 32-bit length can describe.
inline constexpr size_t kMaxEncodableBodySize = UINT32_MAX;

// EncodeFrameHeader writes the 4-byte header for a body of `body_size` bytes
// to `dest` (for writev: the header on the stack, the body where it lies).
// `body_size` must be at most kMaxEncodableBodySize; larger aborts.
void EncodeFrameHeader(size_t body_size, char* dest);

// AppendFrame appends one frame (header and `body`) to `*out`.
void AppendFrame(absl::string_view body, std::string* out);

// CheckBodyLength returns OK when a header's `length` is at most
// `max_body_size`, else the kFrameTooLarge error that names both, e.g.
// "frame too large (20000000 > 16777216)".
absl::Status CheckBodyLength(uint32_t length, size_t max_body_size);

// BeginFrame and FinishFrame frame a body built in place, with no copy:
//
//   size_t frame = BeginFrame(&out);   // appends a 4-byte placeholder
//   out.append(...);                   // the body, in any number of pieces
//   FinishFrame(frame, &out);          // the length is what was appended
//
// BeginFrame returns the offset of the placeholder. FinishFrame fills it in
// with the number of bytes appended after it, which must be at most
// kMaxEncodableBodySize.
size_t BeginFrame(std::string* out);
void FinishFrame(size_t frame_offset, std::string* out);

// FrameDecoder turns a byte stream into frame bodies, incrementally.
//
// Bytes go in either through Append (a copy) or by reading straight into the
// decoder's buffer with PrepareAppend and CommitAppend. Next() then returns
// complete bodies one by one as views into that buffer. The buffer is
// compacted or grown only when PrepareAppend needs room, never per frame; it
// keeps its largest size, a small multiple of the longest frame plus the
// largest PrepareAppend request.
//
// A length above the maximum body size fails the decoder as soon as its 4
// header bytes are in: nothing is allocated for that body. A failed decoder
// stays failed: Next() returns the same error and further bytes are dropped.
//
// Not thread-safe: one thread at a time (a connection's loop thread). Movable,
// not copyable; moving invalidates the views it handed out.
class FrameDecoder {
 public:
  struct Options {
    // The largest body accepted; a longer length fails the decoder.
    size_t max_body_size = kDefaultMaxBodySize;
    // The buffer's first allocation, and the least it grows to: large
    // enough that a stream of small frames never grows it, small enough for
    // thousands of idle connections. Tests make it tiny to force growth and
    // compaction.
    size_t min_capacity = 4096;
  };

  // FrameDecoder accepts bodies of up to `max_body_size` bytes.
  explicit FrameDecoder(size_t max_body_size = kDefaultMaxBodySize)
      : FrameDecoder(Options{.max_body_size = max_body_size}) {}
  explicit FrameDecoder(const Options& options);

  FrameDecoder(FrameDecoder&& other) noexcept;
  FrameDecoder& operator=(FrameDecoder&& other) noexcept;
  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;
  ~FrameDecoder() = default;

  // PrepareAppend returns writable room at the end of the buffer, at least
  // `min_bytes` long (and often longer: read as much as fits). The span is
  // valid until the next non-const call. Views from Next() are invalidated.
  absl::Span<char> PrepareAppend(size_t min_bytes);

  // CommitAppend marks the first `n` bytes of PrepareAppend's span as
  // received. `n` must not exceed that span's size; larger aborts.
  void CommitAppend(size_t n);

  // Append copies `bytes` into the buffer. Views from Next() are invalidated.
  void Append(absl::string_view bytes);

  // Next returns the next complete body, nullopt when more bytes are needed,
  // or a kFrameTooLarge error (see protocol_error.h). The body is a view into
  // the buffer, valid until the next non-const call.
  absl::StatusOr<std::optional<absl::string_view>> Next();

  // MidFrame returns whether bytes not yet returned by Next() are buffered.
  // Once Next() has asked for more bytes, that means a frame has begun but
  // not finished: a stream closed now ends mid-frame.
  bool MidFrame() const { return write_ != read_; }

  // CheckEndOfStream returns the error to report when the stream ends now:
  // OK when the buffered bytes hold only whole frames, kTruncatedFrame saying
  // how far the last frame got, or the error the decoder failed with.
  absl::Status CheckEndOfStream() const;

  // failed returns whether the decoder met a protocol error.
  bool failed() const { return !status_.ok(); }

  // buffered_bytes returns how many received bytes Next() has not consumed.
  size_t buffered_bytes() const { return write_ - read_; }

  // capacity returns the buffer's current size in bytes.
  size_t capacity() const { return capacity_; }

  size_t max_body_size() const { return max_body_size_; }

 private:
  // MakeRoom ensures `min_bytes` of room after write_, compacting or growing.
  void MakeRoom(size_t min_bytes);

  size_t max_body_size_;
  size_t min_capacity_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t read_ = 0;   // start of the first byte Next() has not consumed
  size_t write_ = 0;  // end of the received bytes
  absl::Status status_;
};

}  // namespace asyncwork::framing

#endif  // ASYNCWORK_FRAMING_FRAME_H_
