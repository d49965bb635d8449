#include "clients/work_plan.h"

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "absl/status/statusor.h"
#include "net/check.h"

namespace asyncwork::clients {
namespace {

// kOffsets is how many different starting points the data block offers; a
// prime, so the offset pattern does not line up with power-of-two sizes.
constexpr uint64_t kOffsets = 251;

SendSchedule MakeSchedule(double rate, absl::Time start) {
  if (rate == 0) return SendSchedule::ClosedLoop();
  absl::StatusOr<SendSchedule> paced = SendSchedule::Paced(rate, start);
  ASYNCWORK_CHECK(paced.ok()) << paced.status();
  return *paced;
}

// MakeBlock draws the data block from the seed with std::mt19937_64, whose
// output the C++ standard fixes, so a seed means the same bytes everywhere.
std::string MakeBlock(size_t size, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::string block(size + kOffsets, '\0');
  for (size_t i = 0; i < block.size(); i += 8) {
    uint64_t word = engine();
    for (size_t b = 0; b < 8 && i + b < block.size(); ++b) {
      block[i + b] = static_cast<char>(word >> (8 * b));
    }
  }
  return block;
}

}  // namespace

WorkPlan::WorkPlan(const RunConfig& config, absl::Time start)
    : op_(config.op),
      arg_(config.arg),
      size_(config.size),
      requests_(config.duration == absl::ZeroDuration()
                    ? config.requests
                    : std::numeric_limits<uint64_t>::max()),
      deadline_(config.deadline),
      start_(start),
      end_(config.duration == absl::ZeroDuration() ? absl::InfiniteFuture()
                                                   : start + config.duration),
      schedule_(MakeSchedule(config.rate, start)),
      block_(MakeBlock(config.size, config.seed)) {}

bool WorkPlan::Done(absl::Time now) const {
  return taken_ >= requests_ || now >= end_ || NextSendTime() >= end_;
}

framing::RequestView WorkPlan::Request(uint64_t index) const {
  absl::string_view data(block_);
  return framing::RequestView{
      .id = index,
      .op = op_,
      .arg = arg_,
      .data = data.substr(index % kOffsets, size_),
  };
}

void WorkPlan::AppendRequestFrame(uint64_t index, std::string* out) const {
  framing::AppendRequestFrame(Request(index), out);
}

}  // namespace asyncwork::clients
