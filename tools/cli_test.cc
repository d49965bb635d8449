#include "tools/cli.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace asyncwork::tools {
namespace {

std::string Cwd() { return std::filesystem::current_path().string(); }

TEST(RunFromInvocationDirectory, MovesToBazelsWorkingDirectory) {
  const std::string before = Cwd();
  const std::string target =
      std::filesystem::canonical(std::getenv("TEST_TMPDIR")).string();
  ASSERT_NE(before, target);
  ASSERT_EQ(::setenv("BUILD_WORKING_DIRECTORY", target.c_str(), 1), 0);
  EXPECT_TRUE(RunFromInvocationDirectory().ok());
  EXPECT_EQ(Cwd(), target);
  std::filesystem::current_path(before);
}

TEST(RunFromInvocationDirectory, StaysWithoutTheVariable) {
  const std::string before = Cwd();
  ASSERT_EQ(::unsetenv("BUILD_WORKING_DIRECTORY"), 0);
  EXPECT_TRUE(RunFromInvocationDirectory().ok());
  EXPECT_EQ(Cwd(), before);
}

TEST(RunFromInvocationDirectory, ReportsAMissingDirectory) {
  const std::string before = Cwd();
  ASSERT_EQ(::setenv("BUILD_WORKING_DIRECTORY", "/no/such/dir", 1), 0);
  const absl::Status s = RunFromInvocationDirectory();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("chdir /no/such/dir"), absl::string_view::npos);
  EXPECT_EQ(Cwd(), before);
  ::unsetenv("BUILD_WORKING_DIRECTORY");
}

}  // namespace
}  // namespace asyncwork::tools
