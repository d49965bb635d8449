#include "server/log_capture.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "net/check.h"

namespace asyncwork::server::testing {

LogCapture::LogCapture() {
  absl::StatusOr<net::Fd> file =
      net::Fd::Adopt(::memfd_create("log_capture", MFD_CLOEXEC), "memfd_create");
  ASYNCWORK_CHECK(file.ok()) << file.status();
  file_ = std::move(*file);
  absl::StatusOr<net::Fd> saved =
      net::Fd::Adopt(::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3), "fcntl");
  ASYNCWORK_CHECK(saved.ok()) << saved.status();
  saved_ = std::move(*saved);
  ASYNCWORK_CHECK(::dup2(file_.get(), STDERR_FILENO) == STDERR_FILENO)
      << "dup2 onto stderr failed";
}

LogCapture::~LogCapture() {
  ::dup2(saved_.get(), STDERR_FILENO);
  std::string text = Text();
  for (size_t done = 0; done < text.size();) {
    ssize_t wrote = ::write(STDERR_FILENO, text.data() + done, text.size() - done);
    if (wrote <= 0) break;
    done += static_cast<size_t>(wrote);
  }
}

std::string LogCapture::Text() const {
  struct stat info;
  if (::fstat(file_.get(), &info) != 0) return "";
  std::string text(static_cast<size_t>(info.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t read = ::pread(file_.get(), text.data() + got, text.size() - got,
                           static_cast<off_t>(got));
    if (read <= 0) break;
    got += static_cast<size_t>(read);
  }
  text.resize(got);
  return text;
}

bool LogCapture::WaitFor(absl::string_view needle, absl::Time deadline) const {
  while (true) {
    if (absl::StrContains(Text(), needle)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

}  // namespace asyncwork::server::testing
