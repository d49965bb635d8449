// cli.h: what the command-line tools' main() functions share.
//
//   int main(int argc, char** argv) {
//     std::vector<char*> args = absl::ParseCommandLine(argc, argv);
//     if (absl::Status s = RunFromInvocationDirectory(); !s.ok()) { ... }
//     // "results.json" now means the file where the user typed the command.
//   }
#ifndef ASYNCWORK_TOOLS_CLI_H_
#define ASYNCWORK_TOOLS_CLI_H_

#include "absl/status/status.h"

namespace asyncwork::tools {

// RunFromInvocationDirectory changes the working directory to the one
// `bazel run` was started from (Bazel passes it as BUILD_WORKING_DIRECTORY
// and starts the binary in its runfiles tree), so relative file names on the
// command line resolve as the user meant. Does nothing when the variable is
// unset. Call it from main() before any other thread starts.
absl::Status RunFromInvocationDirectory();

}  // namespace asyncwork::tools

#endif  // ASYNCWORK_TOOLS_CLI_H_
