// shaper: a latency and bandwidth shaping proxy for any TCP program.
//
//   tools/bazel run //tools:shaper -- --listen=127.0.0.1:0
//       --upstream=127.0.0.1:7000 --latency=50ms --bandwidth=10mbit
//   (one command line)
//
// With --fault it also breaks connections on purpose (sim/fault.h), e.g.
// --fault=close_after=4096,every=3 cuts every third connection after 4096
// bytes; --fault=stall_after=100 stalls every connection after 100 bytes.
//
// The first line on stdout is `listening on ADDRESS` (with the real port
// when --listen asked for port 0); then it serves, every connection on one
// reactor thread, until SIGINT or SIGTERM, and exits 0. A bad flag exits 2
// with a message naming the flag and its value. The work is done by
// sim::ShapingProxy (sim/shaping_proxy.h).
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "net/event_loop.h"
#include "net/fd.h"
#include "net/io_watch.h"
#include "net/log.h"
#include "sim/fault.h"
#include "sim/shaping_proxy.h"
#include "sim/units.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "address to accept connections on (port 0 picks a free port)");
ABSL_FLAG(std::string, upstream, "",
          "address to relay each connection to (required)");
ABSL_FLAG(asyncwork::sim::LatencyFlag, latency, {},
          "one-way latency added in each direction, e.g. 50ms");
ABSL_FLAG(asyncwork::sim::LatencyFlag, jitter, {},
          "extra delay per write, uniform in [0, jitter]; never reorders");
ABSL_FLAG(asyncwork::sim::BandwidthFlag, bandwidth, {},
          "rate cap in each direction, e.g. 10mbit or 1MiB (default "
          "unlimited)");
ABSL_FLAG(std::string, up_bandwidth, "",
          "rate cap from clients to upstream; overrides --bandwidth");
ABSL_FLAG(std::string, down_bandwidth, "",
          "rate cap from upstream to clients; overrides --bandwidth");
ABSL_FLAG(uint64_t, seed, 1, "seeds the jitter, so a run can be repeated");
ABSL_FLAG(std::string, fault, "none",
          "faults to inject, comma-separated key=value: close_after=N, "
          "reset_after=N or stall_after=N (bytes delivered, then close in "
          "order, reset, or deliver nothing more while staying open), "
          "slice=K (at most K bytes per write), connect_delay=D (hold a new "
          "connection for D, e.g. 50ms), every=M (fault only every Mth "
          "connection), direction=both|to_server|to_client (which bytes "
          "count and are sliced); e.g. close_after=4096,every=3");

namespace asyncwork {
namespace {

// Fail prints `status` and returns the exit code for it.
int Fail(const absl::Status& status, int code) {
  std::fprintf(stderr, "shaper: %s\n", std::string(status.message()).c_str());
  return code;
}

// BlockStopSignals blocks SIGINT and SIGTERM and returns a signalfd that
// reports them, so the loop sees them as readiness like any descriptor.
absl::StatusOr<net::Fd> BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) {
    return absl::ErrnoToStatus(errno, "sigprocmask");
  }
  return net::Fd::Adopt(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC),
                        "signalfd");
}

int Run() {
  sim::ShapingProxyFlags flags;
  flags.listen = absl::GetFlag(FLAGS_listen);
  flags.upstream = absl::GetFlag(FLAGS_upstream);
  flags.latency = absl::GetFlag(FLAGS_latency).value();
  flags.jitter = absl::GetFlag(FLAGS_jitter).value();
  flags.bandwidth = absl::GetFlag(FLAGS_bandwidth).value();
  flags.up_bandwidth = absl::GetFlag(FLAGS_up_bandwidth);
  flags.down_bandwidth = absl::GetFlag(FLAGS_down_bandwidth);
  flags.seed = absl::GetFlag(FLAGS_seed);
  flags.fault = absl::GetFlag(FLAGS_fault);
  absl::StatusOr<sim::ShapingProxyOptions> options =
      sim::ParseShapingProxyFlags(flags);
  if (!options.ok()) return Fail(options.status(), 2);

  // Blocked before any thread exists, so no thread receives them instead.
  absl::StatusOr<net::Fd> signals = BlockStopSignals();
  if (!signals.ok()) return Fail(signals.status(), 1);
  absl::StatusOr<std::unique_ptr<net::EventLoop>> loop =
      net::EventLoop::Create();
  if (!loop.ok()) return Fail(loop.status(), 1);
  absl::StatusOr<std::unique_ptr<sim::ShapingProxy>> proxy =
      sim::ShapingProxy::Create(loop->get(), *options);
  if (!proxy.ok()) return Fail(proxy.status(), 1);

  net::IoWatch signal_watch(loop->get(), signals->get(), [&](uint32_t) {
    struct signalfd_siginfo info;
    if (::read(signals->get(), &info, sizeof(info)) == sizeof(info)) {
      net::LogInfo(absl::StrCat("shaper: signal ", info.ssi_signo,
                                ", stopping"));
    }
    (*loop)->Stop();
  });
  if (absl::Status watched = signal_watch.EnableReading(); !watched.ok()) {
    return Fail(watched, 1);
  }

  std::printf("listening on %s\n",
              (*proxy)->local_address().ToString().c_str());
  std::fflush(stdout);
  const sim::LinkProfile& profile = options->profile;
  net::LogInfo(absl::StrCat(
      "shaper: relaying to ", options->upstream.ToString(), "; latency ",
      sim::FormatLatency(profile.client_to_server.latency), ", jitter ",
      sim::FormatLatency(profile.client_to_server.jitter), ", up ",
      sim::FormatBandwidth(profile.client_to_server.bandwidth), ", down ",
      sim::FormatBandwidth(profile.server_to_client.bandwidth), "; faults ",
      sim::FaultPlanToString(options->faults)));
  (*loop)->Run();

  signal_watch.Stop();
  proxy->reset();
  return 0;
}

}  // namespace
}  // namespace asyncwork

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "shapes latency and bandwidth between TCP clients and a server, and "
      "injects faults:\n"
      "  shaper --listen=127.0.0.1:0 --upstream=127.0.0.1:7000 "
      "--latency=50ms --bandwidth=10mbit --fault=close_after=4096,every=3");
  absl::ParseCommandLine(argc, argv);
  return asyncwork::Run();
}
