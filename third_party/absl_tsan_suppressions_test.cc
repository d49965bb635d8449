// The race ThreadSanitizer would report, without our suppressions, whenever
// a status that carries a payload is shared between threads: the last
// thread to let go deletes it inside libabsl_status, ordered after the other
// thread's reads only by Abseil's own reference count, which the
// uninstrumented library hides from TSan. Outside a TSan build it runs the
// same steps and checks their result.
#include <atomic>
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
  // Handed over through the thread's start, which TSan does see: both
  // copies share one reference-counted representation.
  absl::Status mine = absl::InternalError("shared");
  mine.SetPayload(kTypeUrl, absl::Cord("payload"));
  absl::Status theirs = mine;

  // Relaxed on purpose: TSan treats a relaxed atomic as no synchronisation,
  // which leaves Abseil's reference count as the only order between this
  // thread letting go and the other deleting the representation.
  std::atomic<bool> done_here{false};
  std::thread last_owner([&theirs, &done_here] {
    for (int spins = 0; !done_here.load(std::memory_order_relaxed); ++spins) {
      ASSERT_LT(spins, 100'000'000) << "the main thread never let go";
      std::this_thread::yield();
    }
    // The last reference: frees the payload inside libabsl_status, then the
    // representation itself through a tail call that leaves no frame there.
    theirs = absl::OkStatus();
  });

  {
    // A copy taken now is an atomic increment in our code; reading the
    // payload compares its type inside libabsl_status. Both race with the
    // other thread's frees as far as TSan can tell.
    absl::Status another = mine;
    absl::optional<absl::Cord> payload = another.GetPayload(kTypeUrl);
    ASSERT_TRUE(payload.has_value());
    EXPECT_EQ(std::string(*payload), "payload");
  }
  mine = absl::OkStatus();
  done_here.store(true, std::memory_order_relaxed);
  last_owner.join();
  EXPECT_TRUE(theirs.ok());
}

}  // namespace
}  // namespace asyncwork::third_party
