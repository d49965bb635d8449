// plot: draws the results as a self-contained HTML page with SVG charts.
//
//   tools/bazel run //tools:plot -- results.json -o report.html
//   tools/bazel run //tools:plot -- a.json b.json --output=report.html
//       --title="epoll server, 10 ms link"
//
// Inputs are Google Benchmark JSON from //benchmarks:strategies or the native
// {"results": [...]} format (tools/result_points.h). Exit codes: 0 written,
// 1 an input could not be read or the output written, 2 usage error.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "tools/cli.h"
#include "tools/plot_lib.h"

ABSL_FLAG(std::string, o, "", "the HTML file to write (same as --output)");
ABSL_FLAG(std::string, output, "", "the HTML file to write");
ABSL_FLAG(std::string, title, "", "the page's title");

namespace {

constexpr int kExitUsage = 2;
constexpr char kUsage[] =
    "usage: plot RESULTS.json [MORE.json ...] -o REPORT.html [--title=TEXT]";

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      absl::StrCat("draws benchmark results as an HTML page.\n", kUsage));
  const std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (absl::Status s = asyncwork::tools::RunFromInvocationDirectory();
      !s.ok()) {
    std::cerr << "plot: " << s.message() << "\n";
    return kExitUsage;
  }
  const std::string o = absl::GetFlag(FLAGS_o);
  const std::string output = absl::GetFlag(FLAGS_output);
  if (o.empty() && output.empty()) {
    std::cerr << "plot: -o/--output is required\n" << kUsage << "\n";
    return kExitUsage;
  }
  if (!o.empty() && !output.empty() && o != output) {
    std::cerr << "plot: -o and --output name different files\n";
    return kExitUsage;
  }
  if (args.size() < 2) {
    std::cerr << "plot: no input file\n" << kUsage << "\n";
    return kExitUsage;
  }
  asyncwork::tools::PlotOptions options;
  if (!absl::GetFlag(FLAGS_title).empty()) {
    options.title = absl::GetFlag(FLAGS_title);
  }
  const std::vector<std::string> inputs(args.begin() + 1, args.end());
  return asyncwork::tools::RunPlot(inputs, o.empty() ? output : o, options,
                                   std::cerr);
}
