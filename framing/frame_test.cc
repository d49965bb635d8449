#include "framing/frame.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "framing/protocol_error.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace asyncwork::framing {
namespace {

using ::testing::ElementsAre;

std::string Frame(absl::string_view body) {
  std::string out;
  AppendFrame(body, &out);
  return out;
}

std::string Header(uint32_t length) {
  std::string header(kFrameHeaderSize, '\0');
  EncodeFrameHeader(length, header.data());
  return header;
}

// Drain returns every complete body the decoder holds, copied, and expects
// no error.
std::vector<std::string> Drain(FrameDecoder& decoder) {
  std::vector<std::string> bodies;
  while (true) {
    absl::StatusOr<std::optional<absl::string_view>> next = decoder.Next();
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok() || !next->has_value()) return bodies;
    bodies.emplace_back(**next);
  }
}

// RandomBody returns a body whose size is mostly small, sometimes a few
// kilobytes and rarely larger than a typical read.
std::string RandomBody(std::mt19937_64& rng) {
  const uint64_t pick = rng() % 100;
  size_t size;
  if (pick < 80) {
    size = rng() % 100;
  } else if (pick < 98) {
    size = rng() % 5000;
  } else {
    size = rng() % 100000;
  }
  std::string body(size, '\0');
  for (char& c : body) c = static_cast<char>(rng());
  return body;
}

TEST(AppendFrame, WritesBigEndianLengthThenBody) {
  EXPECT_EQ(Frame("abc"), absl::string_view("\0\0\0\3abc", 7));
  EXPECT_EQ(Frame(""), absl::string_view("\0\0\0\0", 4));
  const std::string body(0x010203, 'x');
  const std::string frame = Frame(body);
  EXPECT_EQ(frame.substr(0, 4), absl::string_view("\0\1\2\3", 4));
  EXPECT_EQ(frame.substr(4), body);
}

TEST(AppendFrame, AppendsAfterExistingBytes) {
  std::string out = "prefix";
  AppendFrame("ab", &out);
  AppendFrame("c", &out);
  EXPECT_EQ(out, absl::string_view("prefix\0\0\0\2ab\0\0\0\1c", 17));
}

TEST(BeginFrame, FinishFrameWritesTheLengthOfWhatWasAppended) {
  std::string out = "xy";
  const size_t frame = BeginFrame(&out);
  EXPECT_EQ(frame, 2u);
  out.append("hello");
  out.append(" world");
  FinishFrame(frame, &out);
  EXPECT_EQ(out, "xy" + Frame("hello world"));
}

TEST(CheckBodyLength, AllowsExactlyTheMaximum) {
  EXPECT_TRUE(CheckBodyLength(100, 100).ok());
  absl::Status status = CheckBodyLength(101, 100);
  EXPECT_EQ(GetProtocolError(status), ProtocolError::kFrameTooLarge);
  EXPECT_EQ(status.message(), "frame too large (101 > 100)");
}

TEST(FrameDecoder, NeedsMoreBytesWhenEmpty) {
  FrameDecoder decoder;
  absl::StatusOr<std::optional<absl::string_view>> next = decoder.Next();
  ASSERT_TRUE(next.ok());
  EXPECT_FALSE(next->has_value());
  EXPECT_FALSE(decoder.MidFrame());
  EXPECT_TRUE(decoder.CheckEndOfStream().ok());
}

TEST(FrameDecoder, DecodesManyFramesFromOneAppend) {
  FrameDecoder decoder;
  decoder.Append(Frame("one") + Frame("") + Frame("three"));
  EXPECT_THAT(Drain(decoder), ElementsAre("one", "", "three"));
  EXPECT_FALSE(decoder.MidFrame());
}

TEST(FrameDecoder, DecodesOneFrameFedByteByByte) {
  const std::string wire = Frame("split everywhere");
  FrameDecoder decoder;
  for (size_t i = 0; i + 1 < wire.size(); ++i) {
    decoder.Append(wire.substr(i, 1));
    EXPECT_TRUE(Drain(decoder).empty()) << "after " << i + 1 << " bytes";
    EXPECT_TRUE(decoder.MidFrame());
  }
  decoder.Append(wire.substr(wire.size() - 1));
  EXPECT_THAT(Drain(decoder), ElementsAre("split everywhere"));
  EXPECT_FALSE(decoder.MidFrame());
}

TEST(FrameDecoder, ReadsStraightIntoItsBuffer) {
  FrameDecoder decoder;
  absl::Span<char> room = decoder.PrepareAppend(10);
  ASSERT_GE(room.size(), 10u);
  const std::string wire = Frame("abcdef");
  std::memcpy(room.data(), wire.data(), wire.size());
  decoder.CommitAppend(wire.size());
  absl::StatusOr<std::optional<absl::string_view>> next = decoder.Next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ(**next, "abcdef");
  // The body is a view into the span that was read into, not a copy.
  EXPECT_EQ((*next)->data(), room.data() + kFrameHeaderSize);
}

