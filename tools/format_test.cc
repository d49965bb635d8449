#include "tools/format.h"

#include "gtest/gtest.h"

namespace asyncwork::tools {
namespace {

TEST(FormatShortDuration, PicksAReadableUnit) {
  EXPECT_EQ(FormatShortDuration(FractionalNanoseconds(7.984)), "7.984 ns");
  EXPECT_EQ(FormatShortDuration(FractionalNanoseconds(1234.5)), "1.234 us");
  EXPECT_EQ(FormatShortDuration(FractionalMicroseconds(2234.1)), "2.234 ms");
  EXPECT_EQ(FormatShortDuration(std::chrono::duration<double, std::milli>(209.46)), "209.5 ms");
  EXPECT_EQ(FormatShortDuration(std::chrono::seconds(3)), "3 s");
  EXPECT_EQ(FormatShortDuration(FractionalNanoseconds(0)), "0 ns");
  EXPECT_EQ(FormatShortDuration(FractionalNanoseconds(0.3856)), "0.3856 ns");
}

TEST(FormatSi, UsesPrefixesForLargeValues) {
  EXPECT_EQ(FormatSi(477.2, "/s"), "477.2/s");
  EXPECT_EQ(FormatSi(29140, "/s"), "29.14k/s");
  EXPECT_EQ(FormatSi(1.254e8, "/s"), "125.4M/s");
  EXPECT_EQ(FormatSi(8.023e9, "/s"), "8.023G/s");
  EXPECT_EQ(FormatSi(1e6), "1M");
  EXPECT_EQ(FormatSi(-2000), "-2k");
  EXPECT_EQ(FormatSi(0.25), "0.25");
}

}  // namespace
}  // namespace asyncwork::tools
