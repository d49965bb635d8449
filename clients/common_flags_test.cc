#include "clients/common_flags.h"

#include <functional>
#include <limits>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "clients/run_config.h"
#include "framing/work_message.h"
#include "gtest/gtest.h"
#include "net/address.h"
#include "sim/fault.h"
#include "sim/units.h"

namespace asyncwork::clients {
namespace {

TEST(ClientOptions, DefaultsAreValid) {
  EXPECT_TRUE(ValidateClientOptions(ClientOptions()).ok());
}

TEST(ClientOptions, FlagDefaultsMatchTheStruct) {
  absl::FlagSaver saver;
  ClientOptions read = ReadClientFlags();
  ClientOptions defaults;
  EXPECT_EQ(read.server, defaults.server);
  EXPECT_EQ(read.requests, defaults.requests);
  EXPECT_EQ(read.in_flight, defaults.in_flight);
  EXPECT_EQ(read.op, defaults.op);
  EXPECT_EQ(read.deadline, defaults.deadline);
  EXPECT_EQ(read.rate, defaults.rate);
  EXPECT_EQ(read.fault, defaults.fault);
}

TEST(ClientOptions, EachBadValueIsRefusedNamingFlagAndValue) {
  const struct {
    std::function<void(ClientOptions&)> spoil;
    const char* expected;
  } kCases[] = {
      {[](ClientOptions& o) { o.requests = 0; }, "--requests=0: "},
      {[](ClientOptions& o) { o.duration = absl::Seconds(-1); },
       "--duration=-1s: "},
      {[](ClientOptions& o) { o.in_flight = 0; }, "--in_flight=0: "},
      {[](ClientOptions& o) { o.connections = -3; }, "--connections=-3: "},
      {[](ClientOptions& o) { o.max_threads = 0; }, "--max_threads=0: "},
      {[](ClientOptions& o) { o.server = "127.0.0.1"; },
       "--server=127.0.0.1: "},
      {[](ClientOptions& o) { o.server = "udp://127.0.0.1:9"; },
       "--server=udp://127.0.0.1:9: "},
      {[](ClientOptions& o) { o.poll_interval = absl::Seconds(-1); },
       "--poll_interval=-1s: "},
      {[](ClientOptions& o) { o.op = "ECHO"; }, "--op=ECHO: "},
      {[](ClientOptions& o) { o.size = ClientOptions::kMaxSize + 1; },
       "--size=16777201: "},
      {[](ClientOptions& o) { o.arg = int64_t{1} << 32; },
       "--arg=4294967296: "},
      {[](ClientOptions& o) { o.latency = absl::Milliseconds(-2); },
       "--latency=-2ms: "},
      {[](ClientOptions& o) { o.deadline = absl::ZeroDuration(); },
       "--deadline=0: "},
      {[](ClientOptions& o) { o.deadline = absl::InfiniteDuration(); },
       "--deadline=inf: "},
      {[](ClientOptions& o) { o.rate = -5; }, "--rate=-5: "},
      {[](ClientOptions& o) {
         o.rate = std::numeric_limits<double>::infinity();
       },
       "--rate=inf: "},
      {[](ClientOptions& o) { o.fault = "slice=0"; }, "--fault=slice=0: "},
  };
  for (const auto& c : kCases) {
    ClientOptions options;
    c.spoil(options);
    absl::Status status = ValidateClientOptions(options);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.expected;
    EXPECT_TRUE(absl::StartsWith(status.message(), c.expected))
        << status.message();
  }
}

TEST(ClientOptions, ReportsEveryBadValueAtOnce) {
  ClientOptions options;
  options.in_flight = 0;
  options.op = "fold";
  absl::Status status = ValidateClientOptions(options);
  EXPECT_TRUE(absl::StrContains(status.message(), "--in_flight=0"));
  EXPECT_TRUE(absl::StrContains(status.message(), "; --op=fold"));
}

TEST(ClientOptions, DurationReplacesTheRequestCount) {
  ClientOptions options;
  options.requests = 0;
  options.duration = absl::Seconds(5);
  EXPECT_TRUE(ValidateClientOptions(options).ok());
}

TEST(ClientOptions, EdgesOfEachRangeAreAccepted) {
  ClientOptions options;
  options.size = ClientOptions::kMaxSize;
  options.arg = std::numeric_limits<uint32_t>::max();
  options.in_flight = ClientOptions::kMaxInFlight;
  options.connections = ClientOptions::kMaxConnections;
  options.rate = 0.5;
  options.op = "sleep";
  EXPECT_TRUE(ValidateClientOptions(options).ok());
  options.size = 0;
  options.arg = 0;
  options.in_flight = 1;
  options.connections = 1;
  EXPECT_TRUE(ValidateClientOptions(options).ok());
}

TEST(ParseOp, MapsEachNameToItsOp) {
  EXPECT_EQ(*ParseOp("echo"), framing::Op::kEcho);
  EXPECT_EQ(*ParseOp("reverse"), framing::Op::kReverse);
  EXPECT_EQ(*ParseOp("hash"), framing::Op::kHash);
  EXPECT_EQ(*ParseOp("sleep"), framing::Op::kSleep);
  EXPECT_FALSE(ParseOp("SLEEP").ok());
}

TEST(ParseServer, AcceptsStreamAddressesOnly) {
  EXPECT_TRUE(ParseServer("127.0.0.1:7000").ok());
  EXPECT_TRUE(ParseServer("unix:/tmp/x.sock").ok());
  EXPECT_FALSE(ParseServer("unixgram:/tmp/x.sock").ok());
  EXPECT_FALSE(ParseServer("").ok());
}

TEST(MakeRunConfig, CarriesEveryOptionAndShapesOnlyWhenAsked) {
  ClientOptions options;
  options.requests = 12;
  options.in_flight = 3;
  options.connections = 2;
  options.max_threads = 5;
  options.op = "reverse";
  options.size = 33;
  options.arg = 4;
  options.seed = 8;
  options.deadline = absl::Seconds(3);
  options.rate = 50;
  absl::StatusOr<net::Address> server = ParseServer("127.0.0.1:7000");
  ASSERT_TRUE(server.ok());
  RunConfig config = MakeRunConfig(options, *server);
  EXPECT_EQ(config.server, *server);
  EXPECT_EQ(config.requests, 12u);
  EXPECT_EQ(config.in_flight, 3);
  EXPECT_EQ(config.connections, 2);
  EXPECT_EQ(config.max_threads, 5);
  EXPECT_EQ(config.op, framing::Op::kReverse);
  EXPECT_EQ(config.size, 33u);
  EXPECT_EQ(config.arg, 4u);
  EXPECT_EQ(config.seed, 8u);
  EXPECT_EQ(config.deadline, absl::Seconds(3));
  EXPECT_EQ(config.rate, 50);
  EXPECT_FALSE(config.shaped);
  EXPECT_FALSE(sim::HasFaults(config.faults));
  EXPECT_TRUE(ValidateRunConfig(config).ok());

  options.fault = "reset_after=100,every=4";
  config = MakeRunConfig(options, *server);
  EXPECT_FALSE(config.shaped);
  EXPECT_EQ(config.faults.reset_after_bytes, 100u);
  EXPECT_EQ(config.faults.every_nth_connection, 4);

  options.latency = absl::Milliseconds(20);
  config = MakeRunConfig(options, *server);
  EXPECT_TRUE(config.shaped);
  EXPECT_EQ(config.link.client_to_server.latency, absl::Milliseconds(20));
  EXPECT_EQ(config.link.server_to_client.latency, absl::Milliseconds(20));
  EXPECT_FALSE(config.link.server_to_client.bandwidth.has_value());
}

TEST(ValidateRunConfig, RejectsAnInvalidFaultPlan) {
  absl::StatusOr<net::Address> server = ParseServer("127.0.0.1:7000");
  ASSERT_TRUE(server.ok());
  RunConfig config = MakeRunConfig(ClientOptions(), *server);
  config.faults.close_after_bytes = 10;
  EXPECT_TRUE(ValidateRunConfig(config).ok());
  config.faults.reset_after_bytes = 10;  // two byte faults at once
  absl::Status status = ValidateRunConfig(config);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("faults"), std::string::npos) << status;
}

TEST(ValidateOp, AcceptsTheFourOperations) {
  for (const char* op : {"echo", "reverse", "hash", "sleep"}) {
    EXPECT_TRUE(ValidateOp(op).ok()) << op;
  }
  EXPECT_FALSE(ValidateOp("").ok());
  EXPECT_FALSE(ValidateOp("echo ").ok());
}

TEST(ClientOptionsFromFlags, ReadsEveryFlag) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_server, "127.0.0.1:9000");
  absl::SetFlag(&FLAGS_requests, 77);
  absl::SetFlag(&FLAGS_duration, absl::Seconds(3));
  absl::SetFlag(&FLAGS_in_flight, 5);
  absl::SetFlag(&FLAGS_connections, 2);
  absl::SetFlag(&FLAGS_op, "hash");
  absl::SetFlag(&FLAGS_size, 1024);
  absl::SetFlag(&FLAGS_arg, 9);
  absl::SetFlag(&FLAGS_max_threads, 7);
  absl::SetFlag(&FLAGS_latency, sim::LatencyFlag(absl::Milliseconds(5)));
  absl::SetFlag(&FLAGS_bandwidth,
                sim::BandwidthFlag(sim::Bandwidth::BitsPerSecond(10000000)));
  absl::SetFlag(&FLAGS_poll_interval, absl::Microseconds(50));
  absl::SetFlag(&FLAGS_seed, uint64_t{42});
  absl::SetFlag(&FLAGS_json, true);
  absl::SetFlag(&FLAGS_deadline, absl::Seconds(2));
  absl::SetFlag(&FLAGS_rate, 250.0);
  absl::SetFlag(&FLAGS_fault, "slice=2");
  absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags();
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->server, "127.0.0.1:9000");
  EXPECT_EQ(options->requests, 77);
  EXPECT_EQ(options->duration, absl::Seconds(3));
  EXPECT_EQ(options->in_flight, 5);
  EXPECT_EQ(options->connections, 2);
  EXPECT_EQ(options->op, "hash");
  EXPECT_EQ(options->size, 1024);
  EXPECT_EQ(options->arg, 9);
  EXPECT_EQ(options->latency, absl::Milliseconds(5));
  EXPECT_EQ(options->max_threads, 7);
  EXPECT_EQ(options->bandwidth, sim::Bandwidth::BitsPerSecond(10000000));
  EXPECT_EQ(options->poll_interval, absl::Microseconds(50));
  EXPECT_EQ(options->seed, 42u);
  EXPECT_TRUE(options->json);
  EXPECT_EQ(options->deadline, absl::Seconds(2));
  EXPECT_EQ(options->rate, 250.0);
  EXPECT_EQ(options->fault, "slice=2");
}

TEST(ClientOptionsFromFlags, RefusesABadFlag) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_connections, 0);
  absl::StatusOr<ClientOptions> options = ClientOptionsFromFlags();
  ASSERT_FALSE(options.ok());
  EXPECT_TRUE(absl::StrContains(options.status().message(), "--connections=0"));
}

}  // namespace
}  // namespace asyncwork::clients