TEST(FrameDecoder, ViewsFromOneReadStayValidTogether) {
  std::vector<std::string> bodies;
  std::string wire;
  for (int i = 0; i < 500; ++i) {
    bodies.push_back(std::string(i % 37, static_cast<char>('a' + i % 26)));
    AppendFrame(bodies.back(), &wire);
  }
  FrameDecoder decoder;
  decoder.Append(wire);
  // Next() never moves bytes, so every view handed out for this read is
  // still intact after the last one.
  std::vector<absl::string_view> views;
  while (true) {
    absl::StatusOr<std::optional<absl::string_view>> next = decoder.Next();
    ASSERT_TRUE(next.ok());
    if (!next->has_value()) break;
    views.push_back(**next);
  }
  ASSERT_EQ(views.size(), bodies.size());
  for (size_t i = 0; i < views.size(); ++i) EXPECT_EQ(views[i], bodies[i]);
}

TEST(FrameDecoder, PrepareAppendGivesAtLeastWhatIsAsked) {
  FrameDecoder decoder;
  for (size_t min_bytes : {1u, 100u, 5000u, 70000u, 3u}) {
    absl::Span<char> room = decoder.PrepareAppend(min_bytes);
    EXPECT_GE(room.size(), min_bytes);
    decoder.CommitAppend(1);
  }
  EXPECT_EQ(decoder.buffered_bytes(), 5u);
}

TEST(FrameDecoder, RandomFramesSplitAnywhereDecodeToTheSameFrames) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    std::mt19937_64 rng(seed);
    // A tiny first buffer makes growth and compaction happen all the time.
    const size_t min_capacity = seed % 3 == 0 ? 4096 : seed % 3 == 1 ? 1 : 100;
    std::vector<std::string> sent(1 + rng() % 150);
    std::string wire;
    for (std::string& body : sent) {
      body = RandomBody(rng);
      AppendFrame(body, &wire);
    }
    FrameDecoder decoder({.min_capacity = min_capacity});
    std::vector<std::string> received;
    size_t pos = 0;
    while (pos < wire.size()) {
      static constexpr size_t kChunkLimits[] = {5, 300, 4096, 100000};
      const size_t limit = kChunkLimits[rng() % std::size(kChunkLimits)];
      size_t chunk = std::min<size_t>(1 + rng() % limit, wire.size() - pos);
      if (rng() % 2 == 0) {
        decoder.Append(absl::string_view(wire).substr(pos, chunk));
      } else {
        absl::Span<char> room = decoder.PrepareAppend(1 + rng() % chunk);
        chunk = std::min(chunk, room.size());
        std::memcpy(room.data(), wire.data() + pos, chunk);
        decoder.CommitAppend(chunk);
      }
      pos += chunk;
      for (std::string& body : Drain(decoder)) {
        received.push_back(std::move(body));
      }
    }
    ASSERT_EQ(received.size(), sent.size()) << "seed " << seed;
    for (size_t i = 0; i < sent.size(); ++i) {
      ASSERT_EQ(received[i], sent[i]) << "seed " << seed << " frame " << i;
    }
    EXPECT_FALSE(decoder.MidFrame());
    EXPECT_TRUE(decoder.CheckEndOfStream().ok());
  }
}

TEST(FrameDecoder, BufferStaysNearTheLargestFrame) {
  const std::string body(64 * 1024, 'z');
  std::string wire;
  for (int i = 0; i < 64; ++i) AppendFrame(body, &wire);
  std::mt19937_64 rng(7);
  FrameDecoder decoder;
  size_t pos = 0;
  size_t frames = 0;
  while (pos < wire.size()) {
    absl::Span<char> room = decoder.PrepareAppend(16 * 1024);
    const size_t chunk =
        std::min({room.size(), wire.size() - pos, size_t{1 + rng() % 40000}});
    std::memcpy(room.data(), wire.data() + pos, chunk);
    decoder.CommitAppend(chunk);
    pos += chunk;
    frames += Drain(decoder).size();
  }
  EXPECT_EQ(frames, 64u);
  EXPECT_LE(decoder.capacity(), 4 * (body.size() + 16 * 1024));
}

TEST(FrameDecoder, AcceptsABodyOfExactlyTheMaximum) {
  FrameDecoder decoder(/*max_body_size=*/100);
  decoder.Append(Frame(std::string(100, 'm')));
  EXPECT_THAT(Drain(decoder), ElementsAre(std::string(100, 'm')));
}

TEST(FrameDecoder, RejectsOversizeFromTheHeaderAlone) {
  for (uint32_t length : {uint32_t{kDefaultMaxBodySize + 1}, 20000000u,
                          UINT32_MAX}) {
    FrameDecoder decoder;
    decoder.Append(Header(length));
    const size_t capacity = decoder.capacity();
    absl::StatusOr<std::optional<absl::string_view>> next = decoder.Next();
    ASSERT_FALSE(next.ok()) << length;
    EXPECT_EQ(GetProtocolError(next.status()), ProtocolError::kFrameTooLarge);
    // Nothing was allocated for the body it announced.
    EXPECT_EQ(decoder.capacity(), capacity);
    EXPECT_LT(decoder.capacity(), size_t{length});
  }
  FrameDecoder decoder;
  decoder.Append(Header(20000000));
  EXPECT_EQ(decoder.Next().status().message(),
            "frame too large (20000000 > 16777216)");
}

