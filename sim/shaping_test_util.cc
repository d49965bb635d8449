#include "sim/shaping_test_util.h"

#include <vector>

#include "absl/types/span.h"
#include "net/blocking_io.h"
#include "net/check.h"

namespace asyncwork::sim::testing {

std::string Pattern(size_t size, uint64_t seed) {
  std::string bytes(size, '\0');
  // An xorshift stream: cheap, and no two nearby positions alike.
  uint64_t state = seed * 0x9e3779b97f4a7c15ull + 1;
  for (size_t i = 0; i < size; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    bytes[i] = static_cast<char>(state);
  }
  return bytes;
}

absl::Status ReadToEnd(net::Socket& socket, absl::Time deadline,
                       std::string* got) {
  char buffer[4096];
  while (true) {
    absl::StatusOr<size_t> read =
        net::ReadSome(socket, absl::MakeSpan(buffer), deadline);
    if (!read.ok()) return read.status();
    if (*read == 0) return absl::OkStatus();
    got->append(buffer, *read);
  }
}

FaultPlan PlanOrDie(absl::string_view spec) {
  absl::StatusOr<FaultPlan> plan = ParseFaultPlan(spec);
  ASYNCWORK_CHECK(plan.ok()) << plan.status();
  return *plan;
}

Drained Drain(net::Socket& socket) {
  Drained drained;
  char buffer[64 * 1024];
  while (true) {
    absl::StatusOr<net::IoResult> read = socket.Read(absl::MakeSpan(buffer));
    if (!read.ok()) {
      drained.error = read.status();
      return drained;
    }
    if (read->would_block) return drained;
    if (read->eof) {
      drained.eof = true;
      return drained;
    }
    drained.bytes.append(buffer, read->bytes);
  }
}

std::vector<std::string> DrainDatagrams(net::Socket& socket) {
  std::vector<std::string> datagrams;
  std::vector<char> buffer(256 * 1024);
  while (true) {
    absl::StatusOr<net::IoResult> read = socket.Read(absl::MakeSpan(buffer));
    if (!read.ok() || read->would_block) return datagrams;
    datagrams.emplace_back(buffer.data(), read->bytes);
  }
}

void WriteSome(net::Socket& socket, absl::string_view data, size_t* offset) {
  while (*offset < data.size()) {
    absl::StatusOr<net::IoResult> written = socket.Write(data.substr(*offset));
    ASYNCWORK_CHECK(written.ok()) << written.status().ToString();
    if (written->would_block) return;
    *offset += written->bytes;
  }
}

std::string Timestamp(absl::Time time) {
  uint64_t nanos = static_cast<uint64_t>(absl::ToUnixNanos(time));
  std::string bytes(kTimestampBytes, '\0');
  for (size_t i = 0; i < kTimestampBytes; ++i) {
    bytes[i] = static_cast<char>(nanos >> (8 * (kTimestampBytes - 1 - i)));
  }
  return bytes;
}

absl::Time ReadTimestamp(absl::string_view bytes) {
  ASYNCWORK_CHECK(bytes.size() >= kTimestampBytes);
  uint64_t nanos = 0;
  for (size_t i = 0; i < kTimestampBytes; ++i) {
    nanos = (nanos << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return absl::FromUnixNanos(static_cast<int64_t>(nanos));
}

}  // namespace asyncwork::sim::testing
