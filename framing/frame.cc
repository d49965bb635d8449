#include "framing/frame.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "framing/big_endian.h"
#include "framing/invariant.h"
#include "framing/protocol_error.h"

namespace asyncwork::framing {
void EncodeFrameHeader(size_t body_size, char* dest) {
  ASYNCWORK_FRAMING_CHECK(body_size <= kMaxEncodableBodySize,
                          "frame body too large for a 32-bit length");
  StoreBigEndian32(dest, static_cast<uint32_t>(body_size));
}

void AppendFrame(absl::string_view body, std::string* out) {
  char header[kFrameHeaderSize];
  EncodeFrameHeader(body.size(), header);
  out->append(header, kFrameHeaderSize);
  out->append(body.data(), body.size());
}

absl::Status CheckBodyLength(uint32_t length, size_t max_body_size) {
  if (length <= max_body_size) return absl::OkStatus();
  return MakeProtocolError(ProtocolError::kFrameTooLarge,
                           absl::StrCat(length, " > ", max_body_size));
}

size_t BeginFrame(std::string* out) {
  const size_t offset = out->size();
  out->append(kFrameHeaderSize, '\0');
  return offset;
}

void FinishFrame(size_t frame_offset, std::string* out) {
  ASYNCWORK_FRAMING_CHECK(frame_offset + kFrameHeaderSize <= out->size(),
                          "FinishFrame without its BeginFrame");
  EncodeFrameHeader(out->size() - frame_offset - kFrameHeaderSize,
                    out->data() + frame_offset);
}

FrameDecoder::FrameDecoder(const Options& options)
    : max_body_size_(options.max_body_size),
      min_capacity_(std::max<size_t>(options.min_capacity, 1)) {}

FrameDecoder::FrameDecoder(FrameDecoder&& other) noexcept
    : max_body_size_(other.max_body_size_),
      min_capacity_(other.min_capacity_),
      buffer_(std::move(other.buffer_)),
      capacity_(std::exchange(other.capacity_, 0)),
      read_(std::exchange(other.read_, 0)),
      write_(std::exchange(other.write_, 0)),
      status_(std::move(other.status_)) {}

FrameDecoder& FrameDecoder::operator=(FrameDecoder&& other) noexcept {
  max_body_size_ = other.max_body_size_;
  min_capacity_ = other.min_capacity_;
  buffer_ = std::move(other.buffer_);
  capacity_ = std::exchange(other.capacity_, 0);
  read_ = std::exchange(other.read_, 0);
  write_ = std::exchange(other.write_, 0);
  status_ = std::move(other.status_);
  return *this;
}

absl::Span<char> FrameDecoder::PrepareAppend(size_t min_bytes) {
  MakeRoom(std::max<size_t>(min_bytes, 1));
  return absl::Span<char>(buffer_.get() + write_, capacity_ - write_);
}

void FrameDecoder::CommitAppend(size_t n) {
  ASYNCWORK_FRAMING_CHECK(n <= capacity_ - write_,
                          "CommitAppend past PrepareAppend's span");
  // A failed decoder drops what arrives, so a peer that keeps sending after
  // an oversize header cannot make it buffer anything.
  if (!status_.ok()) return;
  write_ += n;
}

void FrameDecoder::Append(absl::string_view bytes) {
  if (bytes.empty() || !status_.ok()) return;
  absl::Span<char> room = PrepareAppend(bytes.size());
  std::memcpy(room.data(), bytes.data(), bytes.size());
  CommitAppend(bytes.size());
}

absl::StatusOr<std::optional<absl::string_view>> FrameDecoder::Next() {
  if (!status_.ok()) return status_;
  const size_t available = write_ - read_;
  if (available < kFrameHeaderSize) return std::optional<absl::string_view>();
  const char* frame = buffer_.get() + read_;
  const uint32_t length = LoadBigEndian32(frame);
  if (length > max_body_size_) {
    status_ = CheckBodyLength(length, max_body_size_);
    read_ = write_ = 0;
    return status_;
  }
  if (available - kFrameHeaderSize < length) {
    return std::optional<absl::string_view>();
  }
  read_ += kFrameHeaderSize + length;
  // An emptied buffer restarts at its front: the bytes stay where they are,
  // so the view returned below remains valid, and a reader that drains every
  // read never needs a compaction at all.
  if (read_ == write_) read_ = write_ = 0;
  return std::optional<absl::string_view>(
      absl::string_view(frame + kFrameHeaderSize, length));
}

absl::Status FrameDecoder::CheckEndOfStream() const {
  if (!status_.ok()) return status_;
  // Walk over whole frames Next() has not handed out yet; only what follows
  // them can be a truncated frame.
  size_t offset = read_;
  while (true) {
    const size_t available = write_ - offset;
    if (available == 0) return absl::OkStatus();
    if (available < kFrameHeaderSize) {
      return MakeProtocolError(
          ProtocolError::kTruncatedFrame,
          absl::StrCat("stream ended after ", available, " of ",
                       kFrameHeaderSize, " header bytes"));
    }
    const uint32_t length = LoadBigEndian32(buffer_.get() + offset);
    if (absl::Status status = CheckBodyLength(length, max_body_size_);
        !status.ok()) {
      return status;
    }
    if (available - kFrameHeaderSize < length) {
      return MakeProtocolError(
          ProtocolError::kTruncatedFrame,
          absl::StrCat("stream ended after ", available - kFrameHeaderSize,
                       " of ", length, " body bytes"));
    }
    offset += kFrameHeaderSize + length;
  }
}

void FrameDecoder::MakeRoom(size_t min_bytes) {
  if (capacity_ - write_ >= min_bytes) return;
  const size_t live = write_ - read_;
  // Compact only when it moves at most half the buffer: otherwise a large
  // partial frame would be moved again and again for little room each time,
  // and growing (which copies it once more, then never) is cheaper.
  if (live <= capacity_ / 2 && live + min_bytes <= capacity_) {
    std::memmove(buffer_.get(), buffer_.get() + read_, live);
  } else {
    const size_t new_capacity =
        std::max({capacity_ * 2, live + min_bytes, min_capacity_});
    std::unique_ptr<char[]> grown =
        std::make_unique_for_overwrite<char[]>(new_capacity);
    if (live > 0) std::memcpy(grown.get(), buffer_.get() + read_, live);
    buffer_ = std::move(grown);
    capacity_ = new_capacity;
  }
  read_ = 0;
  write_ = live;
}

}  // namespace asyncwork::framing
