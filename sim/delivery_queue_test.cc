#include "sim/delivery_queue.h"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace asyncwork::sim {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'000'000);

// Collects what PopDue hands over.
struct Sink {
  std::vector<std::pair<absl::Time, std::string>> got;
  void operator()(absl::Time due, std::string bytes) {
    got.emplace_back(due, std::move(bytes));
  }
};

TEST(DeliveryQueue, EmptyQueueIsNeverDue) {
  DeliveryQueue<std::string> queue;
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.NextDue(), absl::InfiniteFuture());
  Sink sink;
  EXPECT_EQ(queue.PopDue(absl::InfiniteFuture(), std::ref(sink)), 0u);
}

TEST(DeliveryQueue, DeliversOnlyWhatIsDueInTimeOrder) {
  DeliveryQueue<std::string> queue;
  queue.Push(kStart + absl::Milliseconds(3), "c");
  queue.Push(kStart + absl::Milliseconds(1), "a");
  queue.Push(kStart + absl::Milliseconds(2), "b");
  EXPECT_EQ(queue.NextDue(), kStart + absl::Milliseconds(1));
  Sink sink;
  EXPECT_EQ(queue.PopDue(kStart + absl::Milliseconds(2), std::ref(sink)), 2u);
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0].second, "a");
  EXPECT_EQ(sink.got[0].first, kStart + absl::Milliseconds(1));
  EXPECT_EQ(sink.got[1].second, "b");
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.NextDue(), kStart + absl::Milliseconds(3));
}

TEST(DeliveryQueue, SameDueTimeIsFirstInFirstOut) {
  DeliveryQueue<std::string> queue;
  for (int i = 0; i < 1000; ++i) {
    queue.Push(kStart + absl::Milliseconds(i / 100), std::to_string(i));
  }
  Sink sink;
  EXPECT_EQ(queue.PopDue(kStart + absl::Seconds(1), std::ref(sink)), 1000u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(sink.got[i].second, std::to_string(i));
  }
}

TEST(DeliveryQueue, PushFromTheCallbackWaitsForTheNextCall) {
  DeliveryQueue<std::string> queue;
  queue.Push(kStart, "first");
  queue.Push(kStart + absl::Milliseconds(1), "second");
  std::vector<std::string> got;
  auto deliver = [&](absl::Time due, std::string bytes) {
    got.push_back(bytes);
    // Already due, and earlier than "second": it must come before it, but
    // not in this call.
    if (bytes == "first") queue.Push(kStart, "echo");
  };
  EXPECT_EQ(queue.PopDue(kStart + absl::Seconds(1), deliver), 1u);
  EXPECT_EQ(got, std::vector<std::string>{"first"});
  EXPECT_EQ(queue.NextDue(), kStart);
  EXPECT_EQ(queue.PopDue(kStart + absl::Seconds(1), deliver), 2u);
  EXPECT_EQ(got, (std::vector<std::string>{"first", "echo", "second"}));
  EXPECT_TRUE(queue.empty());
}

TEST(DeliveryQueue, HoldsMoveOnlyPayloads) {
  DeliveryQueue<std::unique_ptr<int>> queue;
  queue.Push(kStart, std::make_unique<int>(7));
  int seen = 0;
  queue.PopDue(kStart, [&](absl::Time, std::unique_ptr<int> value) {
    seen = *value;
  });
  EXPECT_EQ(seen, 7);
}

}  // namespace
}  // namespace asyncwork::sim
