#include "net/check.h"

#include "gtest/gtest.h"

namespace asyncwork {
namespace {

TEST(Check, PassingConditionDoesNotEvaluateMessage) {
  int evaluated = 0;
  auto message = [&] {
    ++evaluated;
    return "never";
  };
  ASYNCWORK_CHECK(1 + 1 == 2) << message();
  EXPECT_EQ(evaluated, 0);
}

TEST(CheckDeathTest, FailingConditionAbortsWithMessage) {
  int value = 3;
  EXPECT_DEATH(ASYNCWORK_CHECK(value == 4) << "value was " << value,
               "check failed: value == 4: value was 3");
}

TEST(CheckDeathTest, FailingConditionWithoutMessageAborts) {
  int value = 3;
  EXPECT_DEATH(ASYNCWORK_CHECK(value == 4), "check failed: value == 4");
}

}  // namespace
}  // namespace asyncwork
