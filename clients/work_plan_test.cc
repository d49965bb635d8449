#include "clients/work_plan.h"

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients/run_config.h"
#include "framing/frame.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"

namespace asyncwork::clients {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1000);

RunConfig Config() {
  RunConfig config;
  config.requests = 5;
  config.op = framing::Op::kHash;
  config.size = 40;
  config.arg = 3;
  config.seed = 9;
  return config;
}

TEST(WorkPlan, HandsOutEachRequestOnceThenIsDone) {
  WorkPlan plan(Config(), kStart);
  for (uint64_t i = 0; i < 5; ++i) {
    ASSERT_FALSE(plan.Done(kStart));
    EXPECT_EQ(plan.Take(), i);
  }
  EXPECT_TRUE(plan.Done(kStart));
  EXPECT_EQ(plan.taken(), 5u);
}

TEST(WorkPlan, RequestsCarryTheConfiguredFieldsAndTheirIndexAsId) {
  WorkPlan plan(Config(), kStart);
  framing::RequestView request = plan.Request(3);
  EXPECT_EQ(request.id, 3u);
  EXPECT_EQ(request.op, framing::Op::kHash);
  EXPECT_EQ(request.arg, 3u);
  EXPECT_EQ(request.data.size(), 40u);
}

TEST(WorkPlan, DataRepeatsForASeedAndDiffersAcrossSeedsAndRequests) {
  RunConfig config = Config();
  WorkPlan a(config, kStart);
  WorkPlan b(config, kStart);
  config.seed = 10;
  WorkPlan c(config, kStart);
  EXPECT_EQ(a.Request(2).data, b.Request(2).data);
  EXPECT_NE(a.Request(2).data, c.Request(2).data);
  EXPECT_NE(a.Request(2).data, a.Request(3).data);
}

TEST(WorkPlan, AppendsTheFrameOfTheRequest) {
  WorkPlan plan(Config(), kStart);
  std::string wire;
  plan.AppendRequestFrame(4, &wire);
  framing::FrameDecoder decoder;
  decoder.Append(wire);
  absl::StatusOr<std::optional<absl::string_view>> body = decoder.Next();
  ASSERT_TRUE(body.ok() && body->has_value());
  absl::StatusOr<framing::RequestView> parsed = framing::ParseRequest(**body);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, plan.Request(4));
}

TEST(WorkPlan, ADurationRunIsDoneWhenItsTimeIsUpNotByCount) {
  RunConfig config = Config();
  config.requests = 0;
  config.duration = absl::Seconds(2);
  WorkPlan plan(config, kStart);
  for (int i = 0; i < 100; ++i) plan.Take();
  EXPECT_FALSE(plan.Done(kStart + absl::Seconds(1)));
  EXPECT_TRUE(plan.Done(kStart + absl::Seconds(2)));
}

TEST(WorkPlan, PacedRequestsAreDueAtTheirIntendedTimes) {
  RunConfig config = Config();
  config.rate = 10;
  WorkPlan plan(config, kStart);
  EXPECT_EQ(plan.NextSendTime(), kStart);
  plan.Take();
  EXPECT_EQ(plan.NextSendTime(), kStart + absl::Milliseconds(100));
  // However late the slot frees, the latency counts from the schedule.
  EXPECT_EQ(plan.DueAt(1, kStart + absl::Seconds(5)),
            kStart + absl::Milliseconds(100));
}

TEST(WorkPlan, ClosedLoopRequestsAreDueWhenTheirSlotFrees) {
  WorkPlan plan(Config(), kStart);
  EXPECT_EQ(plan.NextSendTime(), absl::InfinitePast());
  absl::Time freed = kStart + absl::Milliseconds(7);
  EXPECT_EQ(plan.DueAt(1, freed), freed);
}

TEST(WorkPlan, APacedDurationRunStopsAtTheLastSendBeforeTheEnd) {
  RunConfig config = Config();
  config.requests = 0;
  config.duration = absl::Milliseconds(250);
  config.rate = 10;
  WorkPlan plan(config, kStart);
  int sent = 0;
  while (!plan.Done(kStart)) {
    plan.Take();
    ++sent;
  }
  EXPECT_EQ(sent, 3);  // due at 0, 100 and 200 ms
}

}  // namespace
}  // namespace asyncwork::clients
