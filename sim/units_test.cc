#include "sim/units.h"

#include <cstdint>
#include <optional>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(asyncwork::sim::LatencyFlag, units_test_latency, {},
          "a latency flag for the tests");
ABSL_FLAG(asyncwork::sim::BandwidthFlag, units_test_bandwidth, {},
          "a bandwidth flag for the tests");

namespace asyncwork::sim {
namespace {

using ::testing::HasSubstr;

// A value a parser must refuse, and the reason its error must give.
struct Refusal {
  const char* text;
  const char* reason;
};

TEST(ParseLatency, AcceptsEveryUnit) {
  struct Case {
    const char* text;
    absl::Duration want;
  };
  const Case cases[] = {
      {"0", absl::ZeroDuration()},
      {"0ms", absl::ZeroDuration()},
      {"250us", absl::Microseconds(250)},
      {"50ms", absl::Milliseconds(50)},
      {"2s", absl::Seconds(2)},
      {"1.5ms", absl::Microseconds(1500)},
      {".5s", absl::Milliseconds(500)},
      {"7ns", absl::Nanoseconds(7)},
      {"0.0015s", absl::Microseconds(1500)},
      {"3600s", absl::Hours(1)},
      {"1.4ns", absl::Nanoseconds(1)},
      {"1.5ns", absl::Nanoseconds(2)},
      {"0.0014us", absl::Nanoseconds(1)},
  };
  for (const Case& c : cases) {
    absl::StatusOr<absl::Duration> got = ParseLatency("latency", c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.text;
  }
}

TEST(ParseLatency, RefusesBadValuesNamingFlagAndValue) {
  const Refusal cases[] = {
      {"-3ms", "a duration must not be negative"},
      {"50", "missing unit"},
      {"50 ms", "unknown unit ' ms'"},
      {"50min", "unknown unit 'min'"},
      {"50MS", "unknown unit 'MS'"},
      {"", "empty value"},
      {"ms", "expected a number"},
      {".ms", "expected a number"},
      {"+5ms", "expected a number"},
      {"1e3ms", "unknown unit 'e3ms'"},
      {"1.2.3ms", "unknown unit '.3ms'"},
      {"12345678901234567890s", "too many digits"},
      {"9999999999s", "out of range"},
  };
  for (const Refusal& c : cases) {
    absl::StatusOr<absl::Duration> got = ParseLatency("jitter", c.text);
    ASSERT_FALSE(got.ok()) << c.text << " parsed as " << *got;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(got.status().message()),
                HasSubstr(absl::StrCat("--jitter=", c.text, ": ", c.reason)));
  }
}

TEST(ParseBandwidth, AcceptsBitAndByteUnits) {
  constexpr uint64_t kMiB = 1024 * 1024;
  struct Case {
    const char* text;
    uint64_t want_bits;
  };
  const Case cases[] = {
      {"8000bit", 8000},
      {"512kbit", 512'000},
      {"10mbit", 10'000'000},
      {"10Mbit", 10'000'000},
      {"10mbit/s", 10'000'000},
      {"1.5mbit", 1'500'000},
      {"1gbit", 1'000'000'000},
      {"1B", 8},
      {"64KiB", 64 * 1024 * 8},
      {"1MiB/s", kMiB * 8},
      {"2GiB", 2 * 1024 * kMiB * 8},
      {"1KB", 8000},
      {"3MB", 24'000'000},
      {"1GB", 8'000'000'000},
      {"0.5bit", 1},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::optional<Bandwidth>> got =
        ParseBandwidth("bandwidth", c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
    ASSERT_TRUE(got->has_value()) << c.text;
    EXPECT_EQ((*got)->bits_per_second(), c.want_bits) << c.text;
  }
}

TEST(ParseBandwidth, UnlimitedMeansNoCap) {
  absl::StatusOr<std::optional<Bandwidth>> got =
      ParseBandwidth("bandwidth", "unlimited");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_FALSE(got->has_value());
}

TEST(ParseBandwidth, RefusesBadValuesNamingFlagAndValue) {
  const Refusal cases[] = {
      {"-3mbit", "bandwidth must be positive"},
      {"0", "bandwidth must be positive"},
      {"0mbit", "bandwidth must be positive"},
      {"0.0KiB", "bandwidth must be positive"},
      {"0.4bit", "bandwidth must be at least 1bit"},
      {"10", "missing unit"},
      {"10mbps", "unknown unit 'mbps'"},
      {"10kb", "unknown unit 'kb'"},
      {"10mbit/h", "unknown unit 'mbit/h'"},
      {"", "empty value"},
      {"fast", "expected a number"},
      {"Unlimited", "expected a number"},
      {"99999999999GiB", "out of range"},
  };
  for (const Refusal& c : cases) {
    absl::StatusOr<std::optional<Bandwidth>> got =
        ParseBandwidth("bandwidth", c.text);
    ASSERT_FALSE(got.ok()) << c.text;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(
        std::string(got.status().message()),
        HasSubstr(absl::StrCat("--bandwidth=", c.text, ": ", c.reason)));
  }
}

TEST(ParseProbability, AcceptsFractionsAndPercentages) {
  EXPECT_EQ(*ParseProbability("loss", "0"), 0.0);
  EXPECT_EQ(*ParseProbability("loss", "1"), 1.0);
  EXPECT_EQ(*ParseProbability("loss", "0.25"), 0.25);
  EXPECT_EQ(*ParseProbability("loss", "25%"), 0.25);
  EXPECT_EQ(*ParseProbability("loss", "100%"), 1.0);
  EXPECT_DOUBLE_EQ(*ParseProbability("loss", "0.1%"), 0.001);
}

TEST(ParseProbability, RefusesOutOfRangeNamingFlagAndValue) {
  for (const char* text : {"-0.1", "1.0000000001", "101%", "", "5x", "%"}) {
    absl::StatusOr<double> got = ParseProbability("loss", text);
    ASSERT_FALSE(got.ok()) << text << " parsed as " << *got;
    EXPECT_THAT(std::string(got.status().message()),
                HasSubstr(absl::StrCat("--loss=", text, ": ")));
  }
}

TEST(Bandwidth, TimeToSendRoundsUpToTheNanosecond) {
  // 8 mbit/s is one byte per microsecond: exact.
  EXPECT_EQ(Bandwidth::BitsPerSecond(8'000'000).TimeToSend(1500),
            absl::Microseconds(1500));
  // 3 bit/s: one byte takes 8/3 s = 2.666666666...s, rounded up.
  EXPECT_EQ(Bandwidth::BitsPerSecond(3).TimeToSend(1),
            absl::Nanoseconds(2'666'666'667));
  EXPECT_EQ(Bandwidth::BitsPerSecond(3).TimeToSend(3), absl::Seconds(8));
  EXPECT_EQ(Bandwidth::BytesPerSecond(1024).TimeToSend(0),
            absl::ZeroDuration());
  // A byte count whose bit-nanoseconds overflow 64 bits is still exact:
  // 2^40 bytes at 1 GiB/s is 1024 s.
  EXPECT_EQ(Bandwidth::BytesPerSecond(uint64_t{1} << 30)
                .TimeToSend(uint64_t{1} << 40),
            absl::Seconds(1024));
}

TEST(FormatLatency, WritesTheLargestWholeUnit) {
  EXPECT_EQ(FormatLatency(absl::ZeroDuration()), "0");
  EXPECT_EQ(FormatLatency(absl::Microseconds(250)), "250us");
  EXPECT_EQ(FormatLatency(absl::Microseconds(1500)), "1.5ms");
  EXPECT_EQ(FormatLatency(absl::Seconds(2)), "2s");
  EXPECT_EQ(FormatLatency(absl::Nanoseconds(999)), "999ns");
  EXPECT_EQ(FormatLatency(absl::Nanoseconds(1'000'000'001)), "1.000000001s");
  EXPECT_EQ(FormatLatency(-absl::Milliseconds(3)), "-3ms");
}

TEST(FormatLatency, RoundTripsThroughParseLatency) {
  for (int64_t nanos : {int64_t{1}, int64_t{12}, int64_t{1'000},
                        int64_t{1'234'567}, int64_t{50'000'000},
                        int64_t{86'400'000'000'001}}) {
    absl::Duration latency = absl::Nanoseconds(nanos);
    absl::StatusOr<absl::Duration> back =
        ParseLatency("latency", FormatLatency(latency));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, latency) << FormatLatency(latency);
  }
}

TEST(FormatBandwidth, WritesBitsOrWholeBinaryBytes) {
  EXPECT_EQ(FormatBandwidth(std::nullopt), "unlimited");
  EXPECT_EQ(FormatBandwidth(Bandwidth::BitsPerSecond(10'000'000)), "10mbit");
  EXPECT_EQ(FormatBandwidth(Bandwidth::BitsPerSecond(1'500'000)), "1.5mbit");
  EXPECT_EQ(FormatBandwidth(Bandwidth::BitsPerSecond(999)), "999bit");
  EXPECT_EQ(FormatBandwidth(Bandwidth::BytesPerSecond(1024 * 1024)),
            "1MiB/s");
  EXPECT_EQ(FormatBandwidth(Bandwidth::BytesPerSecond(64 * 1024)), "64KiB/s");
  // 1 KB/s is a whole number of kbit: the SI form wins.
  EXPECT_EQ(FormatBandwidth(Bandwidth::BytesPerSecond(1000)), "8kbit");
  EXPECT_EQ(FormatBandwidth(Bandwidth::BitsPerSecond(1'234'567'891)),
            "1.234567891gbit");
}

TEST(FormatBandwidth, RoundTripsThroughParseBandwidth) {
  for (uint64_t bits :
       {uint64_t{1}, uint64_t{8192}, uint64_t{10'000'000}, uint64_t{8'388'608},
        uint64_t{123'456'789}, uint64_t{8} << 40}) {
    Bandwidth bandwidth = Bandwidth::BitsPerSecond(bits);
    absl::StatusOr<std::optional<Bandwidth>> back =
        ParseBandwidth("bandwidth", FormatBandwidth(bandwidth));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, bandwidth) << FormatBandwidth(bandwidth);
  }
}

TEST(LatencyFlag, ParsesAndReportsTheFlagAndValue) {
  absl::CommandLineFlag* flag =
      absl::FindCommandLineFlag("units_test_latency");
  ASSERT_NE(flag, nullptr);
  std::string error;
  ASSERT_TRUE(flag->ParseFrom("1.5ms", &error)) << error;
  EXPECT_EQ(absl::GetFlag(FLAGS_units_test_latency).value(),
            absl::Microseconds(1500));
  EXPECT_EQ(flag->CurrentValue(), "1.5ms");

  EXPECT_FALSE(flag->ParseFrom("-2ms", &error));
  EXPECT_THAT(error, HasSubstr("'-2ms'"));
  EXPECT_THAT(error, HasSubstr("'units_test_latency'"));
  EXPECT_THAT(error, HasSubstr("must not be negative"));
  // A refused value leaves the flag as it was.
  EXPECT_EQ(absl::GetFlag(FLAGS_units_test_latency).value(),
            absl::Microseconds(1500));
}

TEST(BandwidthFlag, ParsesAndReportsTheFlagAndValue) {
  absl::CommandLineFlag* flag =
      absl::FindCommandLineFlag("units_test_bandwidth");
  ASSERT_NE(flag, nullptr);
  EXPECT_EQ(flag->DefaultValue(), "unlimited");
  std::string error;
  ASSERT_TRUE(flag->ParseFrom("10mbit", &error)) << error;
  EXPECT_EQ(absl::GetFlag(FLAGS_units_test_bandwidth).value(),
            Bandwidth::BitsPerSecond(10'000'000));

  EXPECT_FALSE(flag->ParseFrom("-3mbit", &error));
  EXPECT_THAT(error, HasSubstr("'-3mbit'"));
  EXPECT_THAT(error, HasSubstr("'units_test_bandwidth'"));
  EXPECT_THAT(error, HasSubstr("bandwidth must be positive"));
  EXPECT_EQ(absl::GetFlag(FLAGS_units_test_bandwidth).value(),
            Bandwidth::BitsPerSecond(10'000'000));
}

}  // namespace
}  // namespace asyncwork::sim
