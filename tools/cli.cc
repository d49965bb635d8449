#include "tools/cli.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace asyncwork::tools {

absl::Status RunFromInvocationDirectory() {
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (dir == nullptr || *dir == '\0') return absl::OkStatus();
  if (::chdir(dir) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("chdir ", dir));
  }
  return absl::OkStatus();
}

}  // namespace asyncwork::tools
