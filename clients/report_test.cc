#include "clients/report.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "net/fd.h"

namespace asyncwork::clients {
namespace {

// JsonScalar is one leaf of a parsed JSON document; objects and arrays
// appear as kContainer so that even empty ones can be found by path.
struct JsonScalar {
  enum Kind { kNumber, kString, kBool, kNull, kContainer };
  explicit JsonScalar(Kind k) : kind(k) {}
  Kind kind;
  double number = 0;
  std::string text;
};
using FlatJson = std::map<std::string, JsonScalar>;

// JsonFlattener is a strict little JSON parser that flattens a document to
// paths: {"a":{"b":1},"c":[true]} gives "a", "a.b", "c", "c[0]". Any syntax
// error, a duplicate key or trailing text makes Parse return nothing.
class JsonFlattener {
 public:
  static std::optional<FlatJson> Parse(absl::string_view json) {
    JsonFlattener parser(json);
    if (!parser.Value("")) return std::nullopt;
    parser.SkipSpace();
    if (parser.pos_ != json.size()) return std::nullopt;
    return std::move(parser.out_);
  }

 private:
  explicit JsonFlattener(absl::string_view json) : json_(json) {}

  void SkipSpace() {
    while (pos_ < json_.size() && absl::string_view(" \t\r\n").find(
                                      json_[pos_]) != absl::string_view::npos) {
      ++pos_;
    }
  }
  bool Eat(char c) {
    SkipSpace();
    if (pos_ < json_.size() && json_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Put(const std::string& path, JsonScalar scalar) {
    return out_.emplace(path, std::move(scalar)).second;
  }

  bool Value(const std::string& path) {
    SkipSpace();
    if (pos_ >= json_.size()) return false;
    char c = json_[pos_];
    if (c == '{') return Object(path);
    if (c == '[') return Array(path);
    if (c == '"') {
      JsonScalar s(JsonScalar::kString);
      return String(&s.text) && Put(path, s);
    }
    for (absl::string_view word : {"true", "false", "null"}) {
      if (absl::StartsWith(json_.substr(pos_), word)) {
        pos_ += word.size();
        JsonScalar s(word == "null" ? JsonScalar::kNull : JsonScalar::kBool);
        s.text = std::string(word);
        return Put(path, s);
      }
    }
    return Number(path);
  }

  bool Object(const std::string& path) {
    ++pos_;
    if (!Put(path, JsonScalar(JsonScalar::kContainer))) return false;
    if (Eat('}')) return true;
    do {
      std::string key;
      SkipSpace();
      if (!String(&key) || !Eat(':')) return false;
      if (!Value(path.empty() ? key : absl::StrCat(path, ".", key))) {
        return false;
      }
    } while (Eat(','));
    return Eat('}');
  }

  bool Array(const std::string& path) {
    ++pos_;
    if (!Put(path, JsonScalar(JsonScalar::kContainer))) return false;
    if (Eat(']')) return true;
    int index = 0;
    do {
      if (!Value(absl::StrCat(path, "[", index++, "]"))) return false;
    } while (Eat(','));
    return Eat(']');
  }

  bool String(std::string* out) {
    if (pos_ >= json_.size() || json_[pos_] != '"') return false;
    ++pos_;
    while (pos_ < json_.size()) {
      unsigned char c = json_[pos_++];
      if (c == '"') return true;
      if (c < 0x20) return false;  // control characters must be escaped
      if (c != '\\') {
        *out += static_cast<char>(c);
        continue;
      }
      if (pos_ >= json_.size()) return false;
      char e = json_[pos_++];
      const char* simple = std::strchr("\"\\/bfnrt", e);
      if (e != '\0' && simple != nullptr) {
        *out += "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
      } else if (e == 'u' && pos_ + 4 <= json_.size()) {
        std::string hex(json_.substr(pos_, 4));
        char* end = nullptr;
        long code = std::strtol(hex.c_str(), &end, 16);
        if (end != hex.c_str() + 4 || code > 0x7f) return false;  // ASCII only
        *out += static_cast<char>(code);
        pos_ += 4;
      } else {
        return false;
      }
    }
    return false;
  }

  // Number accepts exactly JSON's grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
  bool Number(const std::string& path) {
    size_t start = pos_;
    auto digits = [this] {
      size_t from = pos_;
      while (pos_ < json_.size() && json_[pos_] >= '0' && json_[pos_] <= '9') {
        ++pos_;
      }
      return pos_ - from;
    };
    if (pos_ < json_.size() && json_[pos_] == '-') ++pos_;
    size_t first = pos_;
    size_t whole = digits();
    if (whole == 0 || (whole > 1 && json_[first] == '0')) return false;
    if (pos_ < json_.size() && json_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return false;
    }
    if (pos_ < json_.size() && (json_[pos_] == 'e' || json_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < json_.size() && (json_[pos_] == '+' || json_[pos_] == '-')) {
        ++pos_;
      }
      if (digits() == 0) return false;
    }
    JsonScalar s(JsonScalar::kNumber);
    s.text = std::string(json_.substr(start, pos_ - start));
    s.number = std::strtod(s.text.c_str(), nullptr);
    return Put(path, s);
  }

  absl::string_view json_;
  size_t pos_ = 0;
  FlatJson out_;
};

// SampleRun: 1000 requests answered in 1..1000 us, three failed, over 2 s of
// wall time and 50 ms of CPU.
RunStats SampleRun() {
  RunStats stats;
  stats.RecordStarted(1003);
  for (int us = 1; us <= 1000; ++us)
    stats.RecordCompleted(absl::Microseconds(us));
  stats.RecordFailed(17, FailureCause::kConnectionClosed,
                     "read: Connection reset by peer");
  stats.RecordFailed(20, FailureCause::kDeadlineExceeded);
  stats.RecordFailed(21, FailureCause::kDeadlineExceeded);
  stats.SetElapsed(absl::Seconds(2), absl::Milliseconds(50));
  return stats;
}

double Number(const FlatJson& json, const std::string& path) {
  auto it = json.find(path);
  if (it == json.end() || it->second.kind != JsonScalar::kNumber) {
    ADD_FAILURE() << "no number at " << path;
    return NAN;
  }
  return it->second.number;
}

TEST(JsonFlattener, RejectsWhatIsNotJson) {
  for (absl::string_view bad :
       {"{", "{\"a\":1,}", "{\"a\":nan}", "{\"a\":01}", "{\"a\":1} x",
        "{\"a\":1,\"a\":2}", "\"tab\there\"", "{\"a\":inf}"}) {
    EXPECT_FALSE(JsonFlattener::Parse(bad).has_value()) << bad;
  }
  EXPECT_TRUE(JsonFlattener::Parse("{\"a\":[1,-2.5e3,\"x\\n\"],\"b\":{}}"));
}

TEST(JsonQuote, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(internal::JsonQuote("a\"b\\c\nd\te\x01"),
            "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
  EXPECT_EQ(internal::JsonQuote(""), "\"\"");
}

TEST(FormatJson, CarriesTheKeysAndTheStatsNumbers) {
  RunStats stats = SampleRun();
  std::string text = FormatJson(stats, "callback");
  EXPECT_TRUE(absl::EndsWith(text, "}\n"));
  EXPECT_EQ(text.find('\n'), text.size() - 1) << "one line";
  std::optional<FlatJson> json = JsonFlattener::Parse(text);
  ASSERT_TRUE(json.has_value()) << text;
  EXPECT_EQ(json->at("strategy").text, "callback");
  EXPECT_NEAR(Number(*json, "work_per_s"), stats.WorkPerSecond(), 1e-3);
  EXPECT_EQ(Number(*json, "completed"), 1000);
  EXPECT_EQ(Number(*json, "errors"), 3);
  EXPECT_EQ(Number(*json, "started"), 1003);
  const struct {
    const char* key;
    double percentile;
  } kPercentiles[] = {{"p50_us", 50}, {"p99_us", 99}, {"p999_us", 99.9}};
  for (const auto& p : kPercentiles) {
    EXPECT_NEAR(Number(*json, p.key),
                absl::ToDoubleMicroseconds(
                    stats.latency().ValueAtPercentile(p.percentile)),
                1e-3)
        << p.key;
  }
  EXPECT_EQ(Number(*json, "max_us"), 1000);
  EXPECT_NEAR(Number(*json, "mean_us"), 500.5, 1e-3);
  EXPECT_NEAR(Number(*json, "cpu_us_per_request"), 50, 1e-3);
  EXPECT_NEAR(Number(*json, "wall_s"), 2, 1e-9);
  EXPECT_NEAR(Number(*json, "cpu_s"), 0.05, 1e-9);
  for (FailureCause cause : AllFailureCauses()) {
    EXPECT_EQ(
        Number(*json, absl::StrCat("failed_by_cause.", FailureCauseKey(cause))),
        stats.failed(cause));
  }
  EXPECT_EQ(Number(*json, "first_failures[0].request"), 17);
  EXPECT_EQ(json->at("first_failures[0].cause").text, "connection_closed");
  EXPECT_EQ(json->at("first_failures[0].detail").text,
            "read: Connection reset by peer");
  EXPECT_EQ(json->at("first_failures[2].cause").text, "deadline_exceeded");
  EXPECT_EQ(json->count("first_failures[3]"), 0u);
}

TEST(FormatJson, EscapedDetailsSurviveTheRoundTrip) {
  RunStats stats;
  stats.RecordStarted();
  const std::string detail = "server said \"no\"\\ \n\tand \x02 stopped";
  stats.RecordFailed(5, FailureCause::kServerError, detail);
  std::optional<FlatJson> json = JsonFlattener::Parse(FormatJson(stats));
  ASSERT_TRUE(json.has_value());
  EXPECT_EQ(json->at("first_failures[0].detail").text, detail);
  EXPECT_EQ(json->count("strategy"), 0u);
}

TEST(FormatJson, EmptyRunIsStillValidJson) {
  std::optional<FlatJson> json = JsonFlattener::Parse(FormatJson(RunStats()));
  ASSERT_TRUE(json.has_value());
  for (const char* key :
       {"work_per_s", "completed", "errors", "p50_us", "p99_us", "p999_us",
        "cpu_us_per_request", "max_us", "wall_s"}) {
    EXPECT_EQ(Number(*json, key), 0) << key;
  }
  EXPECT_EQ(json->at("first_failures").kind, JsonScalar::kContainer);
}

TEST(FormatSummary, ShowsRateLatenciesCpuAndFailures) {
  std::string text = FormatSummary(SampleRun(), "pipelined");
  EXPECT_TRUE(absl::StartsWith(
      text, "pipelined: 1000 completed, 3 failed of 1003 started in 2.000 s\n"))
      << text;
  EXPECT_TRUE(absl::StrContains(text, "work per second: 500.0\n")) << text;
  EXPECT_TRUE(absl::StrContains(text, "p50 500.")) << text;
  EXPECT_TRUE(absl::StrContains(text, "max 1.00 ms")) << text;
  EXPECT_TRUE(absl::StrContains(text, "cpu per request: 50.0 us")) << text;
  EXPECT_TRUE(absl::StrContains(
      text, "failed by cause: connection closed 1, deadline exceeded 2\n"))
      << text;
  EXPECT_TRUE(absl::StrContains(
      text,
      "  request 17: connection closed (read: Connection reset by peer)\n"
      "  request 20: deadline exceeded\n"))
      << text;
  EXPECT_FALSE(absl::StrContains(text, "in flight")) << text;
}

TEST(FormatSummary, QuietAboutFailuresWhenNoneFailed) {
  RunStats stats;
  stats.RecordStarted();
  stats.RecordCompleted(absl::Milliseconds(3));
  stats.SetElapsed(absl::Seconds(1), absl::Milliseconds(1));
  std::string text = FormatSummary(stats, "blocking");
  EXPECT_TRUE(absl::StrContains(text, "1 completed, 0 failed")) << text;
  EXPECT_FALSE(absl::StrContains(text, "failed by cause")) << text;
  EXPECT_FALSE(absl::StrContains(text, "first failures")) << text;
  EXPECT_TRUE(absl::StrContains(text, "p99 3.00 ms")) << text;
}

TEST(FormatSummary, ShowsRequestsStillInFlight) {
  RunStats stats;
  stats.RecordStarted(4);
  stats.RecordCompleted(absl::Milliseconds(1));
  std::string text = FormatSummary(stats, "polling");
  EXPECT_TRUE(absl::StrContains(text, "still in flight: 3\n")) << text;
}

TEST(FormatSummary, SaysHowManyFailuresWereNotListed) {
  RunStats stats;
  const uint64_t total = RunStats::kKeptFailures + 4;
  stats.RecordStarted(total);
  for (uint64_t id = 0; id < total; ++id) {
    stats.RecordFailed(id, FailureCause::kConnectionRefused);
  }
  std::string text = FormatSummary(stats, "threaded");
  EXPECT_TRUE(absl::StrContains(text, "no request completed")) << text;
  EXPECT_TRUE(absl::StrContains(text, "  ... and 4 more\n")) << text;
}

// ReadAll drains the read end of a pipe whose write end is closed.
std::string ReadAll(int fd) {
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, n);
  return out;
}

TEST(ProgressLine, WritesNothingWhenNotATerminal) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  net::Fd read_end(fds[0]);
  net::Fd write_end(fds[1]);
  const absl::Time start = absl::Now();
  {
    ProgressLine progress(write_end.get(), start);
    EXPECT_FALSE(progress.enabled());
    for (int i = 1; i <= 10; ++i) {
      progress.Update(i * 100, 0, 4, start + absl::Seconds(i));
    }
    progress.Finish();
  }
  write_end.Close();
  EXPECT_EQ(ReadAll(read_end.get()), "");
}

// ReadUntil reads the pty's master side until `marker` arrives or a generous
// deadline passes: the tty layer hands bytes over asynchronously.
std::string ReadUntil(int fd, absl::string_view marker) {
  std::string out;
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!absl::StrContains(out, marker) && absl::Now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, n);
  }
  return out;
}

TEST(ProgressLine, DrawsOnATerminalAtMostOncePerInterval) {
  absl::StatusOr<net::Fd> master = net::Fd::Adopt(
      ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), "posix_openpt");
  ASSERT_TRUE(master.ok()) << master.status();
  ASSERT_EQ(::grantpt(master->get()), 0);
  ASSERT_EQ(::unlockpt(master->get()), 0);
  char name[64];
  ASSERT_EQ(::ptsname_r(master->get(), name, sizeof name), 0);
  absl::StatusOr<net::Fd> terminal =
      net::Fd::Adopt(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC), "open");
  ASSERT_TRUE(terminal.ok()) << terminal.status();
  termios raw;
  ASSERT_EQ(::tcgetattr(terminal->get(), &raw), 0);
  ::cfmakeraw(&raw);
  ASSERT_EQ(::tcsetattr(terminal->get(), TCSANOW, &raw), 0);

  const absl::Time start = absl::Now();
  ProgressLine progress(terminal->get(), start);
  EXPECT_TRUE(progress.enabled());
  progress.Update(100, 0, 16, start + absl::Milliseconds(50));  // too soon
  progress.Update(1000, 0, 16, start + absl::Milliseconds(150));
  progress.Update(1200, 0, 16, start + absl::Milliseconds(200));  // too soon
  progress.Update(2500, 2, 8, start + absl::Milliseconds(300));
  progress.Finish();
  progress.Update(9000, 2, 0, start + absl::Seconds(5));  // after Finish
  ASSERT_EQ(::write(terminal->get(), "END", 3), 3);

  std::string seen = ReadUntil(master->get(), "END");
  // 1000 in the first 150 ms, then 1500 in the next 150 ms.
  EXPECT_EQ(seen,
            "\r1000 completed  6667/s  16 in flight\x1b[K"
            "\r2500 completed  10000/s  8 in flight  2 failed\x1b[K"
            "\r\x1b[K"
            "END");
}

}  // namespace
}  // namespace asyncwork::clients
