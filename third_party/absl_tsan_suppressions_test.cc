// The race ThreadSanitizer would report, without our suppressions, whenever
// a status that carries a payload is shared between threads: the last
// thread to let go deletes it inside libabsl_status, ordered after the other
// thread's reads only by Abseil's own reference count, which the
// uninstrumented library hides from TSan. Outside a TSan build it runs the
// same steps and checks their result.
#include <atomic>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/types/optional.h"
#include "gtest/gtest.h"

namespace asyncwork::third_party {
namespace {

constexpr char kTypeUrl[] = "asyncwork.test/payload";

TEST(AbslTsanSuppressions, AStatusSharedAcrossThreadsIsNotAReportedRace) {
  // Handed over through a thread's start, which TSan does see: the copy and
  // the original share one reference-counted representation.
  absl::Status original = absl::InternalError("shared");
  original.SetPayload(kTypeUrl, absl::Cord("payload"));
  std::optional<absl::Status> copy = original;

  // Relaxed on purpose: TSan treats a relaxed atomic as no synchronisation,
  // which leaves the reference count as the only order between the reader
  // dropping its copy and the other thread deleting the representation.
  std::atomic<bool> reader_done{false};
  std::thread last_owner([&original, &reader_done] {
    for (int spins = 0; !reader_done.load(std::memory_order_relaxed); ++spins) {
      ASSERT_LT(spins, 100'000'000) << "the reader never finished";
      std::this_thread::yield();
    }
    original = absl::OkStatus();  // the last reference: deletes it
  });

  absl::optional<absl::Cord> payload = copy->GetPayload(kTypeUrl);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ(std::string(*payload), "payload");
  copy.reset();
  reader_done.store(true, std::memory_order_relaxed);
  last_owner.join();
  EXPECT_TRUE(original.ok());
}

}  // namespace
}  // namespace asyncwork::third_party
