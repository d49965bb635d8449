// A bounded, seeded stand-in for a fuzzing run of request_fuzzer.cc: the
// seed corpus, then random streams of mostly well-formed requests with the
// faults a client can send, go through the same entry point, whose oracles
// abort on any disagreement.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "framing/frame.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"
#include "server/fuzz_entry.h"

namespace asyncwork::server {
namespace {

constexpr char kCorpus[] = "server/testdata/request_fuzzer_corpus";
constexpr int kMaxInputs = 5000;
// A cap for slow (sanitizer) builds; the inputs are the same, only fewer.
constexpr absl::Duration kTimeBudget = absl::Seconds(2);

void Serve(const std::string& input, RequestFuzzCounts* counts) {
  FuzzRequestHandling(reinterpret_cast<const uint8_t*>(input.data()),
                      input.size(), counts);
}

std::string RandomBytes(std::mt19937_64& rng, size_t size) {
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

// AppendRandomRequest appends one request, nearly always well-formed (any
// op, including unknown ones; arguments the fuzz entry caps), sometimes
// with flags or reserved bits a server refuses.
void AppendRandomRequest(std::mt19937_64& rng, std::string* stream) {
  const std::string data = RandomBytes(rng, rng() % 4 == 0 ? rng() % 400
                                                           : rng() % 24);
  framing::AppendRequestFrame(
      {.id = rng(),
       .op = static_cast<framing::Op>(rng() % 5),
       .arg = static_cast<uint32_t>(rng()),
       .data = data,
       .flags = static_cast<uint8_t>(rng() % 16 == 0),
       .reserved = static_cast<uint16_t>(rng() % 16 == 0)},
      stream);
}

// RandomStream is a config byte, then requests, then now and then one of
// a client's faults: a short body, an oversize length, or a cut.
std::string RandomStream(std::mt19937_64& rng) {
  std::string input(1, static_cast<char>(rng()));
  const int requests = static_cast<int>(rng() % 10);
  for (int i = 0; i < requests; ++i) AppendRandomRequest(rng, &input);
  switch (rng() % 8) {
    case 0:
      framing::AppendFrame(RandomBytes(rng, rng() % framing::kMessageHeaderSize),
                           &input);
      AppendRandomRequest(rng, &input);
      break;
    case 1: {
      char huge[framing::kFrameHeaderSize];
      framing::EncodeFrameHeader(framing::kDefaultMaxBodySize + 1, huge);
      input.append(huge, sizeof(huge));
      break;
    }
    case 2:
      input.resize(1 + rng() % input.size());
      break;
    default:
      break;
  }
  return input;
}

std::vector<std::string> ReadCorpus() {
  std::vector<std::string> inputs;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus)) {
    std::ifstream file(entry.path(), std::ios::binary);
    inputs.emplace_back(std::istreambuf_iterator<char>(file),
                        std::istreambuf_iterator<char>());
  }
  return inputs;
}

void ExpectEveryPathReached(const RequestFuzzCounts& counts) {
  EXPECT_GT(counts.streams_clean, 0u);
  EXPECT_GT(counts.streams_short_body, 0u);
  EXPECT_GT(counts.streams_too_large, 0u);
  EXPECT_GT(counts.streams_truncated, 0u);
  EXPECT_GT(counts.streams_drained, 0u);
  EXPECT_GT(counts.stream_answers, 0u);
  EXPECT_GT(counts.sleeps, 0u);
  EXPECT_GT(counts.epoll_streams, 0u);
  EXPECT_GT(counts.epoll_answers, 0u);
  EXPECT_GT(counts.datagram_answers, 0u);
  EXPECT_GT(counts.datagrams_refused, 0u);
}

TEST(FuzzRequestHandling, SeedCorpusReachesEveryPathWithoutAFailedCheck) {
  const std::vector<std::string> corpus = ReadCorpus();
  ASSERT_GE(corpus.size(), 6u);
  RequestFuzzCounts counts;
  for (const std::string& input : corpus) Serve(input, &counts);
  ExpectEveryPathReached(counts);
}

TEST(FuzzRequestHandling, SeededStreamsReachEveryPathWithoutAFailedCheck) {
  std::mt19937_64 rng(20240602);
  RequestFuzzCounts counts;
  const absl::Time deadline = absl::Now() + kTimeBudget;
  int inputs = 0;
  while (inputs < kMaxInputs && absl::Now() < deadline) {
    Serve(RandomStream(rng), &counts);
    ++inputs;
  }
  EXPECT_GE(inputs, 100);
  ExpectEveryPathReached(counts);
  std::printf("%d inputs: %zu clean, %zu short body, %zu too large, "
              "%zu truncated, %zu drained; %zu answers (%zu sleeps); "
              "epoll: %zu streams, %zu answers; %zu resets; "
              "%zu datagrams answered, %zu refused\n",
              inputs, counts.streams_clean, counts.streams_short_body,
              counts.streams_too_large, counts.streams_truncated,
              counts.streams_drained, counts.stream_answers, counts.sleeps,
              counts.epoll_streams, counts.epoll_answers, counts.resets,
              counts.datagram_answers, counts.datagrams_refused);
}

TEST(FuzzRequestHandling, AcceptsEmptyAndTinyInputs) {
  RequestFuzzCounts counts;
  const uint8_t bytes[] = {0, 0, 0, 0, 0};
  for (size_t size = 0; size <= sizeof(bytes); ++size) {
    FuzzRequestHandling(bytes, size, &counts);
  }
  // Sizes 1 to 4 are clean or cut streams; 5 holds one empty frame, a short
  // body, which is also refused as a datagram (twice: the frame and the
  // whole input); every input is refused as a datagram at least once.
  EXPECT_EQ(counts.streams_clean, 1u);
  EXPECT_EQ(counts.streams_truncated, 3u);
  EXPECT_EQ(counts.streams_short_body, 1u);
  EXPECT_EQ(counts.stream_answers, 0u);
  EXPECT_EQ(counts.datagram_answers, 0u);
  EXPECT_EQ(counts.datagrams_refused, 6u);
  EXPECT_EQ(counts.epoll_streams, 5u);
  EXPECT_EQ(counts.epoll_answers, 0u);
}

TEST(FuzzRequestHandling, ServerThatStopsReadingEarlyMayResetTheClient) {
  // An oversize length first: both servers close with most of the input
  // unread, which resets a Unix stream client; that is allowed only after
  // a malformed stream, and the input must still count as too large.
  std::string input(1, '\0');
  char huge[framing::kFrameHeaderSize];
  framing::EncodeFrameHeader(framing::kDefaultMaxBodySize + 1, huge);
  input.append(huge, sizeof(huge));
  input.append(kMaxFuzzStreamBytes - input.size() + 1, 'x');
  RequestFuzzCounts counts;
  Serve(input, &counts);
  EXPECT_EQ(counts.streams_too_large, 1u);
  EXPECT_EQ(counts.epoll_streams, 1u);
  EXPECT_GE(counts.resets, 1u);
  EXPECT_EQ(counts.stream_answers + counts.epoll_answers, 0u);
}

}  // namespace
}  // namespace asyncwork::server
