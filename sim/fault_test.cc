#include "sim/fault.h"

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace asyncwork::sim {
namespace {

TEST(ParseFaultPlan, EmptyAndNoneAreTheEmptyPlan) {
  for (const char* spec : {"", "none", "  none "}) {
    absl::StatusOr<FaultPlan> plan = ParseFaultPlan(spec);
    ASSERT_TRUE(plan.ok()) << spec << ": " << plan.status();
    EXPECT_EQ(*plan, FaultPlan()) << spec;
    EXPECT_FALSE(HasFaults(*plan));
  }
}

TEST(ParseFaultPlan, ReadsEveryKey) {
  absl::StatusOr<FaultPlan> plan = ParseFaultPlan(
      "reset_after=4096, slice=3,connect_delay=50ms,every=7,"
      "direction=to_client");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->close_after_bytes.has_value());
  EXPECT_EQ(plan->reset_after_bytes, 4096u);
  EXPECT_FALSE(plan->stall_after_bytes.has_value());
  EXPECT_EQ(plan->slice_bytes, 3u);
  EXPECT_EQ(plan->connect_delay, absl::Milliseconds(50));
  EXPECT_EQ(plan->every_nth_connection, 7);
  EXPECT_EQ(plan->direction, FaultDirection::kToClient);
  EXPECT_TRUE(HasFaults(*plan));
  EXPECT_TRUE(HasByteFault(*plan));
}

TEST(ParseFaultPlan, ZeroBytesIsAFaultAtOnce) {
  absl::StatusOr<FaultPlan> plan = ParseFaultPlan("stall_after=0");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->stall_after_bytes, 0u);
  EXPECT_TRUE(HasByteFault(*plan));
}

TEST(ParseFaultPlan, RefusesBadPartsNamingThem) {
  struct Case {
    const char* spec;
    const char* expected;  // a piece of the message
  };
  for (const Case& c : {
           Case{"colse_after=1", "unknown key 'colse_after'"},
           Case{"slice=0", "slice must be at least 1"},
           Case{"every=0", "every must be at least 1"},
           Case{"close_after=-1", "'close_after=-1'"},
           Case{"close_after=4k", "close_after must be a whole number"},
           Case{"close_after", "expected key=value"},
           Case{"slice=1,slice=2", "slice given twice"},
           Case{"connect_delay=50", "'connect_delay=50'"},
           Case{"direction=up", "direction must be"},
           Case{"close_after=1,reset_after=2", "exclude each other"},
       }) {
    absl::StatusOr<FaultPlan> plan = ParseFaultPlan(c.spec);
    ASSERT_FALSE(plan.ok()) << c.spec;
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(plan.status().message().find(c.expected), std::string::npos)
        << c.spec << " -> " << plan.status().message();
  }
}

TEST(FaultPlanToString, RoundTrips) {
  for (const char* spec :
       {"none", "close_after=4096,every=3", "reset_after=0",
        "stall_after=100,direction=to_server", "slice=1",
        "connect_delay=1.5ms", "close_after=7,slice=2,connect_delay=2s,"
                               "every=5,direction=to_client"}) {
    absl::StatusOr<FaultPlan> plan = ParseFaultPlan(spec);
    ASSERT_TRUE(plan.ok()) << spec << ": " << plan.status();
    EXPECT_EQ(FaultPlanToString(*plan), spec);
    absl::StatusOr<FaultPlan> again = ParseFaultPlan(FaultPlanToString(*plan));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, *plan);
  }
}

TEST(ValidateFaultPlan, RefusesNegativeDelay) {
  FaultPlan plan;
  plan.connect_delay = absl::Milliseconds(-1);
  EXPECT_EQ(ValidateFaultPlan(plan).code(),
            absl::StatusCode::kInvalidArgument);
  plan.connect_delay = absl::InfiniteDuration();
  EXPECT_EQ(ValidateFaultPlan(plan).code(),
            absl::StatusCode::kInvalidArgument);
  plan.connect_delay = absl::Milliseconds(1);
  EXPECT_TRUE(ValidateFaultPlan(plan).ok());
}

TEST(FaultsConnection, PicksEveryNth) {
  FaultPlan plan;
  plan.close_after_bytes = 10;
  plan.every_nth_connection = 3;
  std::string picked;
  for (uint64_t n = 1; n <= 7; ++n) {
    picked += FaultsConnection(plan, n) ? 'F' : '.';
  }
  EXPECT_EQ(picked, "F..F..F");
  plan.every_nth_connection = 1;
  EXPECT_TRUE(FaultsConnection(plan, 1));
  EXPECT_FALSE(FaultsConnection(FaultPlan(), 1));
}

}  // namespace
}  // namespace asyncwork::sim