TEST(FrameDecoder, RejectsOversizeAfterGoodFramesAndStaysFailed) {
  FrameDecoder decoder(/*max_body_size=*/10);
  decoder.Append(Frame("ok") + Frame("0123456789A") + Frame("later"));
  absl::StatusOr<std::optional<absl::string_view>> first = decoder.Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ(**first, "ok");
  for (int i = 0; i < 3; ++i) {
    decoder.Append(Frame("more"));
    absl::StatusOr<std::optional<absl::string_view>> next = decoder.Next();
    ASSERT_FALSE(next.ok());
    EXPECT_EQ(GetProtocolError(next.status()), ProtocolError::kFrameTooLarge);
    EXPECT_EQ(next.status().message(), "frame too large (11 > 10)");
  }
  EXPECT_TRUE(decoder.failed());
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  EXPECT_EQ(GetProtocolError(decoder.CheckEndOfStream()),
            ProtocolError::kFrameTooLarge);
}

TEST(FrameDecoder, EveryTruncationIsATruncatedFrame) {
  const std::vector<std::string> bodies = {"first", "", "third body"};
  std::string wire;
  std::vector<size_t> boundaries = {0};
  for (const std::string& body : bodies) {
    AppendFrame(body, &wire);
    boundaries.push_back(wire.size());
  }
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    FrameDecoder decoder;
    decoder.Append(absl::string_view(wire).substr(0, cut));
    const size_t whole = std::upper_bound(boundaries.begin(), boundaries.end(),
                                          cut) -
                         boundaries.begin() - 1;
    std::vector<std::string> got = Drain(decoder);
    EXPECT_EQ(got, std::vector<std::string>(bodies.begin(),
                                            bodies.begin() + whole))
        << "cut " << cut;
    const bool on_boundary = boundaries[whole] == cut;
    EXPECT_EQ(decoder.MidFrame(), !on_boundary) << "cut " << cut;
    absl::Status end = decoder.CheckEndOfStream();
    if (on_boundary) {
      EXPECT_TRUE(end.ok()) << "cut " << cut << ": " << end;
    } else {
      EXPECT_EQ(GetProtocolError(end), ProtocolError::kTruncatedFrame)
          << "cut " << cut << ": " << end;
    }
  }
}

TEST(FrameDecoder, TruncationSaysHowFarTheFrameGot) {
  FrameDecoder header_only;
  header_only.Append(absl::string_view("\0\0", 2));
  EXPECT_EQ(header_only.CheckEndOfStream().message(),
            "truncated frame (stream ended after 2 of 4 header bytes)");
  FrameDecoder part_body;
  part_body.Append(Frame("0123456789").substr(0, 7));
  EXPECT_EQ(part_body.CheckEndOfStream().message(),
            "truncated frame (stream ended after 3 of 10 body bytes)");
}

TEST(FrameDecoder, CheckEndOfStreamLooksPastUndrainedFrames) {
  FrameDecoder whole;
  whole.Append(Frame("a") + Frame("b"));
  EXPECT_TRUE(whole.CheckEndOfStream().ok());
  FrameDecoder cut;
  cut.Append(Frame("a") + Frame("bc").substr(0, 5));
  EXPECT_EQ(GetProtocolError(cut.CheckEndOfStream()),
            ProtocolError::kTruncatedFrame);
  FrameDecoder oversize(/*max_body_size=*/4);
  oversize.Append(Frame("a") + Header(5));
  EXPECT_EQ(GetProtocolError(oversize.CheckEndOfStream()),
            ProtocolError::kFrameTooLarge);
}

TEST(FrameDecoder, MoveKeepsBufferedBytes) {
  FrameDecoder original;
  const std::string wire = Frame("moved") + Frame("along");
  original.Append(wire.substr(0, 7));
  FrameDecoder moved(std::move(original));
  moved.Append(wire.substr(7));
  EXPECT_THAT(Drain(moved), ElementsAre("moved", "along"));
  FrameDecoder assigned;
  assigned = std::move(moved);
  assigned.Append(Frame("again"));
  EXPECT_THAT(Drain(assigned), ElementsAre("again"));
}

TEST(FrameDecoderDeathTest, CommitPastPreparedRoomAborts) {
  FrameDecoder decoder;
  absl::Span<char> room = decoder.PrepareAppend(8);
  EXPECT_DEATH(decoder.CommitAppend(room.size() + 1),
               "CommitAppend past PrepareAppend's span");
}

}  // namespace
}  // namespace asyncwork::framing
