// log_capture.h: LogCapture, for tests that check a server's log lines
// (testonly).
//
// While a LogCapture lives, whatever this process writes to stderr (fd 2)
// goes to an in-memory file instead, and so does what any child it forks
// meanwhile writes (the forking server's children log there too). When it
// is destroyed, fd 2 is restored and the captured text is copied to it, so
// the test log still shows every line.
//
//   LogCapture log;
//   ... make the server close a connection ...
//   EXPECT_TRUE(log.WaitFor("frame too large")) << log.Text();
//
// Threads: construct and destroy on one thread, with no other LogCapture
// alive; Text and WaitFor from any thread. A sanitizer report written while
// a capture is alive reaches the real stderr only if the capture ends.
#ifndef ASYNCWORK_SERVER_LOG_CAPTURE_H_
#define ASYNCWORK_SERVER_LOG_CAPTURE_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "net/fd.h"
#include "server/test_client.h"

namespace asyncwork::server::testing {

class LogCapture {
 public:
  // LogCapture redirects fd 2; a failure to do so aborts (the test could
  // not check its logs).
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  // Text is everything written to stderr since construction.
  std::string Text() const;

  // WaitFor returns true once Text() contains `needle`, false if `deadline`
  // passes first (log lines may follow the event a test saw by a moment).
  bool WaitFor(absl::string_view needle,
               absl::Time deadline = GenerousDeadline()) const;

 private:
  net::Fd file_;    // the in-memory file fd 2 points to meanwhile
  net::Fd saved_;   // the real stderr
};

}  // namespace asyncwork::server::testing

#endif  // ASYNCWORK_SERVER_LOG_CAPTURE_H_
