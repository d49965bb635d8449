#include "tools/process_usage.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "net/fd.h"

namespace asyncwork::tools {
namespace {

// The lines of a real /proc/self/status around the fields read.
constexpr char kStatus[] =
    "Name:\tsoak\n"
    "VmPeak:\t  123456 kB\n"
    "VmHWM:\t    5120 kB\n"
    "VmRSS:\t    4096 kB\n"
    "Threads:\t7\n"
    "SigQ:\t0/63432\n";

TEST(ParseProcStatus, ReadsRssPeakAndThreads) {
  absl::StatusOr<ProcessUsage> usage = ParseProcStatus(kStatus);
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_EQ(usage->rss_bytes, 4096 * 1024);
  EXPECT_EQ(usage->peak_rss_bytes, 5120 * 1024);
  EXPECT_EQ(usage->threads, 7);
  EXPECT_EQ(usage->open_fds, 0);
}

TEST(ParseProcStatus, RejectsAMissingOrMalformedField) {
  absl::StatusOr<ProcessUsage> no_hwm =
      ParseProcStatus("VmRSS:\t 4096 kB\nThreads:\t1\n");
  EXPECT_EQ(no_hwm.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_hwm.status().message().find("VmHWM"), std::string::npos);
  absl::StatusOr<ProcessUsage> no_unit =
      ParseProcStatus("VmRSS:\t 4096\nVmHWM:\t 4096 kB\nThreads:\t1\n");
  EXPECT_NE(no_unit.status().message().find("VmRSS"), std::string::npos);
  absl::StatusOr<ProcessUsage> no_threads =
      ParseProcStatus("VmRSS:\t 4096 kB\nVmHWM:\t 4096 kB\nThreads:\tx\n");
  EXPECT_NE(no_threads.status().message().find("Threads"), std::string::npos);
}

TEST(ParseProcStatus, DoesNotTakeAFieldForItsPrefix) {
  // "VmRSSx" is not "VmRSS".
  absl::StatusOr<ProcessUsage> usage =
      ParseProcStatus("VmRSSx:\t 1 kB\nVmHWM:\t 2 kB\nThreads:\t1\n");
  EXPECT_FALSE(usage.ok());
}

TEST(CountOpenFds, CountsDescriptorsAsTheyOpenAndClose) {
  absl::StatusOr<int> before = CountOpenFds();
  ASSERT_TRUE(before.ok()) << before.status();
  {
    absl::StatusOr<net::Fd> a =
        net::Fd::Adopt(open("/dev/null", O_RDONLY | O_CLOEXEC), "open");
    absl::StatusOr<net::Fd> b =
        net::Fd::Adopt(open("/dev/null", O_RDONLY | O_CLOEXEC), "open");
    ASSERT_TRUE(a.ok() && b.ok());
    absl::StatusOr<int> open_now = CountOpenFds();
    ASSERT_TRUE(open_now.ok());
    EXPECT_EQ(*open_now, *before + 2);
  }
  absl::StatusOr<int> after = CountOpenFds();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
}

TEST(CountOpenFds, AgreesWithProbingEachDescriptor) {
  // An independent count: every descriptor number that fcntl accepts. The
  // directory reader is closed again by then, so it must not be counted.
  int probed = 0;
  for (int fd = 0; fd < 65536; ++fd) {
    if (fcntl(fd, F_GETFD) != -1) ++probed;
  }
  absl::StatusOr<int> self = CountOpenFds("/proc/self/fd");
  absl::StatusOr<int> by_pid =
      CountOpenFds(absl::StrCat("/proc/", getpid(), "/fd"));
  ASSERT_TRUE(self.ok() && by_pid.ok());
  EXPECT_EQ(*self, probed);
  EXPECT_EQ(*by_pid, probed);
}

TEST(CountOpenFds, NamesTheDirectoryItCannotRead) {
  absl::StatusOr<int> count = CountOpenFds("/nonexistent/fd");
  EXPECT_FALSE(count.ok());
  EXPECT_NE(count.status().message().find("/nonexistent/fd"),
            std::string::npos);
}

TEST(ReadProcessUsage, SamplesThisProcess) {
  absl::StatusOr<ProcessUsage> usage = ReadProcessUsage();
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_GT(usage->rss_bytes, 0);
  EXPECT_GE(usage->peak_rss_bytes, usage->rss_bytes);
  EXPECT_GE(usage->threads, 1);
  absl::StatusOr<int> fds = CountOpenFds();
  ASSERT_TRUE(fds.ok());
  EXPECT_EQ(usage->open_fds, *fds);
}

TEST(FormatBytes, PicksABinaryPrefix) {
  EXPECT_EQ(FormatBytes(812), "812 B");
  EXPECT_EQ(FormatBytes(3584), "3.5 KiB");
  EXPECT_EQ(FormatBytes(int64_t{45} * 1024 * 1024 + 200 * 1024), "45.2 MiB");
  EXPECT_EQ(FormatBytes(int64_t{3} << 30), "3.0 GiB");
}

}  // namespace
}  // namespace asyncwork::tools
