// A bounded, seeded stand-in for a fuzzing run: random inputs and mutations
// of valid frame streams go through the same entry point libFuzzer drives
// (frame_fuzzer.cc), whose oracles abort on any disagreement.
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "framing/frame.h"
#include "framing/fuzz_entry.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"

namespace asyncwork::framing {
namespace {

constexpr int kMaxInputs = 40000;
// A cap for slow (sanitizer) builds; the inputs are the same, only fewer.
constexpr absl::Duration kTimeBudget = absl::Seconds(2);

std::string RandomBytes(std::mt19937_64& rng, size_t size) {
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

// AppendRandomMessageFrame appends a request, a response, a short body or a
// raw frame, mostly well-formed, sometimes with odd fields.
void AppendRandomMessageFrame(std::mt19937_64& rng, std::string* stream) {
  const std::string data = RandomBytes(rng, rng() % 3 == 0 ? rng() % 300
                                                           : rng() % 20);
  const uint32_t arg = rng() % 4 == 0 ? static_cast<uint32_t>(rng())
                                      : static_cast<uint32_t>(rng() % 5);
  switch (rng() % 4) {
    case 0:
      AppendRequestFrame({.id = rng(),
                          .op = static_cast<Op>(rng() % 6),
                          .arg = arg,
                          .data = data,
                          .flags = static_cast<uint8_t>(rng() % 8 == 0),
                          .reserved = static_cast<uint16_t>(rng() % 8 == 0)},
                         stream);
      break;
    case 1:
      AppendResponseFrame({.id = rng(),
                           .op = static_cast<Op>(rng() % 6),
                           .status = static_cast<ResponseStatus>(rng() % 4),
                           .arg = arg,
                           .result = data},
                          stream);
      break;
    case 2:
      AppendFrame(data.substr(0, rng() % kMessageHeaderSize), stream);
      break;
    default:
      AppendFrame(data, stream);
      break;
  }
}

void Mutate(std::mt19937_64& rng, std::string* input) {
  if (input->empty()) return;
  const size_t at = rng() % input->size();
  switch (rng() % 6) {
    case 0:
      (*input)[at] = static_cast<char>((*input)[at] ^ (1 << (rng() % 8)));
      break;
    case 1:
      (*input)[at] = static_cast<char>(rng());
      break;
    case 2:
      input->resize(at);
      break;
    case 3:
      input->insert(at, RandomBytes(rng, 1 + rng() % 8));
      break;
    case 4:
      input->erase(at, 1 + rng() % 8);
      break;
    default: {
      // A length field claiming far more than any maximum allows.
      char huge[kFrameHeaderSize];
      EncodeFrameHeader(kDefaultMaxBodySize + 1 + rng() % 1000, huge);
      input->replace(at, std::min<size_t>(4, input->size() - at), huge, 4);
      break;
    }
  }
}

std::string RandomInput(std::mt19937_64& rng) {
  if (rng() % 8 == 0) return RandomBytes(rng, rng() % 600);
  std::string input(1, static_cast<char>(rng()));  // the config byte
  const int frames = static_cast<int>(rng() % 8);
  for (int i = 0; i < frames; ++i) AppendRandomMessageFrame(rng, &input);
  const int mutations = static_cast<int>(rng() % 4);
  for (int i = 0; i < mutations; ++i) Mutate(rng, &input);
  return input;
}

TEST(FuzzFrameAndMessages, SeededInputsReachEveryPathWithoutAFailedCheck) {
  std::mt19937_64 rng(20240601);
  FuzzCounts counts;
  const absl::Time deadline = absl::Now() + kTimeBudget;
  int inputs = 0;
  while (inputs < kMaxInputs && absl::Now() < deadline) {
    const std::string input = RandomInput(rng);
    FuzzFrameAndMessages(reinterpret_cast<const uint8_t*>(input.data()),
                         input.size(), &counts);
    ++inputs;
  }
  EXPECT_GE(inputs, 1000);
  EXPECT_GT(counts.frames, 0u);
  EXPECT_GT(counts.too_large, 0u);
  EXPECT_GT(counts.truncated, 0u);
  EXPECT_GT(counts.short_bodies, 0u);
  EXPECT_GT(counts.requests_ok, 0u);
  EXPECT_GT(counts.requests_refused, 0u);
  EXPECT_GT(counts.responses, 0u);
  EXPECT_GT(counts.datagrams, 0u);
  std::printf("%d inputs: %zu frames, %zu too large, %zu truncated, %zu short,"
              " %zu requests ok, %zu refused, %zu responses, %zu datagrams\n",
              inputs, counts.frames, counts.too_large, counts.truncated,
              counts.short_bodies, counts.requests_ok, counts.requests_refused,
              counts.responses, counts.datagrams);
}

TEST(FuzzFrameAndMessages, AcceptsEmptyAndTinyInputs) {
  FuzzCounts counts;
  const uint8_t bytes[] = {0, 0, 0, 0, 0};
  for (size_t size = 0; size <= sizeof(bytes); ++size) {
    FuzzFrameAndMessages(bytes, size, &counts);
  }
  // The last input is the config byte then one empty frame.
  EXPECT_EQ(counts.frames, 1u);
  EXPECT_EQ(counts.short_bodies, 1u);
  EXPECT_EQ(counts.truncated, 3u);
}

}  // namespace
}  // namespace asyncwork::framing
