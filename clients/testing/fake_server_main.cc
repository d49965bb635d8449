// fake_server_main: runs the clients' FakeServer as a process, for the
// client binaries' own tests (testonly). Prints the address it listens on as
// one line, then serves until stdin closes or --serve_for passes.
//
//   fake_server_main --close_probability=0.1 > address.txt &
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "clients/testing/fake_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "address to listen on");
ABSL_FLAG(double, close_probability, 0,
          "chance per request of closing the connection instead");
ABSL_FLAG(bool, never_answer, false, "read requests and answer none");
ABSL_FLAG(absl::Duration, serve_for, absl::Seconds(60),
          "stop after this long even if stdin stays open");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  asyncwork::clients::testing::FakeServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.close_probability = absl::GetFlag(FLAGS_close_probability);
  options.never_answer = absl::GetFlag(FLAGS_never_answer);
  absl::StatusOr<std::unique_ptr<asyncwork::clients::testing::FakeServer>>
      server = asyncwork::clients::testing::FakeServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "fake_server_main: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", (*server)->address().ToString().c_str());
  std::fflush(stdout);
  // Serve until stdin reaches end of file (the test closed it or died) or
  // the time is up, whichever comes first.
  absl::Time end = absl::Now() + absl::GetFlag(FLAGS_serve_for);
  while (absl::Now() < end) {
    struct pollfd in = {STDIN_FILENO, POLLIN, 0};
    if (::poll(&in, 1, 100) > 0) {
      char byte;
      if (::read(STDIN_FILENO, &byte, 1) <= 0) break;
    }
  }
  (*server)->Stop();
  return 0;
}
